import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet, ScopedModelViewSet

from .. import profile_format, readers
from ..models import Batch, MappingProfile, MatchCandidate, QuarantinedRow
from ..services import DuplicateFile, IngestError, batches, designer, profiles
from . import serializers as s


class BatchViewSet(ScopedModelViewSet):
    """GET: batches in scope with counts and quality report. POST (multipart file, source, kind): 202 with
    the batch id and its job; the file is imported by the worker."""

    queryset = Batch.objects.select_related("source", "quality").all()
    serializer_class = s.BatchSerializer
    filterset_fields = ["kind", "status", "source"]
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return s.BatchUploadSerializer if self.action == "create" else s.BatchSerializer

    def list(self, request, *args, **kwargs):
        batches.fail_stale_batches()  # a batch whose process died reads as failed (and resumable), not running
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        batches.fail_stale_batches()
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(request=None, responses={202: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """A failed (e.g. interrupted) batch imported again from its first uncommitted row, by the worker: 202."""
        batch = self.get_object()
        try:
            job = batches.resume_batch(batch, user=request.user)
        except IngestError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"id": batch.pk, "job": job.pk, "rows_committed": batch.rows_read},
                        status=status.HTTP_202_ACCEPTED)

    def create(self, request, *args, **kwargs):
        upload = s.BatchUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        profiles.ensure_builtin_profiles()  # a fresh installation's built-ins are rows before anyone lists them
        if data.get("profile") and not MappingProfile.objects.restrict(request.user).filter(
                code=data["profile"]).exists():
            return Response({"profile": [_("The mapping profile does not exist or is outside your jurisdiction.")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            batch = batches.create_batch(user=request.user, source=data["source"], kind=data["kind"],
                                          content=data["file"].read(), file_name=data["file"].name,
                                          profile=data.get("profile") or None, import_day=data.get("import_day"),
                                          confirm_duplicate=data["confirm_duplicate"])
        except DuplicateFile as exc:
            return Response({"detail": str(exc), "duplicate_of": exc.earlier.pk}, status=status.HTTP_409_CONFLICT)
        except IngestError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        job = batches.start_batch(batch, user=request.user)
        return Response({"id": batch.pk, "job": job.pk, "status": batch.status,
                         "url": request.build_absolute_uri(f"{request.path}{batch.pk}/")},
                        status=status.HTTP_202_ACCEPTED)


class QuarantinedRowViewSet(ReadOnlyScopedViewSet):
    queryset = QuarantinedRow.objects.select_related("batch")
    serializer_class = s.QuarantinedRowSerializer
    filterset_fields = ["batch", "status"]


class MatchCandidateViewSet(ReadOnlyScopedViewSet):
    queryset = MatchCandidate.objects.all()
    serializer_class = s.MatchCandidateSerializer
    filterset_fields = ["batch", "status"]


def _invalid(exc):
    return Response({"config": exc.errors}, status=status.HTTP_400_BAD_REQUEST)


def _config_value(value):
    """A configuration sent in a multipart form arrives as JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise serializers.ValidationError({"config": [_("The configuration is not valid JSON.")]}) from None
    return value


class MappingProfileViewSet(ScopedModelViewSet):
    """Mapping profiles in the user's scope (national ones included). POST/PUT/PATCH validate the configuration
    and keep a new version; validate, suggest (a sample's columns and a first profile), dry-run (a sample
    through a profile, nothing written), export and import (a profile as a JSON file), versions."""

    queryset = MappingProfile.objects.select_related("source").all()
    serializer_class = s.MappingProfileSerializer

    def list(self, request, *args, **kwargs):
        profiles.ensure_builtin_profiles()  # listed from the start, as on the profiles page
        return super().list(request, *args, **kwargs)
    filterset_fields = ["kind", "builtin"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        try:
            serializer.instance = designer.save_profile(config=d["config"], user=self.request.user, code=d["code"],
                                                        name=d.get("name", ""))
        except profile_format.ProfileInvalid as exc:
            raise serializers.ValidationError({"config": exc.errors}) from exc

    def perform_update(self, serializer):
        d = serializer.validated_data
        profile = serializer.instance
        try:
            serializer.instance = designer.save_profile(config=d.get("config", profile.config), user=self.request.user,
                                                        profile=profile, name=d.get("name", ""))
        except profile_format.ProfileInvalid as exc:
            raise serializers.ValidationError({"config": exc.errors}) from exc

    @extend_schema(request=s.ProfileConfigSerializer, responses=s.ValidationResultSerializer)
    @action(detail=False, methods=["post"])
    def validate(self, request):
        body = s.ProfileConfigSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            cfg = profile_format.validate(body.validated_data["config"], regions=designer._regions())
        except profile_format.ProfileInvalid as exc:
            return Response({"valid": False, "errors": exc.errors})
        return Response({"valid": True, "errors": [], "config": profile_format.to_jsonable(cfg)})

    @extend_schema(request=s.SampleSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"])
    def suggest(self, request):
        body = s.SampleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            d = body.validated_data
            table, detected = designer.read_sample(d["file"].read(), d["file"].name, sheet=d.get("sheet"),
                                                   header_row=d.get("header_row"))
        except readers.UnreadableFile as exc:
            return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        kind = body.validated_data["kind"]
        return Response({"detected": detected, "headers": table.headers,
                         "columns": designer.analyse(kind, table),
                         "config": designer.suggested_config(kind, table, read=designer.read_choices(detected))})

    @extend_schema(request=s.DryRunSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=False, methods=["post"], url_path="dry-run", url_name="dry-run")
    def dry_run(self, request):
        body = s.DryRunSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        if d.get("profile"):
            profiles.ensure_builtin_profiles()
            profile = MappingProfile.objects.restrict(request.user).filter(code=d["profile"]).first()
            if profile is None:
                return Response({"profile": [_("The mapping profile does not exist or is outside your jurisdiction.")]}, status=status.HTTP_400_BAD_REQUEST)
            config = profile.config
        elif "config" in d:
            config = _config_value(d["config"])
        else:
            return Response({"config": [_("Give a configuration or a mapping profile.")]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = designer.dry_run(d["file"].read(), d["file"].name, config, user=request.user, source=d["source"],
                                      import_day=d.get("import_day"))
        except profile_format.ProfileInvalid as exc:
            return _invalid(exc)
        except readers.UnreadableFile as exc:
            return Response({"file": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(result)

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})  # the profile file, not a profile
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        profile = self.get_object()
        response = HttpResponse(designer.export_profile(profile), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="profile-{profile.code}.json"'
        return response

    @extend_schema(request=s.ProfileFileSerializer, responses=s.MappingProfileSerializer)
    @action(detail=False, methods=["post"], url_path="import", url_name="import")
    def import_file(self, request):
        body = s.ProfileFileSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            profile = designer.import_profile(body.validated_data["file"].read(), user=request.user,
                                              code=body.validated_data.get("code", ""))
        except profile_format.ProfileInvalid as exc:
            return _invalid(exc)
        return Response(s.MappingProfileSerializer(profile, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.MappingProfileVersionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)  # the whole list, as served (not paginated)
    def versions(self, request, pk=None):
        profile = self.get_object()
        return Response(s.MappingProfileVersionSerializer(profile.versions.all(), many=True).data)
