"""Record history: a `RecordVersion` for every change of an existing archive row's values.

Two ways in, both inside the transaction of the write they describe:

- batches (`upsert_enterprises`, `upsert_licences`, `upsert_records`): `versions_for_rows` reads the stored rows of
  the batch's keys in bulk (one query per chunk, locked on PostgreSQL so the "before" is what the upsert
  overwrites), compares the update fields and returns the versions; `save` bulk-creates them;
- single writes (`save_enterprise`, `save_licence`, `save_record`): `record_single` diffs the audit snapshots
  the service already takes.

Lineage and derived columns (source, batch, row, file digest, seen/changed timestamps, pinyin initials, grades)
are never compared: an unchanged re-import writes no version.
"""

import datetime as dt
from decimal import Decimal

from django.db import models, router
from django.utils import timezone

from foodrisk.core import bulk, context
from foodrisk.core.fields import EncryptedTextField

from .models import RecordVersion

IGNORED = frozenset({"id", "source", "source_batch", "source_row", "file_digest", "first_seen_at", "last_seen_at",
                     "name_initials", "current_grade", "current_score", "graded_at",
                     "risk_labels"})
MASK = "***"
_MISSING = object()


def tracked_fields(model, names=None):
    """The compared fields: `names` (update fields) or every concrete field, lineage and derived ones left out."""
    if names is None:
        return [f for f in model._meta.concrete_fields if f.name not in IGNORED and not f.primary_key]
    get = model._meta.get_field
    return [get(n) for n in names if n not in IGNORED]


def _user_id(user):
    if user is None:
        user = context.current().user
    if isinstance(user, int):
        return user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _json(value):
    """A JSON value for `changes` (what a JSON column gives back)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return value


def _python(field, value):
    """The incoming value as the stored one would read back (dates parsed, decimals at the field's places, a
    model instance as its key)."""
    if value is None:
        return None
    if field.is_relation:
        if isinstance(value, models.Model):
            return getattr(value, field.target_field.attname)
        return field.target_field.to_python(value)
    if isinstance(field, models.DecimalField):
        value = field.to_python(value)
        return value.quantize(Decimal(1).scaleb(-field.decimal_places))
    if isinstance(field, models.JSONField | EncryptedTextField):
        return value
    return field.to_python(value)


def _row_value(row, field):
    """What the upsert stores for this field from this row (attname, then name, else the field default)."""
    value = row.get(field.attname, _MISSING)
    if value is _MISSING:
        value = row.get(field.name, _MISSING)
        if value is _MISSING:
            return field.get_default()
    return value


def _given(stored, key, incoming, attnames):
    """The caller's stored rows as _stored returns them (pk, key, *attnames), for the incoming keys only."""
    out = {}
    for k in incoming:
        rec = stored.get(k)
        if rec is not None:
            out[k] = (rec["id"], k, *[rec[a] for a in attnames])
    return out


def _stored(model, key, keys, attnames, using):
    """{key: stored values} of the existing rows among keys (bulk.rows_for_keys: PostgreSQL one query, rows locked
    in primary-key order; SQLite, which ignores the lock, one query per chunk)."""
    wanted = ["pk", key, *attnames]
    parts = bulk.rows_for_keys(model._default_manager.using(using), key, keys)
    return {rec[1]: rec for qs in parts
            for rec in qs.select_for_update(of=("self",)).order_by("pk").values_list(*wanted)}


def versions_for_rows(kind, model, key, rows, update_fields, *, source="", batch_id=None, user=None,
                      using=None, new_keys=(), stored=None):
    """The RecordVersions (value tuples for `save`) of the rows (as given to `bulk.upsert`) whose stored values
    differ in any update field. Call inside the upsert's transaction, before the upsert. Rows with new keys get
    none; a key given more than once counts with its last row (as the upsert does). new_keys: keys the caller
    has just found not stored (an import's first load), not looked up again. stored: {key: {attname: value,
    "id": pk}} of the stored rows the caller has read, locked, in this transaction (the ingest pipeline reads a
    chunk's rows once, to compare and as the history's before); None: read here."""
    fields = tracked_fields(model, update_fields)
    if not rows or not fields:
        return []
    using = using or router.db_for_write(model)
    incoming = {row[key]: row for row in rows}
    for k in new_keys:
        incoming.pop(k, None)
    if not incoming:
        return []
    attnames = [f.attname for f in fields]
    ent_field = None if kind == "enterprises" else model._meta.get_field("enterprise")
    ent_attr = ent_field and ent_field.attname
    if ent_attr and ent_attr not in attnames:
        attnames.append(ent_attr)
    stored = (_stored(model, key, list(incoming), attnames, using) if stored is None
              else _given(stored, key, incoming, attnames))
    if not stored:
        return []
    plan = [(i, f, f.attname, isinstance(f, EncryptedTextField)) for i, f in enumerate(fields, start=2)]
    user_id, now = _user_id(user), None
    out = []
    for k, old in stored.items():
        row = incoming[k]
        get = row.get
        changes = None
        for i, f, attname, masked in plan:
            before, after = old[i], get(attname, _MISSING)
            if after is _MISSING:
                after = _row_value(row, f)
            if type(before) is type(after) and before == after:  # the common case: same value, same type
                continue
            after = _python(f, after)
            if before == after:
                continue
            if changes is None:
                changes = {}
            if masked:
                changes[f.name] = {"before": MASK if before else "", "after": MASK if after else ""}
            else:
                changes[f.name] = {"before": _json(before), "after": _json(after)}
        if changes is None:
            continue
        if ent_attr is None:
            enterprise_id = old[0]
        else:
            enterprise_id = _python(ent_field, _row_value(row, ent_field)) or old[2 + attnames.index(ent_attr)]
        if now is None:
            now = timezone.now()
        out.append((kind, str(k)[:100], enterprise_id, changes, source or "", batch_id, row.get("source_row"),
                    now, user_id))
    return out


_COLUMNS = ("kind", "natural_key", "enterprise_id", "changes", "source", "source_batch", "source_row", "changed_at",
            "changed_by_id")


def save(versions, *, using=None):
    """Store the versions from `versions_for_rows` (value tuples in _COLUMNS order) with bulk.insert (COPY on
    PostgreSQL; `changes` dumped with the field's encoder). Call in the upsert's transaction."""
    return bulk.insert(RecordVersion, [dict(zip(_COLUMNS, v, strict=True)) for v in versions], using=using)


def record_single(kind, instance, before, after, *, user=None, old=None):
    """One RecordVersion from a single write's audit snapshots (attname → JSON value), or None when no tracked
    field changed (a create has no before and gets none). Encrypted fields are masked in snapshots: `old`, the
    stored instance, tells whether they changed."""
    if before is None:
        return None
    model = type(instance)
    changes = {}
    for f in tracked_fields(model):
        a, b = before.get(f.attname), after.get(f.attname)
        if isinstance(f, EncryptedTextField):
            if old is None or getattr(old, f.attname) == getattr(instance, f.attname):
                continue
            changes[f.name] = {"before": MASK if getattr(old, f.attname) else "",
                               "after": MASK if getattr(instance, f.attname) else ""}
            continue
        if a == b:
            continue
        if isinstance(f, models.DecimalField):  # 800 and 800.00 are the same amount: compare and show as stored
            a, b = (None if x is None else _json(_python(f, x)) for x in (a, b))
            if a == b:
                continue
        changes[f.name] = {"before": a, "after": b}
    if not changes:
        return None
    key = instance.uscc if kind == "enterprises" else instance.licence_no if kind == "licences" else getattr(
        instance, model.natural_key_field)
    enterprise_id = instance.pk if kind == "enterprises" else instance.enterprise_id
    return RecordVersion.objects.create(kind=kind, natural_key=str(key)[:100], enterprise_id=enterprise_id,
                                        changes=changes, changed_by_id=_user_id(user))  # an edit: no source


# ---------------------------------------------------------------------------------------------- display
def display_changes(model, changes):
    """[(label, before, after)] for a template: field verbose names, choice labels."""
    out = []
    for name, pair in changes.items():
        try:
            f = model._meta.get_field(name)
        except Exception:  # a field since removed: show its name
            out.append((name, pair.get("before"), pair.get("after")))
            continue
        choices = dict(f.flatchoices) if f.choices else {}
        before, after = pair.get("before"), pair.get("after")
        out.append((f.verbose_name, choices.get(before, before), choices.get(after, after)))
    return out


def versions_of(user, kind, natural_key, limit=200):
    return (RecordVersion.objects.restrict(user, "view").filter(kind=kind, natural_key=str(natural_key))
            .select_related("changed_by")[:limit])


def counts_for(user, enterprise):
    """{(kind, natural key): number of versions} of one enterprise's rows that the user may see."""
    from django.db.models import Count

    qs = (RecordVersion.objects.restrict(user, "view").filter(enterprise=enterprise).order_by()
          .values_list("kind", "natural_key").annotate(n=Count("id")))
    return {(kind, key): n for kind, key, n in qs}
