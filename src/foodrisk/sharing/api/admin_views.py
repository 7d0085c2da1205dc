"""The call statistics and alarms for the bureau's own people over REST (session or API token, like the rest of
/api/): the same figures as the pages (callstats.statistics), within the caller's permission and region."""

from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

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
        from foodrisk.core.views.generic import restrict_choices

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
