"""Start, run and follow user-visible jobs. Runs in the django.tasks worker (django-tasks-db).

A job is queued as a task row in the transaction that starts it (the outbox); while it runs, its process stamps
Job.heartbeat_at. A job whose heartbeat stopped (its worker was killed) is found by `recover_abandoned`, which
every worker runs: a kind registered with retry=True (its work is atomic or idempotent, e.g. a scoring run,
which publishes in one transaction) is queued again up to MAX_ATTEMPTS; any other kind is marked failed.
`job_abandoned` tells the owning app (scoring marks the job's run failed).
"""

import datetime as dt
import logging
import time
import traceback

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import context, jobs, outbox
from ..metrics import JOB_DURATION, JOB_FAILURES
from ..models import Job, WorkerProcess

MAX_ATTEMPTS = 3
ABANDONED_ERROR = "the worker running this job stopped responding (heartbeat lost)"
job_abandoned = Signal()  # job (its attempt that died), retried (bool); sent inside the recovery transaction

logger = logging.getLogger(__name__)


class JobContext:
    """What a job function sees: progress, log lines and an attached result file."""

    def __init__(self, job):
        self.job = job
        self._last_save = 0.0

    @property
    def params(self):
        return self.job.params

    @property
    def user(self):
        return self.job.created_by

    def progress(self, done, total=None, message=""):
        fraction = done / total if total else float(done)
        self.job.progress = max(0.0, min(1.0, fraction))
        if message:
            self.job.message = message[:300]
        Job.objects.filter(pk=self.job.pk).update(progress=self.job.progress, message=self.job.message)

    def log(self, line):
        stamp = timezone.localtime().strftime("%H:%M:%S")
        self.job.log += f"[{stamp}] {line}\n"
        Job.objects.filter(pk=self.job.pk).update(log=self.job.log)

    def attach(self, name, content: bytes):
        self.job.result_file.save(name, ContentFile(content), save=False)
        Job.objects.filter(pk=self.job.pk).update(result_file=self.job.result_file.name)


def start(kind, *, user=None, params=None, title=None, schedule=None, run_now=False):
    """Create the Job and queue it after commit (a rolled-back caller leaves no orphan task)."""
    from . import audit

    spec = jobs.get(kind)
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind, title=title or str(spec.title), params=params or {}, created_by=user,
            region_id=(user.scope_code if user and user.scope_prefix != "" else None),
            schedule=schedule,
        )
        audit.record("core.job.start", job, details={"kind": kind, "params": params or {}}, user=user)
        if run_now:
            transaction.on_commit(lambda: execute(job.pk))
        else:
            _enqueue(job, spec.queue)
    return job


def _enqueue(job, queue):
    """The job's task row, in the caller's transaction (outbox.enqueue)."""
    from ..tasks import run_job

    result = outbox.enqueue(run_job, job.pk, queue=queue)
    if result is not None:
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def execute(job_id):
    """Run a job to its end, recording success or failure; never raises into the worker loop. The job is claimed
    (queued → running) atomically, so a job is run by one process at a time; a claimed or finished one is left."""
    from ..worker import Beat, current_worker_id

    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status="queued").update(
        status="running", started_at=now, heartbeat_at=now, attempts=F("attempts") + 1,
        worker_id=current_worker_id())
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if not claimed:
        return job.status
    spec = jobs.get(job.kind)
    ctx = JobContext(job)
    started = time.perf_counter()
    beat = Beat(lambda: Job.objects.filter(pk=job_id, status="running").update(heartbeat_at=timezone.now()),
                settings.WORKER_HEARTBEAT_SECONDS, f"job-{job_id}-heartbeat")
    beat.start()
    try:
        with context.acting(user=job.created_by, request_id=f"job-{job.pk}"):
            try:
                result = spec.func(ctx, **job.params)
            except Exception as exc:  # the job is marked failed; the previous published results stay
                logger.exception("job %s failed", job.pk)
                Job.objects.filter(pk=job.pk, status="running").update(
                    status="failed", error=f"{exc}\n\n{traceback.format_exc()}"[-20000:],
                    finished_at=timezone.now(), log=ctx.job.log, message=failure_message(spec, exc, job.pk)[:300],
                )
                _observe(job.kind, "failed", started)
                return "failed"
    finally:
        beat.stop()
    Job.objects.filter(pk=job.pk, status="running").update(status="succeeded", progress=1.0, result=result,
                                                           finished_at=timezone.now())
    _observe(job.kind, "succeeded", started)
    return "succeeded"


def failure_message(spec, exc, job_id):
    """What the person sees of a failed job: the text of an exception written for them (spec.user_errors), else a
    general message in Chinese (the exception and its traceback are in job.error, shown to administrators)."""
    if spec.user_errors and isinstance(exc, spec.user_errors) and str(exc):
        return str(exc)
    return _("The job stopped because of a system error; the administrator can see the details (job #%(id)s).") % {
        "id": job_id}


def _observe(kind, status, started):
    JOB_DURATION.labels(kind, status).observe(time.perf_counter() - started)
    if status == "failed":
        JOB_FAILURES.labels(kind).inc()


# ------------------------------------------------------------------------------------------ recovery
def _dead_cutoff(now=None):
    return (now or timezone.now()) - dt.timedelta(seconds=settings.WORKER_DEAD_AFTER_SECONDS)


def recover_abandoned(now=None):
    """Jobs left `running` by a dead process are queued again (kinds registered retry=True, up to MAX_ATTEMPTS
    attempts) or marked failed; task rows claimed by a dead worker are handed back (release_lost_tasks).
    Safe to run from several workers at once (rows are claimed with SKIP LOCKED). Returns
    {"retried": [job ids], "failed": [job ids], "tasks": n}."""
    from . import audit

    cutoff = _dead_cutoff(now)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    out = {"retried": [], "failed": [], "tasks": 0}
    for pk in Job.objects.filter(silent, status="running").values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update(skip_locked=True).filter(silent, pk=pk, status="running").first()
            if job is None:  # another worker is recovering it, or it beat meanwhile
                continue
            spec = jobs.get(job.kind) if job.kind in jobs.kinds() else None
            retry = spec is not None and spec.retry and job.attempts < MAX_ATTEMPTS
            stamp = timezone.localtime().strftime("%H:%M:%S")
            note = f"[{stamp}] {ABANDONED_ERROR} (attempt {job.attempts} of {MAX_ATTEMPTS})"
            if retry:
                Job.objects.filter(pk=pk).update(status="queued", heartbeat_at=None, worker_id="", progress=0.0,
                                                 log=f"{job.log}{note}; queued again\n")
                _enqueue(job, spec.queue)
                out["retried"].append(pk)
            else:
                Job.objects.filter(pk=pk).update(status="failed", error=ABANDONED_ERROR, finished_at=timezone.now(),
                                                 log=f"{job.log}{note}; not retried\n")
                out["failed"].append(pk)
            audit.record("core.job.abandoned", job, details={"kind": job.kind, "attempt": job.attempts,
                                                              "retried": retry})
            job_abandoned.send(sender=Job, job=job, retried=retry)
    dead_workers = WorkerProcess.objects.filter(beat_at__lt=cutoff).values_list("worker_id", flat=True)
    out["tasks"] = release_lost_tasks(_running_tasks_of(set(dead_workers)), reason=ABANDONED_ERROR)
    return out


def _running_tasks_of(worker_ids):
    from django_tasks_db.models import DBTaskResult

    if not worker_ids:
        return []
    return [pk for pk, workers in DBTaskResult.objects.filter(status="RUNNING").values_list("pk", "worker_ids")
            if workers and workers[-1] in worker_ids]


def release_lost_tasks(task_ids, *, reason):
    """Task rows whose run was lost: a reaction is made ready again (reactions are idempotent); a job's task row
    is closed as failed (its Job's heartbeat decides whether the job runs again). Returns the number handled."""
    from django_tasks_db.models import DBTaskResult

    if not task_ids:
        return 0
    running = DBTaskResult.objects.filter(pk__in=task_ids, status="RUNNING")
    again = running.filter(task_path=outbox.run_reaction.module_path).update(status="READY", started_at=None)
    closed = running.exclude(task_path=outbox.run_reaction.module_path).update(
        status="FAILED", finished_at=timezone.now(), exception_class_path="foodrisk.core.worker.WorkerLost",
        traceback=reason)
    if again or closed:
        logger.warning("handed back %s lost reaction task(s), closed %s lost job task(s): %s", again, closed, reason)
    return again + closed


# ------------------------------------------------------------------------------------------ health
def worker_heartbeat_age(now=None):
    """Seconds since the freshest heartbeat of a running worker process, or None when none ever beat."""
    beat = WorkerProcess.objects.filter(stopped_at__isnull=True).order_by("-beat_at").values_list(
        "beat_at", flat=True).first()
    return None if beat is None else max(0.0, ((now or timezone.now()) - beat).total_seconds())


def live_workers(now=None):
    """Worker processes whose heartbeat is fresh."""
    return WorkerProcess.objects.filter(stopped_at__isnull=True, beat_at__gte=_dead_cutoff(now))


def queue_depth():
    """{queue name: tasks ready to run now}."""
    from django.db.models import Count
    from django.tasks import default_task_backend
    from django_tasks_db.models import DBTaskResult

    rows = (DBTaskResult.objects.ready().filter(backend_name=default_task_backend.alias).order_by()
            .values_list("queue_name").annotate(n=Count("id")))
    return dict(rows)


def failed_jobs(since=None):
    """Jobs that failed (since `since`, default the last 24 hours)."""
    since = since or timezone.now() - dt.timedelta(hours=24)
    return Job.objects.filter(status="failed", finished_at__gte=since)


def failed_tasks(since=None):
    """Task rows (reactions, deliveries, job runs) whose run failed since `since` (default 24 hours)."""
    from django_tasks_db.models import DBTaskResult

    since = since or timezone.now() - dt.timedelta(hours=24)
    return DBTaskResult.objects.failed().filter(finished_at__gte=since)


# --- generated files (exports, reports): kept for a while, then deleted -------------------------------------------
def file_days():
    from .. import params

    return int(params.get("generated_file_days", 7))


def file_expires_at(job):
    """When a job's file is deleted (the parameter generated_file_days after the job finished)."""
    if not job.result_file or job.finished_at is None:
        return None
    return job.finished_at + dt.timedelta(days=file_days())


def my_files(user, now=None):
    """The files of the jobs a person started that can still be downloaded, newest first, with their expiry."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=file_days())
    files = (Job.objects.filter(created_by=user, status="succeeded", finished_at__gt=cutoff)
             .exclude(result_file="").order_by("-finished_at"))
    return [(job, file_expires_at(job)) for job in files]


def purge_expired_files(now=None):
    """Delete the files of jobs finished more than generated_file_days ago (sensitive exports must not pile up
    in storage); the job rows stay, without their file. One audit entry per run. Returns how many."""
    from . import audit

    cutoff = (now or timezone.now()) - dt.timedelta(days=file_days())
    expired = list(Job.objects.filter(finished_at__lte=cutoff).exclude(result_file="").only("pk", "result_file"))
    for job in expired:
        job.result_file.delete(save=False)  # a file already gone from storage is no error
    with transaction.atomic():
        Job.objects.filter(pk__in=[j.pk for j in expired]).update(result_file="")
        if expired:
            audit.record("core.job.purge_files", object_type="core.job",
                         details={"files": len(expired), "older_than": cutoff.isoformat()})
    return len(expired)
