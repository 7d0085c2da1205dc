import contextlib
import hashlib
import hmac
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from foodrisk.core.models import AuditChainHead, AuditEntry
from foodrisk.core.models.audit import AppendOnlyError
from foodrisk.core.services import audit

pytestmark = pytest.mark.django_db
TABLE = AuditEntry._meta.db_table


@contextlib.contextmanager
def attacker_cursor():
    """Raw SQL as someone with write access to the database. On PostgreSQL the append-only trigger stands in
    the way, so the attacker is the table owner and switches it off first (what the key still catches)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")


def _entries(n=5):
    return [audit.record("test.action", object_type="core.test", object_id=str(i), after={"n": i, "名称": "食品"})
            for i in range(n)]


def test_clean_chain_verifies():
    _entries()
    result = audit.verify()
    assert result.ok and result.checked == 5
    call_command("audit", "verify")


def test_entries_link_to_their_predecessor():
    first, second = _entries(2)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.entry_hash


def test_tampering_in_the_database_is_detected_and_named():
    entries = _entries(5)
    target = entries[2]
    with attacker_cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET username = %s WHERE seq = %s", ["mallory", target.seq])
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == target.seq
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


def test_json_tampering_is_detected():
    entries = _entries(3)
    with attacker_cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET after = %s WHERE seq = %s", ['{"n": 99}', entries[1].seq])
    assert audit.verify().broken_seq == entries[1].seq


def test_deleted_entry_is_detected():
    entries = _entries(4)
    with attacker_cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = %s", [entries[1].seq])
    result = audit.verify()
    assert not result.ok and result.broken_seq == entries[1].seq


def test_truncated_tail_is_detected():
    entries = _entries(4)
    with attacker_cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = %s", [entries[-1].seq])
    assert not audit.verify().ok


def test_orm_refuses_updates_and_deletes():
    entry = _entries(1)[0]
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()


def test_rolled_back_change_leaves_no_entry():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("test.rollback")
        raise RuntimeError
    assert not AuditEntry.objects.filter(action="test.rollback").exists()
    assert audit.verify().ok


def test_bulk_entry_has_count_and_digest():
    entry = audit.record_bulk("test.bulk", "records.penalty", [{"a": 1}, {"a": 2}])
    assert entry.details["count"] == 2 and len(entry.details["digest"]) == 64
    again = audit.record_bulk("test.bulk", "records.penalty", [{"a": 1}, {"a": 2}])
    assert again.details["digest"] == entry.details["digest"]


def test_sm3_chain(settings):
    import hashlib

    if "sm3" not in hashlib.algorithms_available:
        pytest.skip("OpenSSL without SM3")
    settings.AUDIT_HASH_ALGORITHM = "sm3"
    entries = _entries(3)
    assert entries[0].algorithm == "hmac-sm3"
    assert audit.verify().ok


# --- keyed chain and checkpoints (issue 12: a database writer must not be able to re-hash the chain) -------
def _rehash_from(seq, hash_entry):
    """The attack: recompute every hash from entry `seq` on with `hash_entry(prev_hash, entry) -> (algorithm,
    hash)`, then move the head, all in raw SQL."""
    rows = list(AuditEntry.objects.order_by("seq"))
    prev = rows[seq - 2].entry_hash if seq > 1 else audit.GENESIS
    with attacker_cursor() as cursor:
        for entry in rows[seq - 1:]:
            algorithm, entry_hash = hash_entry(prev, entry)
            cursor.execute(f"UPDATE {TABLE} SET algorithm = %s, prev_hash = %s, entry_hash = %s WHERE seq = %s",
                           [algorithm, prev, entry_hash, entry.seq])
            prev = entry_hash
        cursor.execute(f"UPDATE {AuditChainHead._meta.db_table} SET last_seq = %s, last_hash = %s",
                       [rows[-1].seq, prev])


def _unkeyed(prev, entry):  # the product's old function, as the attacker used it
    return "sha256", audit.digest("sha256", prev, audit._entry_fields(entry))


def _unkeyed_labelled_keyed(prev, entry):
    message = prev.encode() + audit.canonical_json(audit._entry_fields(entry)).encode()
    return entry.algorithm, hashlib.sha256(message).hexdigest()


def _wrong_key(prev, entry):
    message = prev.encode() + audit.canonical_json(audit._entry_fields(entry)).encode()
    return entry.algorithm, hmac.new(b"guessed key", message, "sha256").hexdigest()


@pytest.mark.parametrize("rehash", [_unkeyed, _unkeyed_labelled_keyed, _wrong_key])
def test_recomputed_chain_is_detected_at_the_changed_entry(rehash):
    entries = _entries(8)
    target = entries[2]
    with attacker_cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET username = %s WHERE seq = %s", ["mallory", target.seq])
    _rehash_from(target.seq, rehash)
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == target.seq
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


def test_entries_are_keyed_and_a_changed_key_fails(settings):
    entries = _entries(2)
    assert {e.algorithm for e in entries} == {"hmac-sha256"}
    settings.AUDIT_KEY = "another installation's key"
    result = audit.verify()
    assert not result.ok and result.broken_seq == entries[0].seq


@translation.override(None)
def test_checkpoint_catches_a_truncated_tail():
    entries = _entries(5)
    payload = audit.checkpoint()
    assert payload["count"] == entries[-1].seq and payload["head"] == entries[-1].entry_hash
    # Remove the last two entries and move the head back: the chain itself is consistent again …
    with attacker_cursor() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq > %s", [entries[2].seq])
        cursor.execute(f"UPDATE {AuditChainHead._meta.db_table} SET last_seq = %s, last_hash = %s",
                       [entries[2].seq, entries[2].entry_hash])
    # … but the signed count outside the database still counts them.
    result = audit.verify()
    assert not result.ok and result.broken_seq == entries[3].seq
    assert str(entries[-1].seq) in result.reason


def test_checkpoint_catches_a_whole_chain_rewritten_without_the_key():
    _entries(4)
    audit.checkpoint()
    with attacker_cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET username = %s WHERE seq = 1", ["mallory"])
    _rehash_from(1, _unkeyed)
    result = audit.verify()
    assert not result.ok and result.broken_seq == 1


@translation.override(None)  # the reasons in English (a page shows them in Chinese)
def test_checkpoint_log_edits_and_foreign_keys_are_detected(settings):
    _entries(3)
    audit.checkpoint()
    assert audit.verify().ok and audit.verify().checkpoints == 1
    path = audit.checkpoint_path()
    line = json.loads(path.read_text())
    path.write_text(json.dumps({**line, "count": 2}) + "\n")
    assert not audit.verify().ok and "signature" in audit.verify().reason
    path.write_text(json.dumps(line) + "\n")
    assert audit.verify().ok
    settings.AUDIT_KEY = "another installation's key"
    assert "another audit key" in audit.verify().reason


def test_checkpoint_refuses_to_anchor_a_broken_chain():
    entries = _entries(3)
    with attacker_cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE seq = %s", ["x", entries[1].seq])
    with pytest.raises(audit.AuditChainBroken):
        audit.checkpoint()
    assert not audit.checkpoint_path().exists()
    with pytest.raises(CommandError, match="no checkpoint written"):
        call_command("audit", "checkpoint")


def test_checkpoints_verify_only_what_was_added_since_the_last_one():
    _entries(3)
    first = audit.checkpoint()
    _entries(2)
    second = audit.checkpoint()
    assert second["count"] == first["count"] + 2
    assert audit.verify().checkpoints == 2
    call_command("audit", "verify")


def _legacy_chain(n):
    """Entries as the un-keyed chain wrote them before the upgrade."""
    prev = audit.GENESIS
    for seq in range(1, n + 1):
        entry = audit.new_entry("legacy.action", object_type="core.test", object_id=str(seq), after={"n": seq})
        entry.seq, entry.algorithm, entry.prev_hash = seq, "sha256", prev
        entry.entry_hash = prev = audit.digest("sha256", prev, audit._entry_fields(entry))
        entry.save()
    AuditChainHead.objects.update_or_create(pk=1, defaults={"last_seq": n, "last_hash": prev})


@translation.override(None)
def test_upgraded_chain_keeps_its_unkeyed_prefix_pinned_by_the_first_checkpoint():
    _legacy_chain(3)
    unpinned = audit.verify()
    assert not unpinned.ok and unpinned.broken_seq == 1 and "checkpoint" in unpinned.reason
    call_command("audit", "checkpoint")  # once, after upgrading: verifies the old entries and pins them
    new = _entries(2)
    assert new[0].prev_hash == AuditEntry.objects.get(seq=3).entry_hash and new[0].algorithm == "hmac-sha256"
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.legacy_until == 3
    # Re-hashing the keyed part the old way is caught at its first entry
    _rehash_from(4, _unkeyed)
    assert audit.verify().broken_seq == 4


def test_hmac_sm3_matches_the_standard_and_both_providers():
    assert hashlib.new("sm3", b"abc").hexdigest() == (  # GB/T 32905-2016 appendix A
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
    stdlib = hmac.new(b"key", b"message", "sm3").hexdigest()
    fallback = audit._CryptographyHmac(b"key", "sm3")
    fallback.update(b"message")
    assert fallback.hexdigest() == stdlib


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_update_delete_and_truncate_of_the_audit_log():
    entry = _entries(1)[0]
    statements = [(f"UPDATE {TABLE} SET username = 'mallory' WHERE seq = %s", [entry.seq]),
                  (f"DELETE FROM {TABLE} WHERE seq = %s", [entry.seq]),
                  ("SET LOCAL foodrisk.audit_maintenance = off", None),
                  (f"TRUNCATE {TABLE}", None)]
    for sql, params in statements:
        if sql.startswith("SET"):
            with connection.cursor() as cursor:
                cursor.execute(sql)
            continue
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert AuditEntry.objects.get(seq=entry.seq).username == entry.username
