"""Pages of the one export path: confirm an export, follow and decide export requests, download a job's file."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View

from .. import filtersets, forms, spreadsheets, tables
from ..forms import add_service_errors
from ..models import ExportRequest, Job
from ..services import audit, exports
from ..services import jobs as job_service
from ..widgets import bootstrap
from .generic import ObjectDetailView, ObjectListView


def _messages(exc):
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc) or _("You have no permission for this.")]


class ExportNewView(LoginRequiredMixin, View):
    """GET: what will be exported (list, rows, filters, masking) and the confirmation; POST: the export."""

    template_name = "core/export_new.html"

    def setup_export(self, request):
        exports.check_may_export(request.user)
        self.source = request.GET.get("source", "")
        self.fmt = request.GET.get("format", "xlsx")
        if self.fmt not in exports.ExportFormat.values:
            raise Http404
        self.filters = exports.clean_filters(request.GET)
        try:
            self.view = exports.list_view(self.source, request.user, self.filters)
        except ValidationError:
            raise Http404 from None
        permission = self.view.sensitive_permission
        self.sensitive = bool(permission) and request.user.has_perm(permission)
        self.rows = self.view.export_queryset().count()  # a ValidationError for filters the list refuses

    def render_page(self, request, form):
        return render(request, self.template_name, {
            "form": bootstrap(form), "title": self.view.export_title(), "format": self.fmt,
            "rows": self.rows, "threshold": exports.job_threshold(),
            "filters": self.filters, "masked": bool(self.view.sensitive_permission),
            "back": f"{self.view.request.path}?{self.view.request.GET.urlencode()}"})

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except ValidationError as exc:  # the list's filters are wrong: back to the list, which shows why
            for message in exc.messages:
                messages.error(request, message)
            return redirect(f"{self.view.request.path}?{self.view.request.GET.urlencode()}")

    def get(self, request):
        self.setup_export(request)
        return self.render_page(request, forms.ExportConfirmForm(sensitive=self.sensitive))

    def post(self, request):
        self.setup_export(request)
        form = forms.ExportConfirmForm(request.POST, sensitive=self.sensitive)
        if not form.is_valid():
            return self.render_page(request, form)
        d = form.cleaned_data
        try:
            req = exports.request_export(self.source, user=request.user, fmt=self.fmt, filters=self.filters,
                                         include_sensitive=d.get("include_sensitive", False),
                                         reason=d.get("reason", ""))
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc)))
            return self.render_page(request, form)
        if req.status == exports.E.PENDING:
            messages.info(request, _("Waiting for a second person's approval."))
            return redirect(req.get_absolute_url())
        if req.job_id:
            messages.info(request, _("The export is large and runs in the background."))
            return redirect(req.job.get_absolute_url())
        name, content = exports.produce(req)
        response = HttpResponse(content, content_type=spreadsheets.CONTENT_TYPES[req.format])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class _RequesterMixin:
    """A requester follows their own requests without view_exportrequest (the queryset keeps them to theirs)."""

    def has_permission(self):
        user = self.request.user
        return user.has_perm("core.view_exportrequest") or user.has_perm(exports.EXPORT_PERMISSION)


class ExportRequestListView(_RequesterMixin, ObjectListView):
    model = ExportRequest
    table_class = tables.ExportRequestTable
    filterset_class = filtersets.ExportRequestFilterSet


class ExportRequestDetailView(_RequesterMixin, ObjectDetailView):
    model = ExportRequest
    template_name = "core/exportrequest_detail.html"

    def get_template_names(self):
        return [self.template_name]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        req, user = self.object, self.request.user
        ctx["can_decide"] = (req.status == exports.E.PENDING and user.has_perm(exports.APPROVE_PERMISSION)
                             and req.requested_by_id != user.pk)
        ctx["decision_form"] = bootstrap(forms.ExportDecisionForm())
        source, filters = exports.describe(req, user)
        shown = {"source": source, "filters": filters}
        opts = ExportRequest._meta
        ctx["fields"] = [(label, shown.get(name, value)) for (label, value), name in
                         zip(ctx["fields"], [f.name for f in opts.concrete_fields if not f.primary_key], strict=True)]
        return ctx


class ExportRequestActionView(LoginRequiredMixin, View):
    def post(self, request, pk, op):
        req = get_object_or_404(ExportRequest.objects.restrict(request.user, "view"), pk=pk)
        note = request.POST.get("note", "")
        try:
            if op == "approve":
                exports.approve_export(req, user=request.user, note=note)
                messages.success(request, _("Approved: the export runs now; the file reaches %(user)s on the home "
                                            "page (my files).") % {"user": req.requested_by})
            elif op == "reject":
                exports.reject_export(req, user=request.user, note=note)
                messages.success(request, _("Rejected; the request shows the reason."))
            else:
                raise Http404
        except (ValidationError, PermissionDenied) as exc:
            for msg in _messages(exc):
                messages.error(request, msg)
        return redirect(req.get_absolute_url())


class FileGone(Exception):
    """The job has no file (any more): the page says so in words, the API answers 410."""


def job_file_response(job, user):
    """A job's file, through the permission check and audited — never from a public media URL."""
    if not exports.may_download(job, user):
        raise PermissionDenied
    if not job.result_file:
        raise FileGone(_("This job has no file (files are deleted when they expire: generate it again)."))
    expires = job_service.file_expires_at(job)
    if expires is not None and expires <= timezone.now():  # expired, not yet purged
        raise FileGone(_("This file has expired: generate it again."))
    try:
        handle = job.result_file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    audit.record("download", job, user=user, details={"file": job.result_file.name})
    return FileResponse(handle, as_attachment=True, filename=job.result_file.name.rsplit("/", 1)[-1])


class JobDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        job = get_object_or_404(Job.objects.restrict(request.user, "view"), pk=pk)
        try:
            return job_file_response(job, request.user)
        except FileGone as exc:
            messages.error(request, str(exc))
            return redirect(job.get_absolute_url())
