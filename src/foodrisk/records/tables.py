import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Attachment, Complaint, CreditRepair, Inspection, ListEntry, Penalty, SamplingTest


class RecordTable(tables.Table):
    enterprise = tables.Column(linkify=True, verbose_name=_("enterprise"))
    uscc = tables.Column(accessor="enterprise__uscc", verbose_name=_("unified social credit code"))

    class Meta:
        attrs = {"class": "table table-sm table-hover"}


def _meta(model_, fields_):
    return type("Meta", (RecordTable.Meta,), {"model": model_, "fields": fields_,
                                              "sequence": [fields_[0], "enterprise", "uscc", "..."]})


class InspectionTable(RecordTable):
    inspection_no = tables.Column(linkify=True)
    Meta = _meta(Inspection, ["inspection_no", "inspected_on", "kind", "result", "key_items_failed",
                              "general_items_failed", "rectification_ordered", "organisation"])


class SamplingTestTable(RecordTable):
    report_no = tables.Column(linkify=True)
    Meta = _meta(SamplingTest, ["report_no", "sampled_on", "level", "product", "category", "result",
                                "announcement_no"])


class PenaltyTable(RecordTable):
    decision_no = tables.Column(linkify=True)
    Meta = _meta(Penalty, ["decision_no", "decided_on", "violation_type", "severity", "fine", "confiscation",
                           "licence_revoked", "publicity_until", "repaired"])


class ComplaintTable(RecordTable):
    complaint_no = tables.Column(linkify=True)
    Meta = _meta(Complaint, ["complaint_no", "received_on", "channel", "category", "verified", "status"])


class CreditRepairTable(RecordTable):
    repair_no = tables.Column(linkify=True)
    Meta = _meta(CreditRepair, ["repair_no", "target_kind", "target_no", "applied_on", "decided_on", "decision"])


class ListEntryTable(RecordTable):
    list_kind = tables.Column(linkify=True)
    Meta = _meta(ListEntry, ["list_kind", "listed_on", "removed_on", "reason", "repaired"])


class AttachmentTable(tables.Table):
    description = tables.Column(linkify=True, verbose_name=_("description"), empty_values=())
    enterprise = tables.Column(linkify=True)
    download = tables.Column(verbose_name=_("file"), accessor="pk", orderable=False)

    class Meta:
        model = Attachment
        fields = ["description", "enterprise", "kind", "sha256", "uploaded_by", "uploaded_at", "download"]
        attrs = {"class": "table table-sm table-hover"}

    def render_description(self, record):
        return record.description or record.file.name.rsplit("/", 1)[-1]

    def value_description(self, record):
        return self.render_description(record)

    def render_sha256(self, value):
        return format_html('<span class="font-monospace small" title="{}">{}…</span>', value, value[:12])

    def value_sha256(self, value):
        return value

    def render_download(self, record):
        return format_html('<a href="{}"><i class="bi bi-download"></i> {}</a>',
                           reverse("records:attachment_download", args=[record.pk]), _("Download"))

    def value_download(self, record):
        return record.file.name.rsplit("/", 1)[-1]


TABLES = {
    "inspections": InspectionTable,
    "sampling_tests": SamplingTestTable,
    "penalties": PenaltyTable,
    "complaints": ComplaintTable,
    "credit_repairs": CreditRepairTable,
    "list_entries": ListEntryTable,
}
