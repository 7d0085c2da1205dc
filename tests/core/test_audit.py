import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from foodrisk.core.models import AuditEntry
from foodrisk.core.models.audit import AppendOnlyError
from foodrisk.core.services import audit

pytestmark = pytest.mark.django_db


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
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET username = %s WHERE seq = %s", ["mallory", target.seq])
    result = audit.verify()
    assert not result.ok
    assert result.broken_seq == target.seq
    with pytest.raises(CommandError, match=f"#{target.seq}"):
        call_command("audit", "verify")


def test_json_tampering_is_detected():
    entries = _entries(3)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEntry._meta.db_table} SET after = %s WHERE seq = %s", ['{"n": 99}', entries[1].seq])
    assert audit.verify().broken_seq == entries[1].seq


def test_deleted_entry_is_detected():
    entries = _entries(4)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = %s", [entries[1].seq])
    result = audit.verify()
    assert not result.ok and result.broken_seq == entries[1].seq


def test_truncated_tail_is_detected():
    entries = _entries(4)
    with connection.cursor() as cursor:
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
    assert entries[0].algorithm == "sm3"
    assert audit.verify().ok
