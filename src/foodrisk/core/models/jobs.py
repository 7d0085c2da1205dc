from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..querysets import OwnedRestrictedQuerySet, RestrictedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class JobQuerySet(OwnedRestrictedQuerySet):
    owner_field = "created_by"  # whoever started a job follows it (an export, an import) without view_job

    def in_scope(self, user):
        # A job belongs to whoever started it; users with view_job see every job in their scope.
        qs = super().in_scope(user)
        if user.has_perm("core.view_all_jobs"):
            return qs
        return qs.filter(created_by=user)


class Job(models.Model):
    """A user-visible piece of background work with progress, log and result."""

    kind = models.CharField(_("kind"), max_length=64, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=12, choices=JobStatus.choices, default="queued")
    progress = models.FloatField(_("progress"), default=0.0)
    message = models.CharField(_("message"), max_length=300, blank=True)
    log = models.TextField(_("log"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    result_file = models.FileField(_("result file"), upload_to="jobs/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey("core.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    schedule = models.ForeignKey("core.Schedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # A running job's process stamps heartbeat_at every few seconds; a job whose heartbeat stopped was
    # abandoned by a dead worker (services.jobs.recover_abandoned marks it failed or queues it again).
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    worker_id = models.CharField(_("worker"), max_length=64, blank=True)

    scope_field = "region"
    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        permissions = [("view_all_jobs", _("Can see other users' jobs"))]

    def __str__(self):
        return f"{self.title} #{self.pk}"

    def get_absolute_url(self):
        return reverse("core:job_detail", args=[self.pk])

    @property
    def finished(self):
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Frequency(models.TextChoices):
    HOURLY = "hourly", _("Hourly")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class Schedule(models.Model):
    """A periodic job defined in data (e.g. monthly full scoring), started by `foodrisk scheduler`."""

    name = models.CharField(_("name"), max_length=100)
    job_kind = models.CharField(_("job kind"), max_length=64)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    at_time = models.TimeField(_("at (Beijing time)"), default="02:00")
    weekday = models.PositiveSmallIntegerField(_("weekday (1=Monday)"), default=1)
    day_of_month = models.PositiveSmallIntegerField(_("day of month"), default=1)
    enabled = models.BooleanField(_("enabled"), default=True)
    next_run_at = models.DateTimeField(_("next run"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:schedule_detail", args=[self.pk])


class WorkerProcess(models.Model):
    """A running `foodrisk db_worker` process: its heartbeat tells readiness checks and the recovery of abandoned
    work whether it is alive."""

    worker_id = models.CharField(_("worker"), max_length=64, unique=True)
    hostname = models.CharField(_("host"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    queues = models.CharField(_("queues"), max_length=200, blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    beat_at = models.DateTimeField(_("heartbeat"), db_index=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)

    class Meta:
        ordering = ["-beat_at"]
        verbose_name = _("worker process")
        verbose_name_plural = _("worker processes")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.hostname}:{self.pid} ({self.worker_id[:8]})"
