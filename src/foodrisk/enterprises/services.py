"""Writes of enterprises and licences: single (UI/API) and batches (ingest)."""

from django.db import transaction
from django.utils import timezone

from foodrisk.core import bulk
from foodrisk.core.services import audit
from foodrisk.records import history
from foodrisk.records.events import emit_after_commit

from .models import Enterprise, Licence


def name_initials(name):
    """Pinyin initials for search: 杭州老王面馆 → hzlwmg (non-Chinese characters kept, lower-cased)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(p[:1] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()[:100]


ENTERPRISE_FIELDS = [f.name for f in Enterprise._meta.concrete_fields
                     if f.name not in {"id", "first_seen_at", "current_grade", "current_score", "graded_at",
                                       "risk_labels"}]


def upsert_enterprises(rows, *, source="", batch_id=None, file_digest="", batch_size=2000, user=None):
    """Insert or update by USCC. A changed name is kept in former_names (the caller passes the merged list).
    A stored enterprise whose values change gets a RecordVersion (user: who changed it, default the acting user)."""
    if not rows:
        return 0
    given = rows
    rows = [row if "name_initials" in row else {**row, "name_initials": name_initials(row["name"])} for row in rows]
    update_fields = [f for f in ENTERPRISE_FIELDS if f != "uscc" and any(f in row for row in rows[:1])] + [
        "name_initials", "source", "source_batch", "file_digest", "last_seen_at", "data_changed_at"]
    extra = {"source": source, "source_batch": batch_id, "file_digest": file_digest,
             "data_changed_at": timezone.now()}
    update_fields = sorted(set(update_fields))
    with transaction.atomic():
        versions = history.versions_for_rows("enterprises", Enterprise, "uscc", rows, update_fields, source=source,
                                             batch_id=batch_id, user=user)
        written = bulk.upsert(Enterprise, rows, "uscc", update_fields, extra=extra, batch_size=batch_size)
        history.save(versions)
        audit.record_bulk("enterprises.enterprise.upsert", "enterprises.enterprise",
                          given, exclude=("source_row", "legal_representative"),
                          details={"source": source, "batch": batch_id, "file_digest": file_digest})
    return written


def upsert_licences(rows, *, source="", batch_id=None, file_digest="", batch_size=2000, user=None):
    if not rows:
        return 0
    update_fields = [f.name for f in Licence._meta.concrete_fields if f.name not in {"id", "first_seen_at",
                                                                                     "licence_no"}]
    with transaction.atomic():
        versions = history.versions_for_rows("licences", Licence, "licence_no", rows, update_fields, source=source,
                                             batch_id=batch_id, user=user)
        written = bulk.upsert(Licence, rows, "licence_no", update_fields, batch_size=batch_size,
                              extra={"source": source, "source_batch": batch_id, "file_digest": file_digest})
        history.save(versions)
        audit.record_bulk("enterprises.licence.upsert", "enterprises.licence", rows, exclude=("source_row",),
                          details={"source": source, "batch": batch_id})
        emit_after_commit("licences", {row["enterprise_id"] for row in rows})
    return written


def save_enterprise(enterprise, *, user=None):
    creating = enterprise._state.adding
    stored = None if creating else Enterprise.objects.get(pk=enterprise.pk)
    before = None if stored is None else audit.snapshot(stored)
    if before and before["name"] != enterprise.name and before["name"] not in enterprise.former_names:
        enterprise.former_names = [*enterprise.former_names, before["name"]]
    enterprise.name_initials = name_initials(enterprise.name)
    enterprise.data_changed_at = timezone.now()
    with transaction.atomic():
        enterprise.full_clean()
        enterprise.save()
        after = audit.snapshot(enterprise)
        audit.record(f"enterprises.enterprise.{'create' if creating else 'update'}", enterprise, before=before,
                     after=after, user=user)
        history.record_single("enterprises", enterprise, before, after, user=user, old=stored)
        emit_after_commit("enterprises", {enterprise.pk})
    return enterprise


def save_licence(licence, *, user=None):
    """Create or update one licence (UI, API): one transaction, one audit entry, `licences` event after commit."""
    creating = licence._state.adding
    before = None if creating else audit.snapshot(Licence.objects.get(pk=licence.pk))
    with transaction.atomic():
        licence.full_clean()
        licence.save()
        Enterprise.objects.filter(pk=licence.enterprise_id).update(data_changed_at=timezone.now())
        after = audit.snapshot(licence)
        audit.record(f"enterprises.licence.{'create' if creating else 'update'}", licence, before=before,
                     after=after, user=user)
        history.record_single("licences", licence, before, after, user=user)
        emit_after_commit("licences", {licence.enterprise_id})
    return licence
