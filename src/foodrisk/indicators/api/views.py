"""Indicator sets over REST: read, plus lifecycle actions through the services (same rules as the UI)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet
from foodrisk.core.models import Region

from .. import services
from ..models import IndicatorSet
from ..services import SpecValidationError
from .serializers import (
    ActivateSerializer,
    CreateSerializer,
    IndicatorSetSerializer,
    NoteSerializer,
    SpecSerializer,
)


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except SpecValidationError as exc:
        raise exceptions.ValidationError({"spec": [{"where": w, "field": f, "message": m} for w, f, m in exc.issues]})
    except ValidationError as exc:
        raise exceptions.ValidationError(exc.messages)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc))


PART_ACTIONS = {"add_indicator", "indicator", "add_rule", "rule"}


def _need(request, perm):
    if not request.user.has_perm(perm):
        raise exceptions.PermissionDenied(perm)


class IndicatorSetViewSet(ReadOnlyScopedViewSet):
    queryset = IndicatorSet.objects.order_by("code", "-version")
    serializer_class = IndicatorSetSerializer
    filterset_fields = ["code", "status"]
    http_method_names = ["get", "head", "options", "post", "put", "delete"]

    def _done(self, obj, code=status.HTTP_200_OK):
        return Response(IndicatorSetSerializer(obj).data, status=code)

    def scope_action(self):
        if self.action in PART_ACTIONS:  # editing one entry is a change whatever the HTTP method
            return "change"
        return super().scope_action()

    @extend_schema(request=CreateSerializer, responses=IndicatorSetSerializer)
    def create(self, request):
        _need(request, "indicators.add_indicatorset")
        s = CreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        if d.get("copy_of"):
            obj = _call(services.copy_version, d["copy_of"], user=request.user, note=d.get("note", ""))
        else:
            region = Region.objects.filter(pk=d.get("scope_region")).first() if d.get("scope_region") else None
            obj = _call(services.create_from_profile, d["profile"], user=request.user, code=d.get("code") or None,
                        name=d.get("name") or None, scope_region=region, note=d.get("note", ""))
        return self._done(obj, status.HTTP_201_CREATED)

    @extend_schema(request=SpecSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["put"], url_path="spec")
    def spec(self, request, pk=None):
        _need(request, "indicators.change_indicatorset")
        s = SpecSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return self._done(_call(services.update_spec, self.get_object(), s.validated_data["spec"], user=request.user,
                                note=s.validated_data.get("note")))

    def _part(self, request, replace, remove, code=None):
        _need(request, "indicators.change_indicatorset")
        obj = self.get_object()
        if request.method == "DELETE":
            return self._done(_call(remove, obj, code, user=request.user))
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(_("Send one JSON object."))
        return self._done(_call(replace, obj, code, dict(request.data), user=request.user))

    @extend_schema(request=dict, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"], url_path="indicators", permission_classes=[IsAuthenticated])
    def add_indicator(self, request, pk=None):
        """Add one indicator to a draft (same service and checks as the editor page)."""
        return self._part(request, services.replace_indicator, services.remove_indicator)

    @extend_schema(request=dict, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["put", "delete"], url_path=r"indicators/(?P<code>[^/]+)",
            permission_classes=[IsAuthenticated])
    def indicator(self, request, pk=None, code=None):
        """Replace (PUT) or remove (DELETE) one indicator of a draft; an unknown code is a 400."""
        return self._part(request, services.replace_indicator, services.remove_indicator, code)

    @extend_schema(request=dict, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"], url_path="rules", permission_classes=[IsAuthenticated])
    def add_rule(self, request, pk=None):
        """Add one policy rule to a draft."""
        return self._part(request, services.replace_rule, services.remove_rule)

    @extend_schema(request=dict, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["put", "delete"], url_path=r"rules/(?P<code>[^/]+)",
            permission_classes=[IsAuthenticated])
    def rule(self, request, pk=None, code=None):
        """Replace (PUT) or remove (DELETE) one policy rule of a draft; an unknown code is a 400."""
        return self._part(request, services.replace_rule, services.remove_rule, code)

    def _lifecycle(self, request, func, perm, serializer=NoteSerializer):
        _need(request, perm)
        s = serializer(data=request.data)
        s.is_valid(raise_exception=True)
        return self._done(_call(func, self.get_object(), user=request.user, **s.validated_data))

    @extend_schema(request=NoteSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._lifecycle(request, services.submit, "indicators.change_indicatorset")

    @extend_schema(request=NoteSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._lifecycle(request, services.approve, "indicators.approve_indicatorset")

    @extend_schema(request=NoteSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._lifecycle(request, services.reject, "indicators.approve_indicatorset")

    @extend_schema(request=ActivateSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._lifecycle(request, services.activate, "indicators.activate_indicatorset", ActivateSerializer)

    @extend_schema(request=ActivateSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        return self._lifecycle(request, services.rollback, "indicators.activate_indicatorset", ActivateSerializer)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        from foodrisk.core.services import jobs

        _need(request, "indicators.preview_indicatorset")
        obj = self.get_object()
        job = jobs.start("indicators.preview", user=request.user, params={"indicator_set": obj.pk})
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)
