"""Indicator sets over REST: read, plus lifecycle actions through the services (same rules as the UI)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet
from foodrisk.core.models import Region

from .. import services
from ..models import IndicatorSet
from ..services import SpecValidationError
from .serializers import CreateSerializer, IndicatorSetSerializer, NoteSerializer, SpecSerializer


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except SpecValidationError as exc:
        raise exceptions.ValidationError({"spec": [{"where": w, "field": f, "message": m} for w, f, m in exc.issues]})
    except ValidationError as exc:
        raise exceptions.ValidationError(exc.messages)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc))


def _need(request, perm):
    if not request.user.has_perm(perm):
        raise exceptions.PermissionDenied(perm)


class IndicatorSetViewSet(ReadOnlyScopedViewSet):
    queryset = IndicatorSet.objects.order_by("code", "-version")
    serializer_class = IndicatorSetSerializer
    filterset_fields = ["code", "status"]
    http_method_names = ["get", "head", "options", "post", "put"]

    def _done(self, obj, code=status.HTTP_200_OK):
        return Response(IndicatorSetSerializer(obj).data, status=code)

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

    def _lifecycle(self, request, func, perm):
        _need(request, perm)
        s = NoteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return self._done(_call(func, self.get_object(), user=request.user, note=s.validated_data.get("note", "")))

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

    @extend_schema(request=NoteSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._lifecycle(request, services.activate, "indicators.activate_indicatorset")

    @extend_schema(request=NoteSerializer, responses=IndicatorSetSerializer)
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        return self._lifecycle(request, services.rollback, "indicators.activate_indicatorset")

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        from foodrisk.core.services import jobs

        _need(request, "indicators.preview_indicatorset")
        obj = self.get_object()
        job = jobs.start("indicators.preview", user=request.user, params={"indicator_set": obj.pk})
        return Response({"job": job.pk}, status=status.HTTP_202_ACCEPTED)
