"""A file's batch: stored and created, run as a job (chunks prepared a step ahead of the writes), finished
with its counts, report and quality snapshot."""

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core.models import Region
from foodrisk.core.services import audit

from .. import mapping, profile_format, readers
from ..models import Batch, MappingProfile, QualitySnapshot
from . import DuplicateFile, IngestError
from .pipeline import COUNT_FIELD, Pipeline, blank_row
from .profiles import (
    detect,
    ensure_builtin_profiles,
    ensure_profile_regions,
    get_or_create_source,
    profile_config,
)
from .quarantine import store_rejects

logger = logging.getLogger(__name__)

CHUNK = 10_000  # rows per write: small enough that cleaning the next chunk overlaps writing this one
# a running batch with no progress for this long has lost its process (a chunk takes seconds; reading a large
# workbook or linking a large batch by name, minutes)
STALE_AFTER = dt.timedelta(minutes=15)


def create_batch(*, user=None, source, kind="auto", content: bytes, file_name, profile=None, import_day=None,
                 region=None, parent=None, confirm_duplicate=False):
    """Store the file and create a pending batch (kind and profile detected from the headers when 'auto').
    A file already imported (same SHA-256, source, kind and region, not failed) raises DuplicateFile unless
    confirm_duplicate; a confirmed re-import is audited as such."""
    ensure_builtin_profiles()
    if isinstance(source, str):
        source = get_or_create_source(source, user=user)
    profile_code = profile.code if isinstance(profile, MappingProfile) else profile
    try:
        read = profile_format.read_options(profile_config(profile) if profile else None)  # its sheet and header row
    except KeyError:
        raise IngestError(_("Unknown mapping profile: %(code)s") % {"code": profile_code}) from None
    try:
        table = readers.read_headers(content, file_name, **read)  # the rows are read when the batch runs
    except readers.UnreadableFile as exc:
        raise IngestError(str(exc)) from None
    if not any(table.headers):
        raise IngestError(_("The file has no header row."))
    if kind in (None, "", "auto"):
        kind, detected = detect(table.headers)
        profile_code = profile_code or detected
    elif not profile_code:
        detected_kind, detected = detect(table.headers)
        profile_code = detected if detected_kind == kind else mapping.profile_code_for(kind)
    if kind not in mapping.KINDS:
        raise IngestError(_("Unknown record kind: %(kind)s") % {"kind": kind})
    profile_obj = MappingProfile.objects.filter(code=profile_code).first()
    if profile_obj is None or profile_obj.builtin:
        ensure_profile_regions(profile_code, user=user)  # e.g. Chicago's ZIP areas, which its region map names
    if region is None and user is not None and getattr(user, "scope_prefix", "") not in ("", None):
        region = Region.objects.filter(pk=user.scope_code).first()
    digest = hashlib.sha256(content).hexdigest()
    earlier = (Batch.objects.filter(file_digest=digest, source=source, kind=kind, region=region)
               .exclude(status="failed").order_by("-created_at").first())
    if earlier is not None and not confirm_duplicate:
        raise DuplicateFile(_("This file was already imported as batch #%(batch)s (%(file)s, %(when)s). Confirm to "
                              "import it again.") % {"batch": earlier.pk, "file": earlier.file_name,
                                                     "when": timezone.localtime(earlier.created_at)
                                                     .strftime("%Y-%m-%d %H:%M")}, earlier)
    with transaction.atomic():
        batch = Batch(source=source, kind=kind, profile=profile_obj, file_name=file_name[:255], file_digest=digest,
                      started_by=user if user is not None and user.is_authenticated else None, region=region,
                      import_day=import_day, parent=parent)
        batch.file.save(file_name.rsplit("/", 1)[-1], ContentFile(content), save=False)
        batch.save()
        audit.record("ingest.batch.create", batch, user=user,
                     details={"kind": kind, "profile": profile_code, "file_digest": digest, "bytes": len(content),
                              **({"duplicate_of": earlier.pk} if earlier is not None else {})})
        if earlier is not None:  # the person chose to import the same file again: on the record, by name
            audit.record("ingest.batch.confirm_duplicate", batch, user=user,
                         details={"duplicate_of": earlier.pk, "file_digest": digest})
    return batch


def start_batch(batch, *, user=None, wait=False):
    """Run the batch as a job ("ingest.batch"): queued for the worker, or in this process with wait=True."""
    from foodrisk.core.services import jobs

    job = jobs.start("ingest.batch", user=user, params={"batch_id": batch.pk}, run_now=wait,
                     title=f"{batch.get_kind_display()} · {batch.file_name}")
    Batch.objects.filter(pk=batch.pk).update(job=job)
    batch.job = job
    if wait:
        job.refresh_from_db()
        if not job.finished:  # inside an outer transaction on_commit has not fired yet: run it here
            jobs.execute(job.pk)
            job.refresh_from_db()
    return job


def run_batch(batch, *, progress=None, log=None):
    """Import one stored batch end to end; returns the report. Re-running a running or finished batch is refused.

    Each chunk's rows, its quarantined rows and review candidates, and the batch's counters move in one
    transaction: the counters always equal what is committed, whatever stops the process. A batch whose process
    or connection died is found by fail_stale_batches; resume_batch runs it again from its first uncommitted row
    (rows_read of them are committed), going on with the counts kept on the batch."""
    if batch.status in ("running", "succeeded"):
        raise IngestError(_("Batch %(id)s is already %(status)s.") % {"id": batch.pk,
                                                                     "status": batch.get_status_display()})
    t0 = time.perf_counter()
    committed = batch.rows_read  # by an earlier run that was interrupted
    Batch.objects.filter(pk=batch.pk).update(status="running", started_at=timezone.now(), heartbeat_at=timezone.now(),
                                             error="", finished_at=None)
    with transaction.atomic():
        audit.record("ingest.batch.start", batch, details={"kind": batch.kind, "file": batch.file_name,
                                                           **({"resumed_after_rows": committed} if committed else {})})
    try:
        pipe = Pipeline(batch)
        with batch.file.open("rb") as fh:
            table = readers.read_bytes(fh.read(), batch.file_name, **profile_format.read_options(pipe.config))
        t_read = time.perf_counter()
        _beat(batch)
        pipe.restore((batch.report or {}).get("progress"))
        headers = table.headers
        numbered = [(i + 1, cells) for i, cells in enumerate(table.rows) if not blank_row(cells)]
        total, numbered = len(numbered), numbered[committed:]
        chunks = [numbered[start:start + CHUNK] for start in range(0, len(numbered), CHUNK)]
        pipe.preload()
        pipe.link_names(headers, numbered)
        _beat(batch)
        done = committed
        for chunk, prepared in zip(chunks, prepared_chunks(pipe, headers, chunks), strict=True):
            with transaction.atomic():
                outcomes = pipe.commit(prepared)
                store_rejects(batch, outcomes)
                _commit_counts(batch, pipe, outcomes)
            done += len(chunk)
            if progress:
                progress(done, total, f"{done}/{total}")
        elapsed = time.perf_counter() - t0
        report = _finish(batch, pipe, table, elapsed, t_read - t0)
    except Exception as exc:
        # the person sees a message in Chinese; the exception itself goes to the job's error and the audit entry
        shown = str(exc) if isinstance(exc, (readers.UnreadableFile, IngestError)) else _(
            "The import stopped because of a system error; the rows committed so far are kept and the batch can be "
            "resumed (details in the job log).")
        try:
            Batch.objects.filter(pk=batch.pk).update(status="failed", error=shown, finished_at=timezone.now())
            with transaction.atomic():
                audit.record("ingest.batch.fail", batch, details={"error": str(exc)[:500]})
        except Exception:  # e.g. the database is gone: keep the original error; fail_stale_batches marks it later
            logger.exception("batch %s: could not record its failure", batch.pk)
        raise
    if log:
        log(format_report(batch))
    return report


def _beat(batch):
    """The batch is alive (see fail_stale_batches)."""
    Batch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now())


def _commit_counts(batch, pipe, outcomes):
    """Add a chunk's outcomes to the batch's counters, inside the chunk's transaction. A batch no longer running
    (fail_stale_batches gave it up) stops here, and the chunk is rolled back with it."""
    moved = Counter(COUNT_FIELD[o.status] for o in outcomes)
    alive = Batch.objects.filter(pk=batch.pk, status="running").update(
        rows_read=F("rows_read") + len(outcomes), **{f: F(f) + n for f, n in moved.items()},
        heartbeat_at=timezone.now(), report={"progress": pipe.progress()})
    if not alive:
        raise IngestError(_("The batch was given up as interrupted while it ran; resume it to import the rest."))


def fail_stale_batches(older_than=STALE_AFTER):
    """Batches left running by a process or connection that died: no progress for `older_than`, or their job has
    ended. Each is marked failed (its committed rows and counters stay; resume_batch goes on) and audited.
    Returns how many. Called by the batch pages and API, and by `foodrisk ingest_stale`."""
    cutoff = timezone.now() - older_than
    stale = (Batch.objects.filter(status="running")
             .filter(Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
                     | Q(job__status__in=("succeeded", "failed")))
             .only("pk", "rows_read", "heartbeat_at", "region_id", "file_name", "kind"))
    marked = 0
    for batch in stale:
        with transaction.atomic():
            if Batch.objects.filter(pk=batch.pk, status="running").update(
                    status="failed", finished_at=timezone.now(),
                    error=_("The import was interrupted (its process or database connection stopped). The %(rows)s "
                            "rows committed are kept: resume the batch to import the rest.")
                    % {"rows": batch.rows_read}):
                audit.record("ingest.batch.stale", batch, details={
                    "rows_committed": batch.rows_read,
                    "last_progress": batch.heartbeat_at.isoformat() if batch.heartbeat_at else None})
                marked += 1
    return marked


def resume_batch(batch, *, user=None, wait=False):
    """Run a failed batch again from its first uncommitted row (as a job, see start_batch); audited."""
    with transaction.atomic():
        if not Batch.objects.filter(pk=batch.pk, status="failed").update(status="pending", error="",
                                                                          finished_at=None):
            raise IngestError(_("Only a failed batch can be resumed."))
        audit.record("ingest.batch.resume", batch, user=user, details={"rows_committed": batch.rows_read})
    batch.refresh_from_db()
    return start_batch(batch, user=user, wait=wait)


def prepared_chunks(pipe, headers, chunks):
    """Each chunk cleaned, validated and resolved (Pipeline.prepare) by a thread, a step ahead of the caller
    writing the one before: the waits for the database (which works on the other core) release the GIL.
    (A forked process instead of the thread was measured: no faster on two cores, where Python, the child and
    PostgreSQL then compete for the same two.)"""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-prepare") as prepare:
        upcoming = prepare.submit(pipe.prepare, headers, chunks[0]) if chunks else None
        for i in range(len(chunks)):
            prepared = upcoming.result()
            if i + 1 < len(chunks):
                upcoming = prepare.submit(pipe.prepare, headers, chunks[i + 1])
            yield prepared


def _finish(batch, pipe, table, elapsed, read_seconds):
    batch.refresh_from_db()  # the committed counters are the truth (a resumed run counted only its own rows)
    assert batch.counts_add_up, "batch counts do not add up"
    rows = batch.rows_read
    field_stats = {}
    for f in mapping.KEY_FIELDS[batch.kind]:
        failed = pipe.field_failures.get(f, 0)
        field_stats[f] = {"checked": rows, "failed": failed, "pass_rate": round(1 - failed / rows, 6) if rows else 1.0}
    codes = {}
    for r, n in pipe.reason_counts.items():
        code = r.partition(":")[0]
        codes[code] = codes.get(code, 0) + n
    report = {
        "rows_read": rows, "written": pipe.written, "format": table.fmt, "encoding": table.encoding,
        "profile": batch.profile.code if batch.profile_id else mapping.profile_code_for(batch.kind),
        "reasons": dict(sorted(pipe.reason_counts.items())), "reason_codes": dict(sorted(codes.items())),
        "notes": pipe.note_counts, "seconds": round(elapsed, 3), "read_seconds": round(read_seconds, 3),
        "rows_per_second": round(pipe.rows / elapsed, 1) if elapsed else None,  # this run's rows
        "import_day": pipe.import_day.isoformat(),
        # how rows without a USCC were matched by name: rapidfuzz row by row, or splink for a large batch
        "linkage": pipe._resolver.method if pipe._resolver is not None else None,
        # how each accepted row found its enterprise (uscc | licence | crosswalk | name | review), counts and rows
        "links": dict(sorted(pipe.link_counts.items())),
        "link_rows": {method: row_ranges(rows) for method, rows in sorted(pipe.link_rows.items())},
    }
    passed = rows - batch.quarantined - batch.in_review
    with transaction.atomic():
        Batch.objects.filter(pk=batch.pk).update(status="succeeded", finished_at=timezone.now(),
                                                 heartbeat_at=timezone.now(), report=report)
        QualitySnapshot.objects.update_or_create(batch=batch, defaults=dict(
            kind=batch.kind, rows=rows, field_stats=field_stats, reason_counts=codes, note_counts=pipe.note_counts,
            pass_rate=round(passed / rows, 6) if rows else 1.0))
        batch.refresh_from_db()
        audit.record("ingest.batch.finish", batch, details={"counts": counts(batch), "seconds": report["seconds"]})
    return report


def row_ranges(ranges):
    """[[3, 5], [9, 9]] → "3-5,9": the rows of a link method, short enough to keep in the batch report."""
    return ",".join(f"{a}-{b}" if b != a else f"{a}" for a, b in ranges)


def counts(batch):
    return {"rows_read": batch.rows_read, "accepted_new": batch.accepted_new,
            "accepted_updated": batch.accepted_updated, "unchanged": batch.unchanged,
            "merged_duplicates": batch.merged_duplicates, "quarantined": batch.quarantined,
            "in_review": batch.in_review}


def batch_title(batch):
    """「批次 #12 business_licenses.csv（企业）」: how logs and reports name a batch."""
    return _("Batch #%(id)s %(file)s (%(kind)s)") % {"id": batch.pk, "file": batch.file_name,
                                                     "kind": mapping.KIND_LABELS.get(batch.kind, batch.kind)}


def format_report(batch):
    """The batch's report as plain text in Chinese (the import command's output and the job log): its counts
    (they add up to the rows read), speed, how rows were linked, quarantine reasons and notes in words."""
    from ..choices import LINK_LABELS
    from ..validators import reason_label

    r = batch.report or {}
    lines = [f"{batch_title(batch)}：{batch.get_status_display()}",
             "  " + _("rows read %(rows_read)s = new %(accepted_new)s + updated %(accepted_updated)s + unchanged "
                      "%(unchanged)s + merged duplicates %(merged_duplicates)s + quarantined %(quarantined)s + "
                      "in review %(in_review)s") % counts(batch)]
    if r.get("seconds") is not None:
        lines.append("  " + _("%(seconds)s s, %(speed)s rows/s (%(format)s %(encoding)s)") % {
            "seconds": r["seconds"], "speed": r.get("rows_per_second"), "format": (r.get("format") or "").upper(),
            "encoding": (r.get("encoding") or "").upper()})
    if r.get("links"):
        lines.append("  " + _("linked: %(links)s") % {"links": "；".join(
            f"{LINK_LABELS.get(m, m)} {n}" for m, n in sorted(r["links"].items(), key=lambda kv: -kv[1]))})
    if r.get("reasons"):
        lines.append("  " + _("quarantine reasons: %(reasons)s") % {"reasons": "；".join(
            f"{reason_label(code, batch.kind)} {n}" for code, n in sorted(r["reasons"].items(), key=lambda kv: -kv[1]))})
    if r.get("notes"):
        lines.append("  " + _("notes: %(notes)s") % {"notes": "；".join(
            f"{reason_label(code, batch.kind)} {n}" for code, n in sorted(r["notes"].items(), key=lambda kv: -kv[1]))})
    if batch.status == "failed" and batch.error:
        lines.append("  " + batch.error)
    return "\n".join(lines)
