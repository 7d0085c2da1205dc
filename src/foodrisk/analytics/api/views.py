"""Analytics over REST (read-only): the dashboard's figures for the caller's scope, filtered like the page
(start, end as YYYY-MM; region code of a subtree inside the scope; business_form). Bad filters: 400 with the
page's messages; without analytics.view_dashboard: 403."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from foodrisk.enterprises.choices import BusinessForm

from .. import stats
from ..forms import DashboardFilterForm
from ..views import PERMISSION, drill_down_url
from .serializers import AlertFiguresSerializer, ErrorSerializer, GradesSerializer, MatrixSerializer


class BadFilter(exceptions.APIException):
    """400 {"detail": "…"}: the filter messages of the page in one text (the shape of every other 400 detail)."""

    status_code = 400
    default_code = "invalid"


class CanViewDashboard(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(PERMISSION))


PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.STR, description="first month, YYYY-MM (default: 11 months before end)"),
    OpenApiParameter("end", OpenApiTypes.STR, description="last month, YYYY-MM (default: this month)"),
    OpenApiParameter("region", OpenApiTypes.STR, description="region code: that subtree (inside the caller's scope)"),
    OpenApiParameter("business_form", OpenApiTypes.STR, enum=[c for c, _label in BusinessForm.choices]),
]


def _month(month):
    return f"{month:%Y-%m}" if month else None


class FiguresView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanViewDashboard]
    http_method_names = ["get", "head", "options"]

    def query(self):
        form = DashboardFilterForm(self.request.query_params, user=self.request.user)
        if not form.is_valid():
            raise BadFilter("；".join(form.error_list()))
        return form.query()

    def echo(self, query):
        return {"start": _month(query.start), "end": _month(query.end),
                "region": query.region.pk if query.region is not None else None,
                "business_form": query.business_form}


def _grades(row):
    return {g: row[g] for g in (*stats.GRADES, "total")}


class GradesView(FiguresView):
    """Grade distribution month by month (from the monthly snapshot) and the last month's ("now")."""

    @extend_schema(parameters=PARAMETERS, responses={200: GradesSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        series = stats.trend(request.user, query)
        months = [{"month": _month(r["month"]), **_grades(r)} for r in series]
        return Response(GradesSerializer({**self.echo(query), "months": months,
                                          "now": months[-1] if months else None}).data)


class MatrixView(FiguresView):
    """Region × grade of the period's last month: one row per child region of the region asked for."""

    @extend_schema(parameters=PARAMETERS, responses={200: MatrixSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        m = stats.matrix(request.user, query)
        rows = []
        for row in m["rows"]:
            region = row["region"]
            url = drill_down_url(region, "", query.business_form) if row["exact"] else ""
            rows.append({"region": region.pk if region is not None else None,
                         "name": region.name if region is not None else "", "exact": row["exact"],
                         "enterprises_url": request.build_absolute_uri(url) if url else "", **_grades(row)})
        return Response(MatrixSerializer({**self.echo(query), "month": _month(m["month"]), "rows": rows}).data)


class AlertFiguresView(FiguresView):
    """Warnings raised, confirmed, dismissed and closed in the period; days from raising to closing."""

    @extend_schema(parameters=PARAMETERS, responses={200: AlertFiguresSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        return Response(AlertFiguresSerializer({**self.echo(query), **stats.alert_figures(request.user, query)}).data)



