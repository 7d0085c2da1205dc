"""The tamper-evident audit log: append in the caller's transaction, verify the whole chain.

entry_hash = H(prev_hash || canonical JSON of the entry), H = SHA-256 (default) or SM3.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import itemgetter

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .. import bulk, context
from ..models import AuditChainHead, AuditEntry

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq", "timestamp", "user_id", "username", "action", "object_type", "object_id", "object_repr",
    "region_code", "before", "after", "details", "ip", "request_id",
)


def _default(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def canonical_json(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


def normalise(value):
    """What a JSON column gives back, so the hash of the stored entry equals the hash we wrote."""
    if value is None:
        return None
    return json.loads(canonical_json(value))


def digest(algorithm, prev_hash, fields):
    h = hashlib.new(algorithm)
    h.update(prev_hash.encode("ascii"))
    h.update(canonical_json(fields).encode("utf-8"))
    return h.hexdigest()


def _entry_fields(entry):
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["timestamp"] = entry.timestamp.astimezone(dt.UTC).isoformat()
    return values


def object_type_of(obj):
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def region_of(obj):
    for path in ("region_id", "enterprise__region_id"):
        value = obj
        for part in path.split("__"):
            value = getattr(value, part, None)
            if value is None:
                break
        if value:
            return str(value)
    return ""


def snapshot(obj, fields=None):
    """The audited state of a model instance: concrete fields, with encrypted ones masked."""
    from ..fields import EncryptedTextField

    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(obj, field.attname)
        if isinstance(field, EncryptedTextField):
            value = "***" if value else ""
        elif isinstance(field, models.FileField):
            value = value.name if value else ""
        data[field.attname] = value
    return normalise(data)


def record(action, obj=None, **fields):
    """Append one entry (fields: those of new_entry). Call inside the transaction of the change it describes."""
    return record_many([new_entry(action, obj, **fields)])[0]


def new_entry(action, obj=None, *, before=None, after=None, details=None, user=None, object_type="", object_id="",
              object_repr="", region_code=None):
    """An entry not yet in the chain, for record_many: who (default the acting user), what, the states."""
    actor = context.current()
    user = user if user is not None else actor.user
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if region_code is None:
            region_code = region_of(obj)
    return AuditEntry(
        timestamp=timezone.now(),
        user=user,
        username=getattr(user, "username", "") if user else "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=str(object_repr)[:200],
        region_code=region_code or "",
        before=normalise(before),
        after=normalise(after),
        details=normalise(details),
        ip=actor.ip,
        request_id=actor.request_id,
    )


def record_many(entries):
    """Append entries (new_entry) to the chain in their order: the head locked once, one INSERT (of many, the
    entries' pk stay unset). Call inside the transaction of the change they describe (e.g. a workbook of
    corrected rows, an entry per row)."""
    if not entries:
        return []
    algorithm = settings.AUDIT_HASH_ALGORITHM
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        seq, last = head.last_seq, head.last_hash
        for entry in entries:
            seq += 1
            entry.seq, entry.algorithm, entry.prev_hash = seq, algorithm, last
            entry.entry_hash = last = digest(algorithm, last, _entry_fields(entry))
        if len(entries) == 1:
            entries[0].save()
        else:
            fields = [f.attname for f in AuditEntry._meta.concrete_fields if not f.primary_key]
            bulk.insert(AuditEntry, [{name: getattr(entry, name) for name in fields} for entry in entries])
        head.last_seq, head.last_hash = seq, last
        head.save(update_fields=["last_seq", "last_hash"])
    return entries


_BULK_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)
_BULK_SLICE = 5000


def _bulk_items(rows, exclude):
    """{"keys": [...]} whenever the set of keys changes, then each row's values (a tuple) in that key order."""
    same = None
    for row in rows:
        if same is None or row.keys() != same:
            same = frozenset(row)
            keys = sorted(same - exclude)
            yield {"keys": keys}
            if len(keys) > 1:
                get = itemgetter(*keys)
            else:
                get = (lambda r, k=keys[0]: (r[k],)) if keys else (lambda r: ())
        yield get(row)


def record_bulk(action, object_type, rows, *, details=None, region_code="", exclude=()):
    """One entry for a batch: the count and a SHA-256 digest over the canonical rows (without the keys in
    `exclude`).

    The canonical text is one JSON array (canonical_json's rules: sorted keys, no spaces, dates ISO,
    Decimals as text): ``{"keys": [...]}`` whenever the set of keys changes, then each row as the list of
    its values in that key order. Encoded a slice at a time, the text (and so the digest) does not depend
    on the slicing. The same rows give the same digest.
    """
    exclude = frozenset(exclude)
    h = hashlib.sha256(b"[")
    count = 0
    first = True
    items = _bulk_items(rows, exclude)
    while True:
        part = list(islice(items, _BULK_SLICE))
        if not part:
            break
        count += sum(1 for item in part if type(item) is tuple)
        text = _BULK_ENCODER.encode(part)[1:-1]
        h.update(text.encode("utf-8") if first else b"," + text.encode("utf-8"))
        first = False
    h.update(b"]")
    payload = {"count": count, "digest": h.hexdigest(), **(details or {})}
    return record(action, object_type=object_type, details=payload, region_code=region_code)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def verify(chunk=2000):
    """Recompute the chain from the first entry; name the first entry that does not fit."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_seen = 0
    while True:
        batch = list(AuditEntry.objects.filter(seq__gt=last_seen).order_by("seq")[:chunk])
        if not batch:
            break
        for entry in batch:
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, f"entry #{expected_seq} is missing")
            if entry.prev_hash != prev_hash:
                return VerifyResult(False, checked, entry.seq, "previous-hash link does not match")
            if digest(entry.algorithm, entry.prev_hash, _entry_fields(entry)) != entry.entry_hash:
                return VerifyResult(False, checked, entry.seq, "content does not match its hash")
            prev_hash, expected_seq, checked = entry.entry_hash, expected_seq + 1, checked + 1
        last_seen = batch[-1].seq
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != expected_seq - 1 or head.last_hash != prev_hash):
        return VerifyResult(False, checked, expected_seq, "the chain head does not match the last entry (entries removed or added outside the service)")
    return VerifyResult(True, checked)
