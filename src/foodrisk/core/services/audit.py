"""The tamper-evident audit log: append in the caller's transaction, verify the whole chain.

entry_hash = HMAC(key, prev_hash || canonical JSON of the entry), HMAC-SHA256 (default) or HMAC-SM3
(FOODRISK_AUDIT_HASH=sm3). The key (settings.AUDIT_KEY) lives outside the database, so someone who can write
the database cannot recompute the chain after changing an entry. Signed checkpoints (count + head hash)
are appended to a log outside the database (settings.AUDIT_CHECKPOINT_DIR) on a schedule and into every
backup manifest; `verify` checks the chain against them, so a removed tail or a re-hashed chain shows too.

Entries written before the chain was keyed carry algorithm "sha256"/"sm3" and are verified with the plain
hash they were written with: nothing in the log is ever rewritten (rewriting is exactly what it must make
visible). They are accepted only as the chain's prefix, up to the `legacy_until` position that the first
checkpoint pinned; the first keyed entry links to their last hash, so the keyed chain vouches for them.
"""

import dataclasses
import datetime as dt
import fcntl
import functools
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from operator import itemgetter
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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


KEYED_PREFIX = "hmac-"
LEGACY_ALGORITHMS = ("sha256", "sm3")  # un-keyed entries from before the keyed chain


class _CryptographyHmac:
    """hmac.HMAC's interface over `cryptography`, whose bundled OpenSSL has SM3 where the system's may not."""

    def __init__(self, key=None, name=None, mac=None):
        if mac is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives import hmac as crypto_hmac

            mac = crypto_hmac.HMAC(key, getattr(hashes, name.upper())())
        self._mac = mac

    def update(self, data):
        self._mac.update(data)

    def copy(self):
        return _CryptographyHmac(mac=self._mac.copy())

    def hexdigest(self):
        return self._mac.finalize().hex()


@functools.lru_cache(maxsize=16)
def _keyed(key_text, hash_name, purpose):
    """An HMAC primed with the key for one purpose (chain, checkpoint, key id); callers .copy() it."""
    key = hmac.new(key_text.encode("utf-8"), purpose.encode("ascii"), "sha256").digest()
    if hash_name in hashlib.algorithms_available:
        return hmac.new(key, digestmod=hash_name)
    return _CryptographyHmac(key, hash_name)


def mac(purpose, data, hash_name=None):
    """HMAC of bytes with the audit key (separate derived keys per purpose), hex."""
    h = _keyed(settings.AUDIT_KEY, hash_name or settings.AUDIT_HASH_ALGORITHM, purpose).copy()
    h.update(data)
    return h.hexdigest()


def key_id():
    """A short public name of the audit key, so a checkpoint made with another key says so."""
    return mac("key id", b"foodrisk audit", "sha256")[:16]


def digest(algorithm, prev_hash, fields):
    message = prev_hash.encode("ascii") + canonical_json(fields).encode("utf-8")
    if algorithm.startswith(KEYED_PREFIX):
        return mac("chain", message, algorithm.removeprefix(KEYED_PREFIX))
    if algorithm not in LEGACY_ALGORITHMS:
        raise ValueError(f"unknown audit hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, message).hexdigest()


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
    """The audited state of a model instance: concrete fields, with encrypted ones (and sealed cells of JSON
    documents) masked."""
    from ..crypto import redact_sealed
    from ..fields import EncryptedTextField

    data = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        value = getattr(obj, field.attname)
        if isinstance(field, EncryptedTextField):
            value = "***" if value else ""
        elif isinstance(field, models.JSONField):
            value = redact_sealed(value)  # sensitive cells kept in a document, e.g. a quarantined row's
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
    algorithm = KEYED_PREFIX + settings.AUDIT_HASH_ALGORITHM
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
    checkpoints: int = 0  # signed checkpoints the chain was checked against
    latest_checkpoint: dict | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    legacy_until: int = 0


class AuditChainBroken(Exception):
    def __init__(self, result):
        super().__init__(f"audit chain broken at entry #{result.broken_seq}: {result.reason}")
        self.result = result


# --- checkpoints: signed (count, head) lines appended outside the database ------------------------------
CHECKPOINT_FILE = "checkpoints.jsonl"


def checkpoint_path():
    return Path(settings.AUDIT_CHECKPOINT_DIR) / CHECKPOINT_FILE


def sign(payload):
    """The payload with a `signature`: HMAC over its canonical JSON with the checkpoint key."""
    body = {k: v for k, v in payload.items() if k != "signature"}
    return {**body, "signature": mac("checkpoint", canonical_json(body).encode("utf-8"), "sha256")}


def signature_ok(payload):
    return hmac.compare_digest(str(payload.get("signature", "")), sign(payload)["signature"])


@dataclass
class Anchors:
    """The checkpoints in force: {count: head}, where un-keyed entries must end, the latest checkpoint."""

    points: dict = dataclasses.field(default_factory=dict)
    legacy_until: int | None = None
    latest: dict | None = None
    problem: str = ""
    max_count: int = 0


def load_anchors():
    """Read the checkpoint log. A restore line drops the checkpoints of the history it rolled back."""
    anchors = Anchors()
    path = checkpoint_path()
    if not path.exists():
        return anchors
    lines = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                payload = json.loads(line)
            except ValueError:
                payload = {}
            if not signature_ok(payload):
                same_key = payload.get("key_id") in (None, key_id())
                anchors.problem = (_("checkpoint log line %(n)d has an invalid signature (the log was edited)")
                                   if same_key else
                                   _("checkpoint log line %(n)d was signed with another audit key")) % {"n": number}
                return anchors
            if payload.get("kind") == "restore":
                lines = [p for p in lines if p["count"] <= payload["count"]]
            lines.append(payload)
    for payload in lines:
        anchors.points[payload["count"]] = payload["head"]
        anchors.legacy_until = payload["legacy_until"]
    if lines:
        anchors.latest = lines[-1]
        anchors.max_count = max(anchors.points)
    return anchors


def _append_checkpoint(payload):
    directory = Path(settings.AUDIT_CHECKPOINT_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = canonical_json(payload) + "\n"
    with open(directory / CHECKPOINT_FILE, "a", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # the scheduler and a backup may write at once
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def checkpoint(kind="checkpoint"):
    """Verify what was added since the last checkpoint, then append a signed (count, head) line for it.

    The first checkpoint verifies the whole chain and pins where un-keyed entries (from before the key)
    end. Raises AuditChainBroken rather than anchor a chain that does not verify. Returns the payload.
    """
    anchors = load_anchors()
    if anchors.problem:
        raise AuditChainBroken(VerifyResult(False, 0, None, anchors.problem))
    result = _walk(anchors, from_latest=True, unpinned_legacy_ok=True)
    if not result.ok:
        raise AuditChainBroken(result)
    return _write_checkpoint(kind, result)


def _write_checkpoint(kind, result):
    payload = sign({
        "kind": kind, "count": result.last_seq, "head": result.last_hash, "legacy_until": result.legacy_until,
        "time": timezone.now().astimezone(dt.UTC).isoformat(), "key_id": key_id(),
        "database": str(settings.DATABASES["default"]["NAME"])[-200:],
    })
    _append_checkpoint(payload)
    return payload


def restored(backup_checkpoint):
    """After a restore: verify the restored chain against the backup's signed checkpoint, then append a
    restore line to the log (checkpoints counting more entries, of the history the restore rolled back, no
    longer apply). Raises AuditChainBroken."""
    anchors = Anchors()
    if backup_checkpoint and "count" in backup_checkpoint:
        if not signature_ok(backup_checkpoint):
            raise AuditChainBroken(VerifyResult(False, 0, None, _("the backup's checkpoint has an invalid signature")))
        count = backup_checkpoint["count"]
        anchors.points, anchors.max_count = {count: backup_checkpoint["head"]}, count
        anchors.legacy_until = backup_checkpoint["legacy_until"]
    result = _walk(anchors, unpinned_legacy_ok=anchors.legacy_until is None)
    if not result.ok:
        raise AuditChainBroken(result)
    _write_checkpoint("restore", result)
    return result


# --- verification ---------------------------------------------------------------------------------------
def _walk(anchors, *, from_latest=False, unpinned_legacy_ok=False, chunk=2000):
    """Recompute the chain (from the latest checkpoint when from_latest, else from the first entry).
    unpinned_legacy_ok: accept un-keyed entries no checkpoint has pinned yet (the first checkpoint does)."""
    prev_hash, expected_seq, checked, legacy_until = GENESIS, 1, 0, 0
    keyed_seen = False
    if from_latest and anchors.latest:
        count, head = anchors.latest["count"], anchors.latest["head"]
        if count:
            anchor = AuditEntry.objects.filter(seq=count).values_list("entry_hash", flat=True).first()
            if anchor != head:
                return VerifyResult(False, 0, count, _("entry #%(seq)d does not match the signed checkpoint")
                                    % {"seq": count})
        prev_hash, expected_seq, legacy_until = head, count + 1, anchors.legacy_until
        keyed_seen = count > legacy_until
    last_seen = expected_seq - 1
    while True:
        batch = list(AuditEntry.objects.filter(seq__gt=last_seen).order_by("seq")[:chunk])
        if not batch:
            break
        for entry in batch:
            fail = None
            if entry.seq != expected_seq:
                return VerifyResult(False, checked, expected_seq, _("entry #%(seq)d is missing") % {"seq": expected_seq})
            if entry.prev_hash != prev_hash:
                fail = _("previous-hash link does not match")
            elif entry.algorithm in LEGACY_ALGORITHMS:
                pinned = anchors.legacy_until
                if keyed_seen or (pinned is not None and entry.seq > pinned):
                    fail = _("un-keyed entry inside the keyed chain (re-hashed without the audit key)")
                elif pinned is None and not unpinned_legacy_ok:
                    fail = _("un-keyed entry not pinned by any checkpoint (run `foodrisk audit checkpoint`)")
                else:
                    legacy_until = entry.seq
            elif not entry.algorithm.startswith(KEYED_PREFIX):
                fail = _("unknown hash algorithm")
            else:
                keyed_seen = True
            if fail is None:
                try:
                    matches = digest(entry.algorithm, entry.prev_hash, _entry_fields(entry)) == entry.entry_hash
                except ValueError:
                    matches = False
                if not matches:
                    fail = _("content does not match its hash (changed, or hashed without the audit key)")
            if fail is None and anchors.points.get(entry.seq, entry.entry_hash) != entry.entry_hash:
                fail = _("differs from the signed checkpoint at this entry")
            if fail:
                return VerifyResult(False, checked, entry.seq, fail)
            prev_hash, expected_seq, checked = entry.entry_hash, expected_seq + 1, checked + 1
        last_seen = batch[-1].seq
    last_seq = expected_seq - 1
    if anchors.max_count > last_seq:
        return VerifyResult(False, checked, last_seq + 1, _(
            "entries #%(first)d–#%(last)d are missing: a signed checkpoint counted %(last)d entries")
            % {"first": last_seq + 1, "last": anchors.max_count})
    return VerifyResult(True, checked, last_seq=last_seq, last_hash=prev_hash, legacy_until=legacy_until,
                        checkpoints=len(anchors.points), latest_checkpoint=anchors.latest)


def verify(chunk=2000):
    """Recompute the chain from the first entry with the key; check it against the signed checkpoints and
    the head row; name the first entry that does not fit."""
    anchors = load_anchors()
    if anchors.problem:
        return VerifyResult(False, 0, None, anchors.problem)
    result = _walk(anchors, chunk=chunk)
    if not result.ok:
        return result
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_seq != result.last_seq or head.last_hash != result.last_hash):
        return VerifyResult(False, result.checked, result.last_seq + 1, _(
            "the chain head does not match the last entry (entries removed or added outside the service)"))
    return result
