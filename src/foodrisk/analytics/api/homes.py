"""The home page's figures over REST: GET /api/analytics/home/ (?home= one of the caller's homes) answers the
figures of the caller's primary home (core.homes), as the page shows them — the counts and the list links behind
them (paths relative to the site), inside the caller's scope."""

import dataclasses
import datetime as dt
from decimal import Decimal

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from foodrisk.core import homes

from .serializers import ErrorSerializer


def plain(value):
    """The figures as JSON: dates in ISO form, a model row as its id and name, labels as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # the filter query of the figures
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "pk"):
        return {"id": value.pk, "name": str(value)}
    return str(value)


class HomeRefSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class HomeSerializer(serializers.Serializer):
    home = serializers.CharField(allow_null=True, help_text="the home shown; null: the caller's roles have none")
    homes = HomeRefSerializer(many=True, help_text="the caller's homes, the primary one first")
    figures = serializers.DictField(allow_null=True, help_text="the home's figures and the list links behind them")


class HomeView(APIView):
    """The figures of the caller's home page (leader: grades, warnings, C/D supervision, credit repairs;
    inspector: his warnings and tasks; data administrator: batches, quarantine, freshness; system
    administrator: jobs and health)."""

    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=[OpenApiParameter("home", OpenApiTypes.STR, description="one of the caller's homes "
                                                "(default: the primary one)")],
                   responses={200: HomeSerializer, 400: ErrorSerializer})
    def get(self, request):
        mine = homes.homes_for(request.user)
        wanted = request.query_params.get("home") or (mine[0].key if mine else None)
        home = next((h for h in mine if h.key == wanted), None)
        if wanted and home is None:
            return Response({"detail": f"no such home for this user: {wanted}"}, status=400)
        return Response(HomeSerializer({
            "home": home.key if home else None, "homes": [{"key": h.key, "label": str(h.label)} for h in mine],
            "figures": plain(home.figures(request)) if home else None}).data)
