"""Batch exchange (批量交换), inbound pushes and call anomaly alarms of the sharing API (issue 15, items 5 and 6).

Kept apart from models.py (clients, nonces, the call log) so each concern reads on its own; models.py imports
these so Django finds them in the app."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import UnicodeJSONEncoder


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    PARQUET = "parquet", "Parquet"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being generated")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Files deleted after the retention period")


class ExchangeExport(models.Model):
    """One dataset written to files for a client system's exchange platform: the rows its grant, region and
    masking allow as of a moment, a manifest (fields, row count, SHA-256 of each file) signed with the client's
    secret, all in the project's file storage (local or S3). Made by a worker job, on demand or by a schedule."""

    client = models.ForeignKey("sharing.ClientSystem", verbose_name=_("client system"), on_delete=models.PROTECT,
                               related_name="exports")
    dataset = models.CharField(_("dataset"), max_length=40)
    format = models.CharField(_("file format"), max_length=8, choices=ExportFormat.choices)
    as_of = models.DateTimeField(_("as of"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED,
                              db_index=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    files = models.JSONField(_("files"), default=list, blank=True, encoder=UnicodeJSONEncoder)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    folder = models.CharField(_("storage folder"), max_length=200, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    job = models.ForeignKey("core.Job", verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    schedule = models.ForeignKey("core.Schedule", verbose_name=_("schedule"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    scope_field = "client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("exchange export")
        verbose_name_plural = _("exchange exports")
        default_permissions = ("view",)  # written by the exchange service only

    def __str__(self):
        return f"{self.client} · {self.dataset} · {self.format} #{self.pk}"

    def get_absolute_url(self):
        return reverse("sharing:exchangeexport_detail", args=[self.pk])


class InboundProfile(models.Model):
    """What a client system may push (入站推送): one record kind, read with one ingest mapping profile. The
    pushed records become an ingest batch of the source named after the client, with the usual quarantine."""

    client = models.ForeignKey("sharing.ClientSystem", verbose_name=_("client system"), on_delete=models.CASCADE,
                               related_name="inbound_profiles")
    kind = models.CharField(_("record kind"), max_length=20)
    profile = models.ForeignKey("ingest.MappingProfile", verbose_name=_("mapping profile"), on_delete=models.PROTECT,
                                related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "kind"]
        verbose_name = _("inbound grant")
        verbose_name_plural = _("inbound grants")
        constraints = [models.UniqueConstraint(fields=["client", "kind"], name="sharing_inbound_once")]

    def __str__(self):
        return f"{self.client} · {self.kind}"


class AlarmKind(models.TextChoices):
    SIGNATURE_FAILURES = "signature_failures", _("Burst of signature failures")
    REPLAYS = "replays", _("Replay attempts")
    ERROR_RATE = "error_rate", _("High error rate")
    VOLUME = "volume", _("Unusual volume")


class SharingAlarm(models.Model):
    """An anomaly on the call log raised to the administrators (调用异常告警), kept with the figures that
    crossed the threshold; acknowledging it records who looked."""

    kind = models.CharField(_("alarm kind"), max_length=20, choices=AlarmKind.choices, db_index=True)
    client = models.ForeignKey("sharing.ClientSystem", verbose_name=_("client system"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="alarms")
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    observed = models.FloatField(_("observed"))
    threshold = models.FloatField(_("threshold"))
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=UnicodeJSONEncoder)
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True, db_index=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)

    scope_field = "client__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("sharing alarm")
        verbose_name_plural = _("sharing alarms")
        default_permissions = ("view", "change")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.client or self.ip or ''}"

    def get_absolute_url(self):
        return reverse("sharing:sharingalarm_list")
