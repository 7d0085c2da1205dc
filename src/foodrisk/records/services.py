"""Writes of supervision records. Single records (UI, API, inspection results) and batches (ingest)
go through here: one transaction, one audit entry, records_changed queued in it (core.outbox)."""

from django.db import transaction

from foodrisk.core import bulk
from foodrisk.core.events import records_changed
from foodrisk.core.services import audit, objects
from foodrisk.enterprises import history
from foodrisk.enterprises.services import mark_data_changed

from .models import RECORD_KINDS

KIND_OF_MODEL = {model: kind for kind, model in RECORD_KINDS.items()}


def writable_fields(model):
    skip = {"id", "first_seen_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip]


def upsert_records(kind, rows, *, source="", batch_id=None, file_digest="", batch_size=2000, user=None,
                   new_keys=(), stored=None):
    """Insert or update by the kind's natural key. rows: dicts of model fields incl. enterprise_id
    (and optionally source_row). Returns the number of rows written. A stored row whose values change gets a
    RecordVersion (user: who changed it, for the history; default the acting user). new_keys: the keys the
    caller has just found not stored, so their history is not looked up; stored: {key: the stored row's values}
    the caller read, locked, in this transaction (history.versions_for_rows), so they are not read again."""
    model = RECORD_KINDS[kind]
    key = model.natural_key_field
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    update_fields = [f for f in writable_fields(model) if f != key]
    enterprise_ids = {row["enterprise_id"] for row in rows}
    with transaction.atomic():
        versions = history.versions_for_rows(kind, model, key, rows, update_fields, source=source,
                                             batch_id=batch_id, user=user, new_keys=new_keys, stored=stored)
        written = bulk.upsert(model, rows, key, update_fields, batch_size=batch_size, new_keys=new_keys,
                              extra={"source": source, "source_batch": batch_id, "file_digest": file_digest})
        history.save(versions)
        mark_data_changed(enterprise_ids)
        audit.record_bulk(f"records.{kind}.upsert", f"records.{model._meta.model_name}",
                          rows, exclude=("source_row",),
                          details={"source": source, "batch": batch_id, "file_digest": file_digest})
        records_changed(kind, enterprise_ids)
    return written


def save_record(record, *, user=None, emit=True):
    """Create or update one record (UI, API, an inspector's result form). emit=False: the caller announces the
    change itself (save_records)."""
    model = type(record)
    kind = KIND_OF_MODEL[model]
    creating = record._state.adding
    with transaction.atomic():
        before = None if creating else audit.snapshot(objects.locked(record))
        objects.validate_and_save(record)
        mark_data_changed({record.enterprise_id})
        after = audit.snapshot(record)
        audit.record(f"records.{model._meta.model_name}.{'create' if creating else 'update'}", record,
                     before=before, after=after, user=user)
        history.record_single(kind, record, before, after, user=user)
        if emit:
            records_changed(kind, {record.enterprise_id})
    return record


def save_records(records, *, user=None):
    """Save the records of one decision (each as save_record does) in one transaction and announce them in one
    records_changed, of the last record's kind: one rescoring, not one per record."""
    with transaction.atomic():
        for record in records:
            save_record(record, user=user, emit=False)
        if records:
            records_changed(KIND_OF_MODEL[type(records[-1])], {r.enterprise_id for r in records})
    return records


def delete_record(record, *, user=None):
    """Delete one record: audit entry with the state before, `records_changed` queued."""
    model = type(record)
    kind = KIND_OF_MODEL[model]
    with transaction.atomic():
        audit.record(f"records.{model._meta.model_name}.delete", record, before=audit.snapshot(record), user=user)
        enterprise_id = record.enterprise_id
        record.delete()
        mark_data_changed({enterprise_id})
        records_changed(kind, {enterprise_id})


def file_sha256(file):
    import hashlib

    h = hashlib.sha256()
    if hasattr(file, "seek"):
        file.seek(0)
    for chunk in file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1 << 16), b""):
        h.update(chunk)
    if hasattr(file, "seek"):
        file.seek(0)
    return h.hexdigest()


def save_attachment(attachment, *, user=None):
    """Store an uploaded file with its SHA-256 (evidence integrity) and one audit entry."""
    creating = attachment._state.adding
    if creating and attachment.file:
        attachment.sha256 = file_sha256(attachment.file)
        if user is not None and getattr(user, "is_authenticated", False):
            attachment.uploaded_by = user
    before = None if creating else audit.snapshot(type(attachment).objects.get(pk=attachment.pk))
    with transaction.atomic():
        attachment.full_clean()
        attachment.save()
        audit.record(f"records.attachment.{'create' if creating else 'update'}", attachment, before=before,
                     after=audit.snapshot(attachment), user=user)
    return attachment
