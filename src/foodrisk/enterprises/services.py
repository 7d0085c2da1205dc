"""Writes of enterprises and licences: single (UI/API) and batches (ingest)."""

import functools

from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext

from foodrisk.core import bulk
from foodrisk.core.events import records_changed
from foodrisk.core.services import audit, objects

from . import history
from .models import DataChange, Enterprise, Licence


def name_initials(name):
    """Pinyin initials for search: 杭州老王面馆 → hzlwmg (non-Chinese characters kept, lower-cased)."""
    from pypinyin import Style

    pys = _pinyin().lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(p[:1] for p in pys).lower()[:100]


@functools.cache
def _pinyin():
    """pypinyin's converter with a memory of the words it has converted: names are segmented into words
    that repeat (有限公司, 杭州, 食品…), and converting a word is the costly part (~20× on a city's import)."""
    from pypinyin.converter import DefaultConverter
    from pypinyin.core import Pinyin

    class RememberingConverter(DefaultConverter):
        def __init__(self):
            super().__init__()
            self.words = {}

        def convert(self, words, style, heteronym, errors, strict, **kwargs):
            key = (words, style, heteronym, errors, strict)
            pys = self.words.get(key) if not kwargs else None
            if pys is None:
                pys = super().convert(words, style, heteronym, errors, strict, **kwargs)
                if not kwargs and len(self.words) < 200_000:
                    self.words[key] = pys
            return [list(p) for p in pys]

    return Pinyin(RememberingConverter())


ENTERPRISE_FIELDS = [f.name for f in Enterprise._meta.concrete_fields
                     if f.name not in {"id", "first_seen_at", "current_grade", "current_score", "graded_at",
                                       "risk_labels"}]


def upsert_enterprises(rows, *, source="", batch_id=None, file_digest="", batch_size=2000, user=None,
                       new_keys=(), stored=None):
    """Insert or update by USCC. A changed name is kept in former_names (the caller passes the merged list).
    A stored enterprise whose values change gets a RecordVersion (user: who changed it, default the acting user)."""
    if not rows:
        return 0
    given = rows
    rows = [row if "name_initials" in row else {**row, "name_initials": name_initials(row["name"])} for row in rows]
    update_fields = [f for f in ENTERPRISE_FIELDS if f != "uscc" and any(f in row for row in rows[:1])] + [
        "name_initials", "source", "source_batch", "file_digest", "last_seen_at"]
    extra = {"source": source, "source_batch": batch_id, "file_digest": file_digest}
    update_fields = sorted(set(update_fields))
    with transaction.atomic():
        versions = history.versions_for_rows("enterprises", Enterprise, "uscc", rows, update_fields, source=source,
                                             batch_id=batch_id, user=user,
                                             new_keys=new_keys, stored=stored)
        written = bulk.upsert(Enterprise, rows, "uscc", update_fields, extra=extra, batch_size=batch_size,
                              new_keys=new_keys)
        history.save(versions)
        mark_data_changed(usccs=[row["uscc"] for row in rows])
        audit.record_bulk("enterprises.enterprise.upsert", "enterprises.enterprise",
                          given, exclude=("source_row", "legal_representative"),
                          details={"source": source, "batch": batch_id, "file_digest": file_digest})
    return written


def upsert_licences(rows, *, source="", batch_id=None, file_digest="", batch_size=2000, user=None,
                    new_keys=(), stored=None):
    if not rows:
        return 0
    update_fields = [f.name for f in Licence._meta.concrete_fields if f.name not in {"id", "first_seen_at",
                                                                                     "licence_no"}]
    with transaction.atomic():
        versions = history.versions_for_rows("licences", Licence, "licence_no", rows, update_fields, source=source,
                                             batch_id=batch_id, user=user,
                                             new_keys=new_keys, stored=stored)
        written = bulk.upsert(Licence, rows, "licence_no", update_fields, batch_size=batch_size, new_keys=new_keys,
                              extra={"source": source, "source_batch": batch_id, "file_digest": file_digest})
        history.save(versions)
        enterprise_ids = {row["enterprise_id"] for row in rows}
        mark_data_changed(enterprise_ids)
        audit.record_bulk("enterprises.licence.upsert", "enterprises.licence", rows, exclude=("source_row",),
                          details={"source": source, "batch": batch_id})
        records_changed("licences", enterprise_ids)
    return written


def save_enterprise(enterprise, *, user=None):
    """Create or update one enterprise (UI, API). Raises ValidationError (nothing saved) when it does not validate,
    e.g. its USCC was saved by another user after the form checked it."""
    creating = enterprise._state.adding
    enterprise.name_initials = name_initials(enterprise.name)
    with transaction.atomic():
        stored = None if creating else objects.locked(enterprise)
        before = None if stored is None else audit.snapshot(stored)
        if before and before["name"] != enterprise.name and before["name"] not in enterprise.former_names:
            enterprise.former_names = [*enterprise.former_names, before["name"]]
        objects.validate_and_save(enterprise)
        mark_data_changed([enterprise.pk])
        after = audit.snapshot(enterprise)
        audit.record(f"enterprises.enterprise.{'create' if creating else 'update'}", enterprise, before=before,
                     after=after, user=user)
        history.record_single("enterprises", enterprise, before, after, user=user, old=stored)
        records_changed("enterprises", {enterprise.pk})
    return enterprise


def reveal_sensitive(enterprise, field, *, user, reason):
    """A sensitive field in clear, for one person who states why: checked, and recorded in the audit log."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from .sensitive import SENSITIVE_FIELDS, can_see_sensitive

    if field not in SENSITIVE_FIELDS:
        raise ValidationError({"field": gettext("Unknown sensitive field.")})
    if not can_see_sensitive(user):
        raise PermissionDenied(gettext("You may not view sensitive fields in clear."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": gettext("State why you need to see this field in clear.")})
    with transaction.atomic():
        audit.record("enterprises.enterprise.reveal", enterprise, user=user,
                     details={"field": field, "reason": reason[:500]})
    return getattr(enterprise, field) or ""


def save_licence(licence, *, user=None):
    """Create or update one licence (UI, API): one transaction, one audit entry, `licences` event after commit.
    Raises ValidationError (nothing saved) when it does not validate, e.g. a duplicate licence number."""
    creating = licence._state.adding
    with transaction.atomic():
        before = None if creating else audit.snapshot(objects.locked(licence))
        objects.validate_and_save(licence)
        mark_data_changed([licence.enterprise_id])
        after = audit.snapshot(licence)
        audit.record(f"enterprises.licence.{'create' if creating else 'update'}", licence, before=before,
                     after=after, user=user)
        history.record_single("licences", licence, before, after, user=user)
        records_changed("licences", {licence.enterprise_id})
    return licence


def delete_licence(licence, *, user=None):
    """Delete one licence (UI, API): audit entry with the state before, the enterprise's data change stamped and
    `licences` sent after commit, since licence status feeds indicators and the grade must be recomputed."""
    with transaction.atomic():
        audit.record("enterprises.licence.delete", licence, before=audit.snapshot(licence), user=user)
        enterprise_id = licence.enterprise_id
        licence.delete()
        mark_data_changed([enterprise_id])
        records_changed("licences", {enterprise_id})


# Bookkeeping that goes with its enterprise. Any other row pointing at an enterprise (licences, records, scores,
# alerts, tasks…) is part of its file: every such relation cascades, so deleting would lose it silently.
DELETED_WITH_ENTERPRISE = frozenset({"enterprises.DataChange", "enterprises.RecordVersion"})


class EnterpriseInUse(Exception):
    """The enterprise still has archive data and is not deleted; `kinds`: what data (verbose names)."""

    def __init__(self, enterprise, kinds):
        self.enterprise, self.kinds = enterprise, kinds
        separator = pgettext("list separator", ", ")
        super().__init__(gettext("This enterprise still has %(kinds)s and cannot be deleted. An enterprise that "
                                 "has closed keeps its file: change its status instead.")
                         % {"kinds": separator.join(str(kind) for kind in kinds)})


def archive_data_kinds(enterprise):
    """The kinds of archive data (verbose plural names) that still point at this enterprise."""
    kinds = []
    # Hidden relations too: an import row waiting in the review queue (ingest.MatchCandidate, related_name "+").
    for relation in Enterprise._meta.get_fields(include_hidden=True):
        if not relation.auto_created or relation.concrete:
            continue  # not a reverse relation
        model = relation.related_model
        if model._meta.label in DELETED_WITH_ENTERPRISE:
            continue
        if model._base_manager.filter(**{relation.field.name: enterprise}).exists():
            kinds.append(model._meta.verbose_name_plural)
    return kinds


def delete_enterprise(enterprise, *, user=None):
    """Delete an enterprise entered by mistake, with an audit entry holding the state before. Refused
    (EnterpriseInUse) while it has archive data. No event: nothing derived from it (scores, alerts) can exist."""
    with transaction.atomic():
        # Locked before the check: a row inserted meanwhile (its foreign-key check locks the enterprise row
        # on PostgreSQL) waits for this transaction and then fails instead of being cascaded away.
        enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
        kinds = archive_data_kinds(enterprise)
        if kinds:
            raise EnterpriseInUse(enterprise, kinds)
        audit.record("enterprises.enterprise.delete", enterprise, before=audit.snapshot(enterprise), user=user)
        enterprise.delete()


def mark_data_changed(ids=(), *, usccs=()):
    """Stamp these enterprises (by id, or by USCC) as changed now, for incremental scoring: one upsert of
    their DataChange rows, in the caller's transaction."""
    ids, usccs = sorted(set(ids)), sorted(set(usccs))  # a fixed order: concurrent imports lock rows alike
    if not ids and not usccs:
        return
    now = timezone.now()
    connection = connections[router.db_for_write(DataChange)]
    qn = connection.ops.quote_name
    table, ent = qn(DataChange._meta.db_table), qn(Enterprise._meta.db_table)
    upsert = f"ON CONFLICT ({qn('enterprise_id')}) DO UPDATE SET {qn('changed_at')} = EXCLUDED.{qn('changed_at')}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the keys as one array parameter
            if ids:
                expr, param = bulk.array_param(ids, "bigint")
                cursor.execute(f"INSERT INTO {table} (enterprise_id, changed_at) SELECT unnest({expr}), %s "
                               f"{upsert}", [param, now])
            if usccs:
                expr, param = bulk.array_param(usccs)
                cursor.execute(f"INSERT INTO {table} (enterprise_id, changed_at) SELECT id, %s FROM {ent} "
                               f"WHERE uscc = ANY({expr}) ORDER BY id {upsert}", [now, param])
            return
        now = connection.ops.adapt_datetimefield_value(now)
        for keys, where in ((ids, "id"), (usccs, "uscc")):
            for start in range(0, len(keys), bulk.SQLITE_CHUNK):
                part = keys[start:start + bulk.SQLITE_CHUNK]
                cursor.execute(f"INSERT INTO {table} (enterprise_id, changed_at) SELECT id, %s FROM {ent} "
                               f"WHERE {where} IN ({', '.join(['%s'] * len(part))}) ORDER BY id {upsert}",
                               [now, *part])
