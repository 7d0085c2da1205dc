"""Start, run and follow user-visible jobs. Runs in the django.tasks worker (django-tasks-db)."""

import logging
import time
import traceback

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import context, jobs
from ..metrics import JOB_DURATION, JOB_FAILURES
from ..models import Job

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
            transaction.on_commit(lambda: _enqueue(job, spec.queue))
    return job


def _enqueue(job, queue):
    from ..tasks import run_job

    result = run_job.using(queue_name=queue).enqueue(job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))


def execute(job_id):
    """Run a job to its end, recording success or failure; never raises into the worker loop."""
    job = Job.objects.select_related("created_by").get(pk=job_id)
    if job.finished:
        return job.status
    spec = jobs.get(job.kind)
    job.status, job.started_at = "running", timezone.now()
    job.save(update_fields=["status", "started_at"])
    ctx = JobContext(job)
    started = time.perf_counter()
    with context.acting(user=job.created_by, request_id=f"job-{job.pk}"):
        try:
            result = spec.func(ctx, **job.params)
        except Exception as exc:  # the job is marked failed; the previous published results stay
            logger.exception("job %s failed", job.pk)
            Job.objects.filter(pk=job.pk).update(
                status="failed", error=f"{exc}\n\n{traceback.format_exc()}"[-20000:], finished_at=timezone.now(),
                log=ctx.job.log, message=failure_message(spec, exc, job.pk)[:300],
            )
            _observe(job.kind, "failed", started)
            return "failed"
    Job.objects.filter(pk=job.pk).update(status="succeeded", progress=1.0, result=result,
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
