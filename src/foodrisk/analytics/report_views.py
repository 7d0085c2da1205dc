"""Pages of the statistical reports (统计报表) and of the enterprise credit-risk report (企业信用风险报告)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import generic

from foodrisk.core.forms import add_service_errors
from foodrisk.core.views.generic import ScopedMixin
from foodrisk.core.widgets import bootstrap
from foodrisk.enterprises.models import Enterprise

from . import enterprise_report, pdf, reports
from .report_forms import ReportRequestForm
from .report_models import Report


class ReportListView(ScopedMixin, generic.ListView):
    """The reports the person may see (permission + region scope) and, with the permission, the request form."""

    model = Report
    template_name = "analytics/reports/report_list.html"
    paginate_by = 25

    def get_queryset(self):
        return reports.visible(self.request.user)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_generate"] = user.has_perm(reports.GENERATE_PERMISSION)
        ctx["form"] = kwargs.get("form") or bootstrap(ReportRequestForm(user=user))
        ctx["pdf_ok"], ctx["pdf_reason"] = pdf.engine_status()
        return ctx

    def post(self, request):
        if not request.user.has_perm(reports.GENERATE_PERMISSION):
            raise PermissionDenied
        form = bootstrap(ReportRequestForm(request.POST, user=request.user))
        if form.is_valid():
            d = form.cleaned_data
            try:
                report = reports.request_report(user=request.user, kind=d["kind"], day=d.get("month"),
                                                region=d.get("region"), business_form=d.get("business_form") or "",
                                                topic=d.get("topic") or "")
            except ValidationError as exc:
                add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The report is being generated in the background."))
                return redirect(report.get_absolute_url())
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ReportDetailView(ScopedMixin, generic.DetailView):
    model = Report
    template_name = "analytics/reports/report_detail.html"

    def get_queryset(self):
        return reports.visible(self.request.user)


class ReportDownloadView(ScopedMixin, generic.View):
    model = Report

    def get(self, request, pk, fmt):
        report = get_object_or_404(reports.visible(request.user), pk=pk)
        return reports.file_response(report, request.user, fmt)


class EnterpriseReportView(ScopedMixin, generic.View):
    """The enterprise credit-risk report (PDF) of an enterprise the person may see; audited."""

    model = Enterprise

    def permission_name(self):
        return enterprise_report.PERMISSION

    def get(self, request, pk):
        enterprise = get_object_or_404(Enterprise.objects.restrict(request.user, "view"), pk=pk)
        try:
            name, content = enterprise_report.produce(enterprise, request.user)
        except pdf.PDFUnavailable as exc:
            return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = enterprise_report.disposition(name)
        return response


