"""Writes of enterprises and licences: single (UI/API) and batches (ingest)."""

from django.db import transaction
from django.utils import timezone

from foodrisk.core.services import audit
from foodrisk.records.events import emit_after_commit

from .models import Enterprise, Licence


def name_initials(name):
    """Pinyin initials for search: 杭州老王面馆 → hzlwmg (non-Chinese characters kept, lower-cased)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(p[:1] for p in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")).lower()[:100]


ENTERPRISE_FIELDS = [f.name for f in Enterprise._meta.concrete_fields
                     if f.name not in {"id", "first_seen_at", "current_grade", "current_score", "graded_at",
                                       "risk_labels"}]


def upsert_enterprises(rows, *, source="", batch_id=None, file_digest="", batch_size=2000):
    """Insert or update by USCC. A changed name is kept in former_names (the caller passes the merged list)."""
    objs = []
    for row in rows:
        row = dict(row)
        row.setdefault("name_initials", name_initials(row["name"]))
        objs.append(Enterprise(**row, source=source, source_batch=batch_id, file_digest=file_digest,
                               data_changed_at=timezone.now()))
    if not objs:
        return 0
    update_fields = [f for f in ENTERPRISE_FIELDS if f != "uscc" and any(f in row for row in rows[:1])] + [
        "name_initials", "source", "source_batch", "file_digest", "last_seen_at", "data_changed_at"]
    with transaction.atomic():
        Enterprise.objects.bulk_create(objs, batch_size=batch_size, update_conflicts=True, unique_fields=["uscc"],
                                       update_fields=sorted(set(update_fields)))
        audit.record_bulk("enterprises.enterprise.upsert", "enterprises.enterprise",
                          ({k: v for k, v in row.items() if k not in ("source_row", "legal_representative")}
                           for row in rows),
                          details={"source": source, "batch": batch_id, "file_digest": file_digest})
    return len(objs)


def upsert_licences(rows, *, source="", batch_id=None, file_digest="", batch_size=2000):
    objs = [Licence(**row, source=source, source_batch=batch_id, file_digest=file_digest) for row in rows]
    if not objs:
        return 0
    update_fields = [f.name for f in Licence._meta.concrete_fields if f.name not in {"id", "first_seen_at",
                                                                                     "licence_no"}]
    with transaction.atomic():
        Licence.objects.bulk_create(objs, batch_size=batch_size, update_conflicts=True, unique_fields=["licence_no"],
                                    update_fields=update_fields)
        audit.record_bulk("enterprises.licence.upsert", "enterprises.licence",
                          ({k: v for k, v in row.items() if k != "source_row"} for row in rows),
                          details={"source": source, "batch": batch_id})
        emit_after_commit("licences", {row["enterprise_id"] for row in rows})
    return len(objs)


def save_enterprise(enterprise, *, user=None):
    creating = enterprise._state.adding
    before = None if creating else audit.snapshot(Enterprise.objects.get(pk=enterprise.pk))
    if before and before["name"] != enterprise.name and before["name"] not in enterprise.former_names:
        enterprise.former_names = [*enterprise.former_names, before["name"]]
    enterprise.name_initials = name_initials(enterprise.name)
    enterprise.data_changed_at = timezone.now()
    with transaction.atomic():
        enterprise.full_clean()
        enterprise.save()
        audit.record(f"enterprises.enterprise.{'create' if creating else 'update'}", enterprise, before=before,
                     after=audit.snapshot(enterprise), user=user)
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
        audit.record(f"enterprises.licence.{'create' if creating else 'update'}", licence, before=before,
                     after=audit.snapshot(licence), user=user)
        emit_after_commit("licences", {licence.enterprise_id})
    return licence
