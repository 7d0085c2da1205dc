"""The call statistics and alarms for the bureau's own people over REST (session or API token, like the rest of
/api/): the same figures as the pages (callstats.statistics), within the caller's permission and region."""

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from foodrisk.core.views.generic import restrict_choices

from .. import alarms, callstats
from ..exchange_forms import CallStatsForm


class HasPerm(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(view.permission))


class CallStatsAPIView(APIView):
    permission_classes = [HasPerm]
    permission = "sharing.view_sharingcall"

    @extend_schema(operation_id="sharing_call_stats", parameters=[
        OpenApiParameter("group", OpenApiTypes.STR, many=True, enum=list(callstats.DIMENSIONS)),
        OpenApiParameter("client", OpenApiTypes.INT), OpenApiParameter("date_from", OpenApiTypes.DATE),
        OpenApiParameter("date_to", OpenApiTypes.DATE), OpenApiParameter("code", OpenApiTypes.STR)],
        responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        data = request.query_params if isinstance(request.query_params, QueryDict) else QueryDict()
        form = CallStatsForm(data)
        restrict_choices(form, request.user)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        d = form.cleaned_data
        group = tuple(d.get("group") or ("client",))
        rows = callstats.statistics(callstats.calls(request.user, client=d.get("client"), date_from=d.get("date_from"),
                                                    date_to=d.get("date_to"), code=d.get("code")), group)
        return Response({"group": list(group), "rows": rows, "total": callstats.totals(rows)})


class AlarmListAPIView(APIView):
    permission_classes = [HasPerm]
    permission = "sharing.view_sharingalarm"

    @extend_schema(operation_id="sharing_alarms", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        return Response({"results": [
            {"id": a.pk, "kind": a.kind, "client": a.client_id, "ip": a.ip, "observed": a.observed,
             "threshold": a.threshold, "window_start": a.window_start, "window_end": a.window_end,
             "raised_at": a.raised_at, "acknowledged_at": a.acknowledged_at, "details": a.details}
            for a in alarms.visible(request.user)[:200]]})


class ExportsAPIView(APIView):
    """Exchange exports over REST: the ones the caller may see (GET) and a new one for a client (POST
    {client, dataset, format}; its job runs in the worker, as from the page)."""

    permission_classes = [HasPerm]
    permission = "sharing.view_exchangeexport"

    @extend_schema(operation_id="sharing_exchange_exports", responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        from ..models import ExchangeExport

        rows = ExchangeExport.objects.restrict(request.user, "view").select_related("client")[:200]
        return Response({"results": [
            {"id": e.pk, "client": e.client_id, "dataset": e.dataset, "format": e.format, "status": e.status,
             "rows": e.rows, "as_of": e.as_of, "files": [f["name"] for f in e.files], "manifest": e.manifest or None}
            for e in rows]})

    @extend_schema(operation_id="sharing_exchange_export_request", request=OpenApiTypes.OBJECT,
                   responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        from django.core.exceptions import PermissionDenied, ValidationError

        from .. import exchange
        from ..exchange_forms import ExportRequestForm

        form = ExportRequestForm(request.data if isinstance(request.data, dict) else {})
        restrict_choices(form, request.user)
        if not form.is_valid():
            raise exceptions.ValidationError(form.errors)
        d = form.cleaned_data
        try:
            export = exchange.request_export(user=request.user, client=d["client"], dataset=d["dataset"],
                                             fmt=d["format"])
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc) or None) from None
        except ValidationError as exc:
            raise exceptions.ValidationError(exc.messages) from None
        return Response({"id": export.pk, "status": export.status, "job": export.job_id}, status=201)
