"""Batch exchange (批量交换) and inbound pushes (入站推送) of the sharing app.

Outbound: request_export() (a person, or a schedule through the `sharing.export` job) creates an ExchangeExport
and its job in one transaction with the audit entry; build() — the worker's half — writes the dataset as the
client may receive it (the pull API's grant, region scope and masking: services.fields_for, dataset_row) into
CSV, XLSX or Parquet files in the project's storage (local or S3), then manifest.json listing the fields, the row
count and each file's SHA-256, signed with the client's secret (signing.manifest_message). A file reaches a person
through file_response() (permission + region, audited) and the client through the signed API (api/exchange_views).

Inbound: push() takes records a client system sent over the signed API (JSON records, or a CSV/XLSX file) and
hands them to the ingest pipeline as one batch of the source named after the client, read with the mapping
profile its InboundProfile names for that kind; rejected rows are quarantined with the pipeline's reasons.
"""

import csv
import datetime as dt
import hashlib
import io
import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core import spreadsheets
from foodrisk.core.services import audit, jobs

from . import signing
from .catalogue import DATASETS, SENSITIVE
from .errors import SharingError
from .models import ClientStatus, ClientSystem, ExchangeExport, ExportFormat, ExportStatus, InboundProfile
from .services import columns, dataset_row, fields_for, scoped_source

JOB_KIND = "sharing.export"
PERMISSION = "sharing.change_clientsystem"  # who manages a client's grant may send it its files
ROWS_PER_FILE = 500_000  # below XLSX's 1,048,576-row sheet limit; large exports become several files
READ_CHUNK = 2000
MAX_INBOUND_RECORDS = 10_000  # a larger delivery comes as several pushes (or as a batch file the data admin imports)
FILE_DAYS_PARAMETER = "sharing_exchange_file_days"
# (key, name, category, type, value, description, source) as core.seeds.PARAMETERS; seeded by migration 0005
PARAMETERS = [
    (FILE_DAYS_PARAMETER, "批量交换文件保留天数", "security", "int", 30,
     "批量交换导出的文件在生成后保留的天数，到期由定时任务删除文件（签名清单保留备查），需要时重新导出。", "系统默认"),
]
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "parquet": "parquet"}
CONTENT_TYPES = {**spreadsheets.CONTENT_TYPES, "parquet": "application/vnd.apache.parquet",
                 "json": "application/json"}


class ExchangeError(Exception):
    """An export that cannot be made, in words for the person (the job shows it)."""


# ------------------------------------------------------------------------------------------------ outbound
def request_export(*, user, client, dataset, fmt, schedule=None, job=None):
    """Ask for an export of `dataset` for `client` in `fmt`; its job runs in the worker. A person needs the
    right to manage the client and the client inside his jurisdiction; a schedule's job (user None) passes."""
    if user is not None and (not user.has_perm(PERMISSION) or not ClientSystem.objects.restrict(
            user, "view").filter(pk=client.pk).exists()):
        raise PermissionDenied(_("You may not export data for this client system."))
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": _("Unknown file format.")})
    if dataset not in DATASETS or not client.grants.get(dataset):
        raise ValidationError({"dataset": _("The client system is not granted this dataset.")})
    if client.status != ClientStatus.ACTIVE:
        raise ValidationError({"client": _("Only an approved, active client system receives exports.")})
    with transaction.atomic():
        export = ExchangeExport.objects.create(client=client, dataset=dataset, format=fmt, requested_by=user,
                                               schedule=schedule, job=job)
        audit.record("sharing.export.request", export, user=user,
                     details={"client": client.pk, "dataset": dataset, "format": fmt,
                              "schedule": schedule.pk if schedule else None})
        if job is None:
            export.job = jobs.start(JOB_KIND, user=user, params={"export": export.pk},
                                    title=_("Exchange export: %(client)s") % {"client": client.name})
            export.save(update_fields=["job"])
    return export


def scheduled_export(job, *, client, dataset, fmt):
    """A schedule's export (parameters {client: id, dataset, fmt}): made in the running job."""
    target = ClientSystem.objects.filter(pk=client).first()
    if target is None:
        raise ExchangeError(_("Unknown client system %(id)s.") % {"id": client})
    try:
        return request_export(user=None, client=target, dataset=dataset, fmt=fmt, schedule=job.job.schedule,
                              job=job.job)
    except ValidationError as exc:
        raise ExchangeError("；".join(exc.messages)) from None


def export_rows(client, dataset):
    """(fields, iterator of rows) of a dataset as the client may receive it: the same grant, region and masking
    as the pull API, read in keyset chunks so a large dataset is never all in memory at once."""
    fields = fields_for(client, dataset, "")
    spec = DATASETS[dataset]
    source, cols = scoped_source(client, spec), columns(spec, fields)

    def rows():
        last = 0
        while True:
            chunk = list(source.filter(pk__gt=last).order_by("pk").values(*cols)[:READ_CHUNK])
            if not chunk:
                return
            yield from (dataset_row(client, spec, values, fields) for values in chunk)
            last = chunk[-1]["pk"]

    return fields, rows()


def _flat(value):
    """A cell of a CSV/XLSX file: lists (risk labels) joined; Parquet keeps them as lists."""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


def _parquet_bytes(fields, rows):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=None) if rows else pa.table({f: pa.array([], pa.string())
                                                                             for f in fields})
    buffer = io.BytesIO()
    pq.write_table(table.select(fields) if rows else table, buffer, compression="zstd")
    return buffer.getvalue()


def file_content(fields, rows, fmt):
    if fmt == "parquet":
        return _parquet_bytes(fields, rows)
    table = [fields, *([_flat(r[f]) for f in fields] for r in rows)]
    return spreadsheets.file_bytes(table, fmt, sheet="data")


def field_entries(client, dataset, fields):
    spec = DATASETS[dataset]
    return [{"name": f, "label": str(spec.field(f).label), "sensitivity": spec.field(f).sensitivity,
             "masked": spec.field(f).sensitivity == SENSITIVE and f"{dataset}.{f}" not in client.unmasked}
            for f in fields]


def sign_manifest(client, manifest):
    return {**manifest, "signature": signing.sign(client.algorithm, client.secret,
                                                  signing.manifest_message(manifest))}


def build(job, export):
    """Write the files and the signed manifest; mark the export ready (or failed, the person told why)."""
    client = export.client
    as_of = timezone.now()
    ExchangeExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, as_of=as_of)
    stamp = timezone.localtime(as_of).strftime("%Y%m%d-%H%M%S")
    folder = f"exchange/{client.app_key}/{export.dataset}-{stamp}-{export.pk}"
    try:
        fields, rows = export_rows(client, export.dataset)
        files, total, part, chunk = [], 0, 0, []

        def flush():
            nonlocal part
            part += 1
            name = f"{export.dataset}-{stamp}-part{part:03d}.{EXTENSIONS[export.format]}"
            content = file_content(fields, chunk, export.format)
            stored = default_storage.save(f"{folder}/{name}", ContentFile(content))
            files.append({"name": name, "path": stored, "rows": len(chunk), "bytes": len(content),
                          "sha256": hashlib.sha256(content).hexdigest()})
            job.log(f"{name}: {len(chunk)} rows")

        for row in rows:
            chunk.append(row)
            total += 1
            if len(chunk) == ROWS_PER_FILE:
                flush()
                chunk = []
        if chunk or not files:
            flush()
        manifest = sign_manifest(client, {
            "manifest_version": 1, "export": export.pk, "client": client.app_key, "dataset": export.dataset,
            "dataset_version": DATASETS[export.dataset].version, "format": export.format,
            "fields": field_entries(client, export.dataset, fields), "rows": total,
            "files": [{k: f[k] for k in ("name", "rows", "bytes", "sha256")} for f in files],
            "as_of": timezone.localtime(as_of).isoformat(), "generated_at": timezone.localtime().isoformat(),
            "algorithm": client.algorithm})
        body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
        stored = default_storage.save(f"{folder}/manifest.json", ContentFile(body))
        files.append({"name": "manifest.json", "path": stored, "rows": 0, "bytes": len(body), "sha256": ""})
    except Exception as exc:
        ExchangeExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, finished_at=timezone.now(),
                                                           error=str(exc)[:300])
        raise
    with transaction.atomic():
        ExchangeExport.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY, rows=total, files=files, manifest=manifest, folder=folder,
            finished_at=timezone.now(), error="")
        audit.record("sharing.export.generate", export, details={
            "client": client.pk, "dataset": export.dataset, "format": export.format, "rows": total,
            "files": {f["name"]: f["sha256"] for f in files if f["sha256"]}})
    return {"export": export.pk, "rows": total, "files": len(files)}


def purge_expired(now=None):
    """Delete the files of exports finished more than sharing_exchange_file_days ago: the exchange platform has
    fetched them, and granted (possibly unmasked) data must not pile up in storage. The export row and its signed
    manifest stay (what was sent, when, with which digests). One audit entry per run. Returns how many."""
    from foodrisk.core import params

    cutoff = (now or timezone.now()) - dt.timedelta(days=int(params.get(FILE_DAYS_PARAMETER, 30)))
    expired = list(ExchangeExport.objects.filter(status=ExportStatus.READY, finished_at__lte=cutoff)
                   .only("pk", "files"))
    for export in expired:
        for entry in export.files:
            default_storage.delete(entry["path"])  # a file already gone from storage is no error
    with transaction.atomic():
        ExchangeExport.objects.filter(pk__in=[e.pk for e in expired]).update(status=ExportStatus.EXPIRED)
        if expired:
            audit.record("sharing.export.purge_files", object_type="sharing.exchangeexport",
                         details={"exports": [e.pk for e in expired], "older_than": cutoff.isoformat()})
    return len(expired)


def _stored(export, name):
    entry = next((f for f in export.files if f["name"] == name), None)
    if export.status != ExportStatus.READY or entry is None:
        raise Http404(_("This export has no such file."))
    try:
        return entry, default_storage.open(entry["path"], "rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None


def file_response(export, user, name):
    """A file of an export for a person who may see it (view permission, client inside his jurisdiction);
    audited as a download."""
    if not ExchangeExport.objects.restrict(user, "view").filter(pk=export.pk).exists():
        raise PermissionDenied
    entry, handle = _stored(export, name)
    audit.record("download", export, user=user, details={"file": entry["path"]})
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type=CONTENT_TYPES.get(name.rsplit(".", 1)[-1], "application/octet-stream"))


def client_file(client, export_id, name):
    """A file of one of the client's own ready exports, for the signed API; audited as the client's download."""
    export = ExchangeExport.objects.filter(pk=export_id, client=client, status=ExportStatus.READY).first()
    if export is None or not any(f["name"] == name for f in export.files):
        raise SharingError("NOT_FOUND")
    entry, handle = _stored(export, name)
    with transaction.atomic():
        audit.record("sharing.export.fetch", export, details={"client": client.pk, "file": entry["path"]})
    return entry, handle


def client_exports(client, limit=50):
    return [{"id": e.pk, "dataset": e.dataset, "format": e.format, "rows": e.rows,
             "as_of": timezone.localtime(e.as_of).isoformat() if e.as_of else None,
             "files": [f["name"] for f in e.files]}
            for e in ExchangeExport.objects.filter(client=client, status=ExportStatus.READY)[:limit]]


# ------------------------------------------------------------------------------------------------ inbound
def set_inbound(client, *, user, kind, profile):
    """Let a client push records of `kind`, read with `profile` (None: withdraw it). Audited; widening what a
    client may write is an administrator's decision like its grant."""
    from foodrisk.ingest.choices import Kind

    if not user.has_perm(PERMISSION) or not ClientSystem.objects.restrict(user, "change").filter(
            pk=client.pk).exists():
        raise PermissionDenied
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Unknown record kind.")})
    if profile is not None and profile.kind != kind:
        raise ValidationError({"profile": _("The mapping profile reads another record kind.")})
    with transaction.atomic():
        before = InboundProfile.objects.filter(client=client, kind=kind).first()
        if profile is None:
            InboundProfile.objects.filter(client=client, kind=kind).delete()
        else:
            InboundProfile.objects.update_or_create(client=client, kind=kind, defaults={"profile": profile})
        audit.record("sharing.clientsystem.inbound", client, user=user, details={
            "kind": kind, "before": before.profile.code if before else None,
            "after": profile.code if profile else None})


def _records_csv(records):
    """JSON records as the CSV file the ingest pipeline reads: one column per key, in first-seen order. Values are
    written as given (the pipeline validates and normalises them, as for any source file)."""
    if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
        raise SharingError("BAD_REQUEST", "records")
    if len(records) > MAX_INBOUND_RECORDS:
        raise SharingError("PAYLOAD_TOO_LARGE", str(MAX_INBOUND_RECORDS))
    headers = list(dict.fromkeys(str(k) for r in records for k in r))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for r in records:
        writer.writerow(["" if r.get(h) is None else (json.dumps(r[h], ensure_ascii=False)
                                                      if isinstance(r[h], (list, dict)) else r[h])
                         for h in headers])
    return buffer.getvalue().encode("utf-8")


def inbound_content(content_type, body):
    """(file bytes, extension) of a push: JSON {"records": [...]} becomes CSV; a CSV or XLSX file is taken as
    it is."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            payload = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise SharingError("BAD_REQUEST", "JSON") from None
        return _records_csv(payload.get("records") if isinstance(payload, dict) else None), "csv"
    if kind == "text/csv":
        return body, "csv"
    if kind == CONTENT_TYPES["xlsx"]:
        return body, "xlsx"
    raise SharingError("UNSUPPORTED_MEDIA_TYPE")


def push(client, kind, content_type, body):
    """Records pushed by a client into the ingest pipeline as one batch, run now. Returns the answer's data:
    the batch id and its counts (read, created, updated, quarantined…)."""
    from foodrisk.ingest.services import DuplicateFile, IngestError
    from foodrisk.ingest.services import batches as ingest
    from foodrisk.ingest.services.profiles import get_or_create_source

    grant = InboundProfile.objects.filter(client=client, kind=kind).select_related("profile").first()
    if grant is None:
        raise SharingError("INBOUND_NOT_GRANTED")
    content, ext = inbound_content(content_type, body)
    source = get_or_create_source(f"接入系统：{client.name}"[:100], system=client.organisation)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    try:
        batch = ingest.create_batch(source=source, kind=kind, content=content, profile=grant.profile.code,
                                    file_name=f"inbound-{client.app_key}-{kind}-{stamp}.{ext}", region=client.region)
    except DuplicateFile as exc:
        raise SharingError("DUPLICATE_BATCH", f"#{exc.earlier.pk}") from None
    except IngestError as exc:
        raise SharingError("BAD_REQUEST", str(exc)[:200]) from None
    with transaction.atomic():
        audit.record("sharing.inbound.push", batch, details={"client": client.pk, "kind": kind,
                                                             "bytes": len(content), "file": batch.file_name})
    ingest.start_batch(batch, wait=True)
    batch.refresh_from_db()
    return {"batch": batch.pk, "status": batch.status, **ingest.counts(batch),
            "rejected": rejected_rows(batch)}


def rejected_rows(batch, limit=100):
    """The quarantined rows of a pushed batch with their reason codes and what they mean (in Chinese): the
    sender can correct and push them again; the data admin sees the same rows in the quarantine."""
    from foodrisk.ingest.validators import reason_label

    return [{"row": q.row_no, "reasons": q.reasons, "messages": [str(reason_label(r, batch.kind)) for r in q.reasons]}
            for q in batch.quarantine.order_by("row_no")[:limit]]

