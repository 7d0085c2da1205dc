"""Supervision records (the archive's facts). Each kind has a natural key (its upsert key) and lineage."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodrisk.core.querysets import RestrictedQuerySet
from foodrisk.enterprises.models import Lineage

from .choices import (
    AttachmentKind,
    ComplaintChannel,
    ComplaintStatus,
    InspectionKind,
    InspectionResult,
    ListKind,
    RepairDecision,
    RepairTarget,
    SamplingLevel,
    SamplingResult,
    Severity,
)


class Record(Lineage):
    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="%(class)ss")

    scope_field = "enterprise__region"
    natural_key_field = None  # the upsert key of the kind
    date_field = None  # the event date used by the engine and the timeline
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def event_date(self):
        return getattr(self, self.date_field)

    def get_absolute_url(self):
        return reverse(f"records:{self._meta.model_name}_detail", args=[self.pk])


class Inspection(Record):
    inspection_no = models.CharField(_("inspection number"), max_length=64, unique=True)
    inspected_on = models.DateField(_("inspection date"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices)
    organisation = models.CharField(_("inspecting body"), max_length=100, blank=True)
    inspector = models.CharField(_("inspectors"), max_length=100, blank=True)
    result = models.CharField(_("result"), max_length=8, choices=InspectionResult.choices)
    key_items_failed = models.PositiveSmallIntegerField(_("key items failed"), default=0)
    general_items_failed = models.PositiveSmallIntegerField(_("general items failed"), default=0)
    rectification_ordered = models.BooleanField(_("rectification ordered"), default=False)
    findings = models.TextField(_("findings"), blank=True)

    natural_key_field, date_field = "inspection_no", "inspected_on"

    class Meta:
        ordering = ["-inspected_on"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self):
        return f"{self.inspection_no} {self.get_result_display()}"


class SamplingTest(Record):
    report_no = models.CharField(_("report number"), max_length=64, unique=True)
    sampled_on = models.DateField(_("sampling date"), db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=SamplingLevel.choices)
    product = models.CharField(_("product"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True)
    result = models.CharField(_("result"), max_length=4, choices=SamplingResult.choices)
    failed_items = models.JSONField(_("failed items"), default=list, blank=True)
    announcement_no = models.CharField(_("announcement number"), max_length=64, blank=True)
    producer_name = models.CharField(_("labelled producer"), max_length=200, blank=True)
    producer_address = models.CharField(_("labelled producer address"), max_length=300, blank=True)

    natural_key_field, date_field = "report_no", "sampled_on"

    class Meta:
        ordering = ["-sampled_on"]
        verbose_name = _("sampling test")
        verbose_name_plural = _("sampling tests")

    def __str__(self):
        return f"{self.product} {self.get_result_display()}"


class Penalty(Record):
    decision_no = models.CharField(_("decision number"), max_length=100, unique=True)
    decided_on = models.DateField(_("decision date"), db_index=True)
    violation_type = models.CharField(_("violation type"), max_length=100)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    fine = models.DecimalField(_("fine (yuan)"), max_digits=14, decimal_places=2, default=0)
    confiscation = models.DecimalField(_("confiscation (yuan)"), max_digits=14, decimal_places=2, default=0)
    licence_revoked = models.BooleanField(_("licence revoked"), default=False)
    publicity_until = models.DateField(_("publicity until"), null=True, blank=True)
    repaired = models.BooleanField(_("credit repaired"), default=False)
    repaired_on = models.DateField(_("repaired on"), null=True, blank=True)

    natural_key_field, date_field = "decision_no", "decided_on"

    class Meta:
        ordering = ["-decided_on"]
        verbose_name = _("administrative penalty")
        verbose_name_plural = _("administrative penalties")

    def __str__(self):
        return self.decision_no


class Complaint(Record):
    complaint_no = models.CharField(_("complaint number"), max_length=64, unique=True)
    received_on = models.DateField(_("received"), db_index=True)
    channel = models.CharField(_("channel"), max_length=8, choices=ComplaintChannel.choices)
    category = models.CharField(_("category"), max_length=100, blank=True)
    verified = models.BooleanField(_("verified"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ComplaintStatus.choices, default="open")
    duplicate_of = models.CharField(_("duplicate of"), max_length=64, blank=True)

    natural_key_field, date_field = "complaint_no", "received_on"

    class Meta:
        ordering = ["-received_on"]
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")

    def __str__(self):
        return self.complaint_no


class CreditRepair(Record):
    repair_no = models.CharField(_("application number"), max_length=64, unique=True)
    target_kind = models.CharField(_("target kind"), max_length=14, choices=RepairTarget.choices)
    target_no = models.CharField(_("target"), max_length=100)
    applied_on = models.DateField(_("applied"), db_index=True)
    decided_on = models.DateField(_("decided"), null=True, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=RepairDecision.choices, default="pending")
    commitment = models.TextField(_("credit commitment"), blank=True)
    reason = models.TextField(_("reason"), blank=True)

    natural_key_field, date_field = "repair_no", "applied_on"

    class Meta:
        ordering = ["-applied_on"]
        verbose_name = _("credit repair")
        verbose_name_plural = _("credit repairs")

    def __str__(self):
        return self.repair_no


class ListEntry(Record):
    entry_key = models.CharField(_("entry key"), max_length=64, unique=True,
                                 help_text=_("USCC, list kind and listing date; the upsert key."))
    list_kind = models.CharField(_("list"), max_length=10, choices=ListKind.choices)
    listed_on = models.DateField(_("listed"), db_index=True)
    removed_on = models.DateField(_("removed"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    repaired = models.BooleanField(_("credit repaired"), default=False)

    natural_key_field, date_field = "entry_key", "listed_on"

    class Meta:
        ordering = ["-listed_on"]
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")

    def __str__(self):
        return f"{self.get_list_kind_display()} {self.listed_on}"

    @staticmethod
    def make_key(uscc, list_kind, listed_on):
        return f"{uscc}:{list_kind}:{listed_on}"


class Attachment(models.Model):
    """A photo, rectification evidence or proof, in file/object storage, tied to an enterprise or record."""

    enterprise = models.ForeignKey("enterprises.Enterprise", verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="attachments")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    record = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=10, choices=AttachmentKind.choices, default="other")
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    scope_field = "enterprise__region"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self):
        return self.description or self.file.name

    def get_absolute_url(self):
        return reverse("records:attachment_detail", args=[self.pk])


RECORD_KINDS = {
    "inspections": Inspection,
    "sampling_tests": SamplingTest,
    "penalties": Penalty,
    "complaints": Complaint,
    "credit_repairs": CreditRepair,
    "list_entries": ListEntry,
}
