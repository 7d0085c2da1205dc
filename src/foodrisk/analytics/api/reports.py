"""Statistical reports and the enterprise credit-risk report over REST.

- GET  /api/analytics/reports/                  the reports the caller may see (analytics.view_report + scope)
- POST /api/analytics/reports/                  ask for one {kind, month (YYYY-MM, empty: the last complete
                                                period), region, business_form, topic} (analytics.generate_report)
- GET  /api/analytics/reports/{id}/             one report; .../xlsx/ and .../pdf/ its files (audited)
- GET  /api/analytics/enterprises/{id}/credit-report/   the enterprise credit-risk report PDF (audited; 503 when
                                                the server cannot make PDFs)
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from foodrisk.core.api.generic import ReadOnlyScopedViewSet
from foodrisk.core.views.generic import note_out_of_scope
from foodrisk.enterprises.models import Enterprise

from .. import enterprise_report, pdf, reports
from ..report_forms import ReportRequestForm
from ..report_models import Report
from .serializers import ErrorSerializer


class ReportSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", allow_null=True, read_only=True)
    xlsx_url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "kind", "period_start", "period_end", "region", "business_form", "topic", "title", "status",
                  "figures", "pdf_note", "error", "job", "created_at", "finished_at", "xlsx_url", "pdf_url"]
        read_only_fields = fields

    def _url(self, obj, fmt):
        request = self.context.get("request")
        if obj.status != "ready" or not getattr(obj, fmt) or request is None:
            return None
        return request.build_absolute_uri(f"/api/analytics/reports/{obj.pk}/{fmt}/")

    def get_xlsx_url(self, obj) -> str | None:
        return self._url(obj, "xlsx")

    def get_pdf_url(self, obj) -> str | None:
        return self._url(obj, "pdf")


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["monthly", "quarterly", "annual"])
    month = serializers.CharField(required=False, allow_blank=True, help_text="YYYY-MM, a month of the period")
    region = serializers.CharField(required=False, allow_blank=True, help_text="region code inside the scope")
    business_form = serializers.CharField(required=False, allow_blank=True)
    topic = serializers.CharField(required=False, allow_blank=True, max_length=100)


class ReportPermissions(permissions.BasePermission):
    """Reading needs analytics.view_report, asking for a report analytics.generate_report."""

    def has_permission(self, request, view):
        needed = reports.GENERATE_PERMISSION if request.method == "POST" else reports.VIEW_PERMISSION
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(needed))


class ReportViewSet(ReadOnlyScopedViewSet):
    permission_classes = [permissions.IsAuthenticated, ReportPermissions]
    queryset = Report.objects.select_related("region")
    serializer_class = ReportSerializer
    filterset_fields = ["kind", "status"]
    http_method_names = ["get", "head", "options", "post"]

    @extend_schema(request=ReportRequestSerializer, responses={201: ReportSerializer, 400: OpenApiTypes.OBJECT,
                                                               403: ErrorSerializer})
    def scope_action(self):
        return "view"

    def create(self, request):
        incoming = ReportRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        form = ReportRequestForm({k: v for k, v in incoming.validated_data.items() if v not in ("", None)},
                                 user=request.user)
        if not form.is_valid():
            raise exceptions.ValidationError({name: [str(m) for m in errors] for name, errors in form.errors.items()})
        d = form.cleaned_data
        try:
            report = reports.request_report(user=request.user, kind=d["kind"], day=d.get("month"),
                                            region=d.get("region"), business_form=d.get("business_form") or "",
                                            topic=d.get("topic") or "")
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc))
        return Response(ReportSerializer(report, context={"request": request}).data, status=status.HTTP_201_CREATED)

    def _file(self, request, fmt):
        report = self.get_object()
        try:
            return reports.file_response(report, request.user, fmt)
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied() from exc
        except Http404 as exc:
            raise exceptions.NotFound(str(exc)) from exc

    # no 404 documented: a path that is no report's (`/reports/0.5/xlsx/`) is Django's own HTML page
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def xlsx(self, request, pk=None):
        return self._file(request, "xlsx")

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        return self._file(request, "pdf")


class CanMakeEnterpriseReport(permissions.BasePermission):
    def has_permission(self, request, view):
        return enterprise_report.may_make(request.user)


class EnterpriseCreditReportView(APIView):
    """The enterprise credit-risk report (PDF) of an enterprise in the caller's scope."""

    permission_classes = [permissions.IsAuthenticated, CanMakeEnterpriseReport]
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 503: ErrorSerializer})
    def get(self, request, pk):
        enterprise = Enterprise.objects.restrict(request.user, "view").filter(pk=pk).first()
        if enterprise is None:
            note_out_of_scope(request, Enterprise, pk)
            raise exceptions.NotFound()
        try:
            name, content = enterprise_report.produce(enterprise, request.user)
        except pdf.PDFUnavailable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = enterprise_report.disposition(name)
        return response
