from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import (
    Announcement,
    AuditEntry,
    DictionaryType,
    ExportRequest,
    Job,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    User,
)
from ..services import announcements, exports
from . import serializers as s
from .generic import ReadOnlyScopedViewSet, ScopedModelViewSet


class RegionViewSet(ReadOnlyScopedViewSet):
    queryset = Region.objects.all()
    serializer_class = s.RegionSerializer
    filterset_fields = ["level", "parent", "active"]


class OrganisationViewSet(ScopedModelViewSet):
    queryset = Organisation.objects.all()
    serializer_class = s.OrganisationSerializer
    filterset_fields = ["kind", "region", "active"]


class UserViewSet(ReadOnlyScopedViewSet):
    """Read-only: accounts are created in the UI or with the command line, where passwords are set."""

    queryset = User.objects.all()
    serializer_class = s.UserSerializer
    filterset_fields = ["organisation", "is_active"]


class RoleViewSet(ReadOnlyScopedViewSet):
    queryset = Role.objects.all()
    serializer_class = s.RoleSerializer


class DictionaryTypeViewSet(ReadOnlyScopedViewSet):
    queryset = DictionaryType.objects.prefetch_related("items")
    serializer_class = s.DictionaryTypeSerializer


class ParameterViewSet(ScopedModelViewSet):
    queryset = Parameter.objects.all()
    serializer_class = s.ParameterSerializer
    filterset_fields = ["category"]


class MessageTemplateViewSet(ScopedModelViewSet):
    queryset = MessageTemplate.objects.all()
    serializer_class = s.MessageTemplateSerializer


class JobViewSet(ReadOnlyScopedViewSet):
    """Whoever started a job follows it (Job.objects.restrict); `download` gives its file to who may have it."""

    queryset = Job.objects.all()
    serializer_class = s.JobSerializer
    filterset_fields = ["kind", "status"]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 410: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        from django.core.exceptions import PermissionDenied

        from ..views.exports import FileGone, job_file_response

        try:
            return job_file_response(self.get_object(), request.user)
        except PermissionDenied as exc:
            raise exceptions.PermissionDenied() from exc
        except FileGone as exc:
            return Response({"detail": str(exc), "code": "file_gone"}, status=status.HTTP_410_GONE)


def call_service(func, *args, **kwargs):
    """A service's refusal as the API's: 400 with the messages, 403."""
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    except DjangoPermissionDenied as exc:
        raise exceptions.PermissionDenied(str(exc))


class ExportRequestViewSet(ScopedModelViewSet):
    """The one export path over REST: POST asks for an export of a list (`source` = its URL name, `filters` =
    its query); the file is always made by a job (download it from jobs/{id}/download/). With
    `include_sensitive` a second person approves first."""

    queryset = ExportRequest.objects.all()
    serializer_class = s.ExportRequestSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["status", "source"]
    permission_classes = [permissions.IsAuthenticated]

    def scope_action(self):
        return "view"  # approve / reject act on the requests one sees; the service checks the rest

    def perform_create(self, serializer):
        d = serializer.validated_data
        req = call_service(exports.request_export, d["source"], user=self.request.user, fmt=d["format"],
                    filters=d.get("filters") or {}, include_sensitive=d.get("include_sensitive", False),
                    reason=d.get("reason", ""))
        if req.status == exports.E.APPROVED and req.job_id is None:  # small: made by a job all the same
            with transaction.atomic():
                req.job = exports.start_job(req)
                req.save(update_fields=["job"])
        serializer.instance = req

    @extend_schema(request=s.ExportNoteSerializer, responses=s.ExportRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        req = call_service(exports.approve_export, self.get_object(), user=request.user, note=request.data.get("note", ""))
        return Response(s.ExportRequestSerializer(req).data)

    @extend_schema(request=s.ExportNoteSerializer, responses=s.ExportRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        req = call_service(exports.reject_export, self.get_object(), user=request.user, note=request.data.get("note", ""))
        return Response(s.ExportRequestSerializer(req).data)


class AuditEntryViewSet(ReadOnlyScopedViewSet):
    queryset = AuditEntry.objects.all()
    serializer_class = s.AuditEntrySerializer
    filterset_fields = ["username", "action", "object_type", "object_id"]


class AnnouncementViewSet(ReadOnlyScopedViewSet):
    """Everyone logged in lists the announcements addressed to them (`is_read`: marked read) and marks one
    read; publishing needs core.add_announcement, withdrawing core.change_announcement (within one's scope)."""

    queryset = Announcement.objects.all()
    serializer_class = s.AnnouncementSerializer
    http_method_names = ["get", "head", "options", "post"]
    filterset_fields = ["level"]
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        user = self.request.user
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user to address
            return Announcement.objects.none()
        if self.action == "withdraw":  # the administrator's side: what they manage, not what they receive
            qs = Announcement.objects.restrict(user, "change")
        else:
            qs = announcements.visible_to(user)
        return announcements.with_read(qs, user).select_related("published_by")

    def create(self, request, *args, **kwargs):
        if not request.user.has_perm("core.add_announcement"):
            raise exceptions.PermissionDenied()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        announcement = call_service(announcements.publish, user=request.user, **serializer.validated_data)
        return Response(self.get_serializer(announcement).data, status=201)

    @extend_schema(request=None, responses=s.AnnouncementSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        if not request.user.has_perm("core.change_announcement"):
            raise exceptions.PermissionDenied()
        announcement = call_service(announcements.withdraw, self.get_object(), user=request.user)
        return Response(self.get_serializer(announcement).data)

    @extend_schema(request=None, responses=s.AnnouncementSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        announcement = self.get_object()
        announcements.mark_read(announcement, user=request.user)
        announcement.is_read = True
        return Response(self.get_serializer(announcement).data)
