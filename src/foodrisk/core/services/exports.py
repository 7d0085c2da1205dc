"""One export path for every list and ledger (导出).

An export names a list by its URL name (`enterprises:enterprise_list`) plus the list's filters. The list's
own view (`ObjectListView`) builds the queryset and the rows for the requester, so permission, region scope,
filters and columns are the page's, whether the export runs in the web request or later in the worker.
On top of the page:
- the requester needs `core.export_data` besides the list's view permission;
- sensitive columns (e.g. the legal representative) are masked unless the request includes them, the requester
  holds the list's sensitive permission, states a purpose, and a second person approved;
- above the `export_job_threshold` parameter, or after an approval, the export runs as a job that attaches the
  file; the file reaches only its requester (core:job_download);
- CSV cells that a spreadsheet would evaluate are neutralised, XLSX text is written as strings (spreadsheets.py);
- every export leaves an ExportRequest row and audit entries (request, approve / reject, the export itself).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import params, spreadsheets
from ..models import ExportRequest
from ..models.exports import ExportFormat, ExportStatus
from ..workflow import Transition, Workflow
from . import audit, jobs

EXPORT_PERMISSION = "core.export_data"
APPROVE_PERMISSION = "core.approve_exportrequest"
JOB_KIND = "core.export"
DEFAULT_JOB_THRESHOLD = 2000
# Query parameters of a list page that are not filters of its rows.
NOT_FILTERS = {"page", "per_page", "_export", "format", "source"}

E = ExportStatus


def clean_filters(query):
    """A list page's query string (QueryDict or dict) as the JSON kept on the request: one value or a list."""
    if hasattr(query, "lists"):
        items = ((k, v if len(v) > 1 else v[0]) for k, v in query.lists())
    else:
        items = query.items()
    return {k: v for k, v in items if k not in NOT_FILTERS and not k.startswith("_") and v not in ("", [], None)}


def list_view(source, user, filters=None):
    """The list's view, set up for `user` with `filters`, exactly as the page would be (queryset, table)."""
    from django.http import HttpRequest, QueryDict
    from django.urls import NoReverseMatch, resolve, reverse
    from django_htmx.middleware import HtmxDetails

    from ..views.generic import ObjectListView

    try:
        path = reverse(source)
    except NoReverseMatch:
        raise ValidationError({"source": _("Unknown list: %(source)s") % {"source": source}}) from None
    match = resolve(path)
    view_class = getattr(match.func, "view_class", None)
    if not (isinstance(view_class, type) and issubclass(view_class, ObjectListView)):
        raise ValidationError({"source": _("Unknown list: %(source)s") % {"source": source}})
    request = HttpRequest()
    request.method, request.path, request.path_info, request.user = "GET", path, path, user
    request.GET = QueryDict(mutable=True)
    for key, value in (filters or {}).items():
        request.GET.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    request.htmx = HtmxDetails(request)
    request.resolver_match = match
    view = view_class()
    view.setup(request, *match.args, **match.kwargs)
    if user is None or not user.is_authenticated or not user.has_perm(view.permission_name()):
        raise PermissionDenied(view.permission_name())
    return view


def describe(req, user):
    """(the list's title, its filters in words) of an export request, as the list page names them — the
    request page showed `enterprises:enterprise_list` and `{'region': '330102'}`."""
    try:
        view = list_view(req.source, user, req.filters)
        form = view.get_filterset(view.get_filterset_class()).form
        title = getattr(view, "heading", None) or view.model._meta.verbose_name_plural
    except (ValidationError, PermissionDenied):  # a list gone, or no longer the viewer's: the codes as kept
        return req.source, req.filters or _("none")
    words = []
    for name, value in (req.filters or {}).items():
        field = form.fields.get(name)
        if field is None:
            words.append(f"{name}：{value}")
            continue
        shown = value
        try:
            cleaned = field.clean(value)
        except ValidationError:
            cleaned = None
        if cleaned not in (None, "", []):
            choices = dict(getattr(field, "choices", None) or ()) if not hasattr(field, "queryset") else {}
            shown = choices.get(cleaned, cleaned) if not isinstance(cleaned, list) else \
                "、".join(str(choices.get(v, v)) for v in cleaned)
        words.append(f"{field.label}：{shown}")
    return title, "；".join(words) or _("none")


def check_may_export(user):
    if user is None or not user.is_authenticated or not user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied(_("You have no permission to export data."))


def job_threshold():
    return int(params.get("export_job_threshold", DEFAULT_JOB_THRESHOLD))


def request_export(source, *, user, fmt=ExportFormat.XLSX, filters=None, include_sensitive=False, reason=""):
    """Record the export. Plain and small: approved, the caller produces the file at once (`produce`).
    Plain and large: approved, a job makes the file. With sensitive fields: pending a second person's approval."""
    check_may_export(user)
    if fmt not in ExportFormat.values:
        raise ValidationError({"format": _("Unknown export format.")})
    filters = clean_filters(filters or {})
    view = list_view(source, user, filters)
    reason = (reason or "").strip()
    if include_sensitive:
        permission = view.sensitive_permission
        if not permission:
            raise ValidationError({"include_sensitive": _("This list has no sensitive fields.")})
        if not user.has_perm(permission):
            raise PermissionDenied(_("You may not request sensitive fields in clear."))
        if not reason:
            raise ValidationError({"reason": _("State the purpose of an export with sensitive fields.")})
    count = view.export_queryset().count()
    with transaction.atomic():
        req = ExportRequest.objects.create(
            source=source, title=str(view.export_title())[:200], format=fmt, filters=filters,
            include_sensitive=bool(include_sensitive), reason=reason, rows=count, requested_by=user,
            region_id=user.scope_code if user.scope_prefix != "" else None)
        audit.record("core.export.request", req, user=user, details={
            "source": source, "format": fmt, "filters": filters, "include_sensitive": req.include_sensitive,
            "rows": count})
        if include_sensitive:
            _notify_approvers(req)
        else:
            req.status, req.decided_at = E.APPROVED, timezone.now()
            if count > job_threshold():
                req.job = start_job(req)
            req.save(update_fields=["status", "decided_at", "job"])
    return req


def start_job(req):
    return jobs.start(JOB_KIND, user=req.requested_by, params={"request": req.pk},
                      title=_("Export: %(title)s") % {"title": req.title or req.source})


def _notify_approvers(req):
    from . import notifications

    notifications.ask_approval(req, APPROVE_PERMISSION, requester=req.requested_by, region_code=req.region_id,
                               subject=str(req))


EXPORTS = Workflow(
    ExportRequest,
    {"approve": Transition({E.PENDING}, APPROVE_PERMISSION, second_person="requested_by", label=gettext_lazy("approve")),
     "reject": Transition({E.PENDING}, APPROVE_PERMISSION, second_person="requested_by", label=gettext_lazy("reject"))},
    audit_as="core.export", state_fields=("status", "approved_by", "decided_at", "decision_note", "job"))


def approve_export(req, *, user, note=""):
    with EXPORTS.step(req, "approve", user=user, note=note) as step:
        req = step.obj
        req.status, req.approved_by, req.decided_at, req.decision_note = E.APPROVED, user, timezone.now(), note
        req.job = start_job(req)
        step.details = {"job": req.job.pk, "note": note}
    return req


def reject_export(req, *, user, note):
    if not (note or "").strip():
        raise ValidationError({"note": _("Give the reason for the rejection.")})
    with EXPORTS.step(req, "reject", user=user, note=note) as step:
        req = step.obj
        req.status, req.approved_by, req.decided_at, req.decision_note = E.REJECTED, user, timezone.now(), note
        step.details = {"note": note}
    return req


def produce(req):
    """The file of an approved request: (file name, bytes), built as the requester sees the list now."""
    req = ExportRequest.objects.select_related("requested_by").get(pk=req.pk if hasattr(req, "pk") else req)
    if req.status != E.APPROVED or (req.include_sensitive and req.approved_by_id in (None, req.requested_by_id)):
        raise PermissionDenied(_("This export has not been approved."))
    user = req.requested_by
    check_may_export(user)
    view = list_view(req.source, user, req.filters)
    rows = list(view.export_rows(view.export_queryset(), sensitive=req.include_sensitive))
    name = f"{req.source.replace(':', '-')}-{timezone.localtime():%Y%m%d-%H%M%S}.{req.format}"
    content = spreadsheets.file_bytes(rows, req.format, sheet=str(view.export_title()))
    with transaction.atomic():
        ExportRequest.objects.filter(pk=req.pk).update(rows=len(rows) - 1)
        audit.record("export", req, user=user, details={
            "source": req.source, "format": req.format, "rows": len(rows) - 1, "filters": req.filters,
            "include_sensitive": req.include_sensitive, "approved_by": req.approved_by_id})
    return name, content


def run_job(job, request):
    """The worker's half: the file attached to the job (downloaded by the requester only)."""
    name, content = produce(request)
    job.attach(name, content)
    return {"request": request, "file": name}


def may_download(job, user):
    """A job's file goes to whoever started the job; an export's file to its requester only."""
    if user is None or not user.is_authenticated:
        return False
    if job.created_by_id == user.pk:
        return True
    return job.kind != JOB_KIND and user.has_perm("core.view_all_jobs")
