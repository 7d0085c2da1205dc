"""Ledgers (台账): tasks, rectifications and credit repairs as the rows of their Excel layout. The ledger pages
export through the one export path (core.services.exports): these functions are their `export_rows`, so
permission, scope, approval of the legal representative in clear, jobs and audit are the path's."""

from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core.crypto import mask


def _fmt(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat") and hasattr(value, "tzinfo") and getattr(value, "tzinfo", None):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _legal_representative(enterprise, sensitive):
    value = enterprise.legal_representative or ""
    return value if sensitive else mask(value)


def task_rows(qs, sensitive):
    head = [_("No."), _("Kind"), _("Enterprise"), _("Unified social credit code"), _("Region"),
            _("Legal representative"), _("Title"), _("Organisation"), _("Assignee"), _("Second inspector"), _("Due"), _("Status"),
             _("Overdue"), _("Created"), _("Completed"), _("Inspection record"), _("Outcome")]
    yield head
    for t in qs.select_related("enterprise", "enterprise__region", "organisation", "assignee", "second_assignee",
                               "inspection"):
        row = [t.pk, t.get_kind_display(), t.enterprise.name, t.enterprise.uscc, t.enterprise.region.name,
               _legal_representative(t.enterprise, sensitive), t.title, t.organisation.name, _fmt(t.assignee), _fmt(t.second_assignee), _fmt(t.due_on),
                t.get_status_display(), _("yes") if t.is_overdue else "", _fmt(t.created_at), _fmt(t.completed_at),
                t.inspection.inspection_no if t.inspection_id else "", t.outcome]
        yield row


def repair_rows(qs, sensitive):
    head = [_("No."), _("Enterprise"), _("Unified social credit code"), _("Region"), _("Legal representative"),
            _("Target"), _("Applied"), _("Status"), _("Recorded by"), _("Reviewed by"), _("Decided by"),
             _("Decided"), _("Decision reason")]
    yield head
    for c in qs.select_related("enterprise", "enterprise__region", "penalty", "list_entry", "recorded_by",
                               "reviewed_by", "decided_by"):
        row = [c.pk, c.enterprise.name, c.enterprise.uscc, c.enterprise.region.name,
               _legal_representative(c.enterprise, sensitive), c.target_label, _fmt(c.applied_on), c.get_status_display(), _fmt(c.recorded_by),
                _fmt(c.reviewed_by), _fmt(c.decided_by), _fmt(c.decided_at), c.reason]
        yield row
