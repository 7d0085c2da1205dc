from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..querysets import OwnedRestrictedQuerySet


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", "Excel"
    CSV = "csv", "CSV"


class ExportRequestQuerySet(OwnedRestrictedQuerySet):
    owner_field = "requested_by"  # a requester follows their exports; approvers (view_exportrequest) their scope's


class ExportRequest(models.Model):
    """One export of a list or ledger (every export leaves one, small or large). With sensitive fields a
    second person must approve before the job runs; large exports run as a job that attaches the file."""

    source = models.CharField(_("list"), max_length=100, help_text=_("The URL name of the exported list."))
    title = models.CharField(_("title"), max_length=200, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=ExportFormat.choices, default=ExportFormat.XLSX)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    include_sensitive = models.BooleanField(_("include sensitive fields"), default=False)
    reason = models.TextField(_("purpose"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING,
                              db_index=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    region = models.ForeignKey("core.Region", verbose_name=_("scope"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved / rejected by"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    job = models.ForeignKey("core.Job", verbose_name=_("job"), null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")

    scope_field = "region"
    objects = ExportRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("export request")
        verbose_name_plural = _("export requests")
        default_permissions = ("view",)  # created through the export path (core.export_data), never edited
        permissions = [("export_data", _("Can export lists and ledgers")),
                       ("approve_exportrequest", _("Can approve exports with sensitive fields"))]

    def __str__(self):
        return f"#{self.pk} {self.title or self.source}"

    def get_absolute_url(self):
        return reverse("core:exportrequest_detail", args=[self.pk])
