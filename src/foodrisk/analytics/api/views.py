"""Analytics over REST (read-only): the dashboard's figures for the caller's scope, filtered like the page
(start, end as YYYY-MM; region code of a subtree inside the scope; business_form). Bad filters: 400 with the
page's messages; without analytics.view_dashboard: 403."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from foodrisk.enterprises.choices import BusinessForm, Grade

from .. import data_views, stats
from .. import views as page_views
from ..forms import DashboardFilterForm
from ..views import PERMISSION, drill_down_url
from .serializers import (
    AlertHandlingSerializer,
    DataQualitySerializer,
    ErrorSerializer,
    GradesSerializer,
    MatrixSerializer,
    MigrationSerializer,
    RankingsSerializer,
    RepairsSerializer,
    SupervisionSerializer,
)


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
    OpenApiParameter("grade", OpenApiTypes.STR, enum=[c for c, _label in Grade.choices],
                     description="the enterprises' current grade (the migration: held on either date)"),
]
DAYS = [
    OpenApiParameter("first_date", OpenApiTypes.DATE, description="default: the day before the period"),
    OpenApiParameter("second_date", OpenApiTypes.DATE, description="default: the period's last day (today at the "
                     "latest)"),
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
                "business_form": query.business_form, "grade": query.grade, "first_date": query.first_day,
                "second_date": query.second_day}

    def page(self, view_class, query):
        """The page's figures with its drill-down links (one definition for the page and the API)."""
        page = view_class()
        page.request = self.request
        return page.figures(query)


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
    """The warnings raised in the period: confirmed, dismissed, closed, handled past the deadline; days from
    raising to review, dispatch and closing (median, p90); the same per responsible organisation."""

    @extend_schema(parameters=PARAMETERS, responses={200: AlertHandlingSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        figures = stats.alert_figures(request.user, query)
        for row in figures["organisations"]:
            org = row.pop("organisation")
            row["organisation"], row["name"] = (org.pk, org.name) if org is not None else (None, "")
        return Response(AlertHandlingSerializer({**self.echo(query), **figures}).data)


class MigrationView(FiguresView):
    """Grades on the first date × grades on the second (point in time from the grade history)."""

    @extend_schema(parameters=[*PARAMETERS, *DAYS], responses={200: MigrationSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        m = self.page(page_views.MigrationView, query)
        rows = [{"grade": row["grade"], "cells": {**row["cells"], "total": row["total"]},
                 "enterprises_url": request.build_absolute_uri(row["total_url"])} for row in m["rows"]]
        return Response(MigrationSerializer({**self.echo(query), **m, "rows": rows}).data)


def _top(e):
    return {"id": e.pk, "uscc": e.uscc, "name": e.name, "region": e.region.name, "grade": e.current_grade,
            "score": e.current_score, **{k: getattr(e, k) for k in ("before", "after", "rise") if hasattr(e, k)}}


class RankingsView(FiguresView):
    """Business forms and food categories by risk now; the TOP-N highest risk and largest rise of the score."""

    @extend_schema(parameters=[*PARAMETERS, *DAYS], responses={200: RankingsSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        f = self.page(page_views.RankingView, query)
        return Response(RankingsSerializer({
            **self.echo(query), "by_business_form": f["by_form"], "by_food_category": f["by_category"],
            "highest_risk": [_top(e) for e in f["highest"]], "largest_rise": [_top(e) for e in f["rise"]]}).data)


class SupervisionView(FiguresView):
    """Supervision effectiveness per grade in the period: the enterprises under their grade now, the inspections
    and rectification orders under the grade in force when made (stats.supervision)."""

    @extend_schema(parameters=PARAMETERS, responses={200: SupervisionSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        f = stats.supervision(request.user, query)
        return Response(SupervisionSerializer({**self.echo(query), "rows": f["rows"], "ungraded": f["ungraded"],
                                               "profile": f["profile"].code if f["profile"] else None}).data)


class RepairsView(FiguresView):
    """Credit repairs applied for in the period, per month applied and per current grade, and their decisions."""

    @extend_schema(parameters=PARAMETERS, responses={200: RepairsSerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        f = data_views.repair_figures(request.user, query)

        def counts(row):
            return {**row, "list_url": request.build_absolute_uri(row["links"]["applied"]) if row["links"] else ""}

        return Response(RepairsSerializer({
            **self.echo(query), "total": counts(f["total"]),
            "months": [{**counts(r), "month": _month(r["month"])} for r in f["months"]],
            "grades": [counts(r) for r in f["grades"]]}).data)


class CanViewBatches(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated
                    and request.user.has_perm(data_views.DATA_PERMISSION))


class DataQualityView(FiguresView):
    """Data freshness and quality over time: the last successful import per source and record kind, the batches
    and quarantine share per month, the open quarantine per kind (the caller's batches; ingest.view_batch)."""

    permission_classes = [permissions.IsAuthenticated, CanViewBatches]

    @extend_schema(parameters=PARAMETERS[:3], responses={200: DataQualitySerializer, 400: ErrorSerializer})
    def get(self, request):
        query = self.query()
        f = data_views.data_quality_figures(request.user, query)
        return Response(DataQualitySerializer({
            "start": _month(query.start), "end": _month(query.end),
            "region": query.region.pk if query.region is not None else None, "freshness": f["freshness"],
            "months": [{**r, "month": _month(r["month"])} for r in f["months"]], "quarantine": f["quarantine"]}).data)
