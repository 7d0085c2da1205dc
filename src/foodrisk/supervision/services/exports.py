"""Ledgers (台账): tasks, rectifications, credit repairs (and alerts when that app is installed) as rows for
Excel. Bulk exports run as jobs; an export with sensitive fields (legal representative) runs only after a
second person approves the ExportRequest."""

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from foodrisk.core.services import audit, jobs
from foodrisk.enterprises.sensitive import SENSITIVE_PERMISSION

from ..choices import ExportStatus, Ledger, TaskKind
from ..models import ExportRequest, RepairCase, Task
from . import require

E = ExportStatus
JOB_KIND = "supervision.ledger_export"


def _fmt(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat") and hasattr(value, "tzinfo") and getattr(value, "tzinfo", None):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _task_rows(qs, sensitive):
    head = [_("No."), _("Kind"), _("Enterprise"), _("Unified social credit code"), _("Region")]
    head += [_("Legal representative")] if sensitive else []
    head += [_("Title"), _("Organisation"), _("Assignee"), _("Second inspector"), _("Due"), _("Status"),
             _("Overdue"), _("Created"), _("Completed"), _("Inspection record"), _("Outcome")]
    yield head
    for t in qs.select_related("enterprise", "enterprise__region", "organisation", "assignee", "second_assignee",
                               "inspection"):
        row = [t.pk, t.get_kind_display(), t.enterprise.name, t.enterprise.uscc, t.enterprise.region.name]
        row += [t.enterprise.legal_representative or ""] if sensitive else []
        row += [t.title, t.organisation.name, _fmt(t.assignee), _fmt(t.second_assignee), _fmt(t.due_on),
                t.get_status_display(), _("yes") if t.is_overdue else "", _fmt(t.created_at), _fmt(t.completed_at),
                t.inspection.inspection_no if t.inspection_id else "", t.outcome]
        yield row


def _repair_rows(qs, sensitive):
    head = [_("No."), _("Enterprise"), _("Unified social credit code"), _("Region")]
    head += [_("Legal representative")] if sensitive else []
    head += [_("Target"), _("Applied"), _("Status"), _("Recorded by"), _("Reviewed by"), _("Decided by"),
             _("Decided"), _("Decision reason")]
    yield head
    for c in qs.select_related("enterprise", "enterprise__region", "penalty", "list_entry", "recorded_by",
                               "reviewed_by", "decided_by"):
        row = [c.pk, c.enterprise.name, c.enterprise.uscc, c.enterprise.region.name]
        row += [c.enterprise.legal_representative or ""] if sensitive else []
        row += [c.target_label, _fmt(c.applied_on), c.get_status_display(), _fmt(c.recorded_by),
                _fmt(c.reviewed_by), _fmt(c.decided_by), _fmt(c.decided_at), c.reason]
        yield row


def _alert_rows(qs, sensitive):
    head = [_("No."), _("Enterprise"), _("Unified social credit code"), _("Region")]
    head += [_("Legal representative")] if sensitive else []
    head += [_("Rule"), _("Level"), _("Status"), _("Summary"), _("Raised"), _("Deadline"), _("Overdue")]
    yield head
    for a in qs.select_related("enterprise", "enterprise__region", "rule"):
        row = [a.pk, a.enterprise.name, a.enterprise.uscc, a.enterprise.region.name]
        row += [a.enterprise.legal_representative or ""] if sensitive else []
        row += [str(a.rule), a.get_level_display(), a.get_status_display(), a.summary, _fmt(a.raised_at),
                _fmt(a.deadline), _("yes") if a.overdue else ""]
        yield row


def alerts_installed():
    return apps.is_installed("foodrisk.alerts")


def ledger_queryset(ledger, user, filters=None):
    """The ledger's rows the user may see, filtered by the ledger's filterset."""
    from .. import filtersets

    filters = filters or {}
    if ledger in (Ledger.TASKS, Ledger.RECTIFICATIONS):
        qs = Task.objects.restrict(user, "view")
        if ledger == Ledger.RECTIFICATIONS:
            qs = qs.filter(kind=TaskKind.RECTIFICATION)
        fs = filtersets.TaskFilterSet(filters, queryset=qs)
    elif ledger == Ledger.REPAIRS:
        fs = filtersets.RepairCaseFilterSet(filters, queryset=RepairCase.objects.restrict(user, "view"))
    elif ledger == Ledger.ALERTS and alerts_installed():
        from foodrisk.alerts.filtersets import AlertFilterSet
        from foodrisk.alerts.models import Alert

        fs = AlertFilterSet(filters, queryset=Alert.objects.restrict(user, "view").order_by("-raised_at"))
    else:
        raise ValidationError({"ledger": _("Unknown ledger.")})
    return fs.qs if fs.is_valid() else fs.queryset


ROWS = {Ledger.TASKS: _task_rows, Ledger.RECTIFICATIONS: _task_rows, Ledger.REPAIRS: _repair_rows,
        Ledger.ALERTS: _alert_rows}


def ledger_rows(ledger, user, filters=None, sensitive=False):
    return list(ROWS[ledger](ledger_queryset(ledger, user, filters), sensitive))


def request_export(ledger, *, user, filters=None, include_sensitive=False, reason=""):
    """Non-sensitive: the job starts at once. Sensitive: waits for a second person's approval."""
    if ledger not in Ledger.values or (ledger == Ledger.ALERTS and not alerts_installed()):
        raise ValidationError({"ledger": _("Unknown ledger.")})
    require(user, "supervision.add_exportrequest")
    if include_sensitive:
        if not user.has_perm(SENSITIVE_PERMISSION):
            raise PermissionDenied(SENSITIVE_PERMISSION)
        if not (reason or "").strip():
            raise ValidationError({"reason": _("State the purpose of an export with sensitive fields.")})
    scope = user.scope_code if user.scope_prefix != "" else None
    with transaction.atomic():
        req = ExportRequest.objects.create(ledger=ledger, filters=filters or {}, include_sensitive=include_sensitive,
                                           reason=(reason or "").strip(), requested_by=user, region_id=scope)
        audit.record("supervision.export.request", req, user=user, details={
            "ledger": ledger, "filters": req.filters, "include_sensitive": include_sensitive})
        if include_sensitive:
            _notify_approvers(req)
        else:
            req.status, req.decided_at = E.APPROVED, timezone.now()
            req.job = jobs.start(JOB_KIND, user=user, params={"request": req.pk},
                                 title=_("Ledger export: %(ledger)s") % {"ledger": req.get_ledger_display()})
            req.save(update_fields=["status", "decided_at", "job"])
    return req


def _notify_approvers(req):
    from foodrisk.core.services import notifications
    from foodrisk.core.services.accounts import users_with_perm

    approvers = users_with_perm("supervision.approve_exportrequest", include_superusers=False)
    people = [u for u in approvers.exclude(pk=req.requested_by_id)[:50]
              if req.region_id is None and u.scope_prefix == "" or req.region_id and u.in_scope(req.region_id)]
    context = {"subject": str(req), "requester": req.requested_by}
    link = req.get_absolute_url()
    transaction.on_commit(lambda: notifications.notify(people, "approval_requested", context, link=link))


def _locked(req, user):
    require(user, "supervision.approve_exportrequest")
    req = ExportRequest.objects.select_for_update().get(pk=req.pk)
    if not ExportRequest.objects.in_scope(user).filter(pk=req.pk).exists():
        raise PermissionDenied("out of scope")
    if req.status != E.PENDING:
        raise ValidationError(_("This export request has been decided."))
    if req.requested_by_id == user.pk:
        raise PermissionDenied(_("A second person must approve: you requested this export."))
    return req


def approve_export(req, *, user, note=""):
    with transaction.atomic():
        req = _locked(req, user)
        req.status, req.approved_by, req.decided_at, req.decision_note = E.APPROVED, user, timezone.now(), note
        req.job = jobs.start(JOB_KIND, user=req.requested_by, params={"request": req.pk},
                             title=_("Ledger export: %(ledger)s") % {"ledger": req.get_ledger_display()})
        req.save()
        audit.record("supervision.export.approve", req, user=user, details={"job": req.job.pk, "note": note})
    return req


def reject_export(req, *, user, note):
    if not (note or "").strip():
        raise ValidationError({"note": _("Give the reason for the rejection.")})
    with transaction.atomic():
        req = _locked(req, user)
        req.status, req.approved_by, req.decided_at, req.decision_note = E.REJECTED, user, timezone.now(), note
        req.save()
        audit.record("supervision.export.reject", req, user=user, details={"note": note})
    return req


def run_export(job, request):
    """The job: rows in the requester's scope, attached to the Job as .xlsx."""
    from foodrisk.core.views.generic import xlsx_bytes

    req = ExportRequest.objects.select_related("requested_by").get(pk=request)
    if req.status != E.APPROVED or (req.include_sensitive and req.approved_by_id in (None, req.requested_by_id)):
        raise PermissionDenied("export not approved")
    rows = ledger_rows(req.ledger, req.requested_by, req.filters, req.include_sensitive)
    job.progress(1, 2, f"{len(rows) - 1} rows")
    name = f"{req.ledger}-{timezone.localtime():%Y%m%d-%H%M%S}.xlsx"
    job.attach(name, xlsx_bytes(rows, sheet=str(req.get_ledger_display())))
    audit.record("supervision.export.run", req, user=req.requested_by, details={
        "rows": len(rows) - 1, "include_sensitive": req.include_sensitive, "approved_by": req.approved_by_id})
    return {"rows": len(rows) - 1, "file": name}
