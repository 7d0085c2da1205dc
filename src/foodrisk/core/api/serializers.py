from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ..models import (
    Announcement,
    AuditEntry,
    DictionaryItem,
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
from ..models.exports import ExportFormat
from .generic import ConfirmField, ScopedModelSerializer


class RegionSerializer(ScopedModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent", "full_name", "active"]


class OrganisationSerializer(ScopedModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "parent", "region", "contact", "active"]


class UserSerializer(ScopedModelSerializer):
    roles = serializers.SlugRelatedField(source="groups", many=True, read_only=True, slug_field="name")

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "email", "organisation", "scope_region", "is_active", "roles",
                  "last_login"]
        read_only_fields = ["last_login"]


class RoleSerializer(ScopedModelSerializer):
    permissions = serializers.SerializerMethodField()

    class Meta:
        model = Role
        fields = ["id", "code", "name", "description", "builtin", "permissions"]

    def get_permissions(self, role) -> list[str]:
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all())


class DictionaryItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = DictionaryItem
        fields = ["code", "label", "order", "enabled"]


class DictionaryTypeSerializer(ScopedModelSerializer):
    items = DictionaryItemSerializer(many=True, read_only=True)

    class Meta:
        model = DictionaryType
        fields = ["id", "code", "name", "description", "builtin", "items"]


class ParameterSerializer(ScopedModelSerializer):
    class Meta:
        model = Parameter
        fields = ["id", "key", "name", "category", "value_type", "value", "description", "source"]


class MessageTemplateSerializer(ScopedModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ["id", "code", "name", "channels", "subject", "body", "enabled"]


class ExportRequestSerializer(serializers.ModelSerializer):
    source = serializers.CharField(max_length=100, help_text=_("URL name of the list, e.g. enterprises:enterprise_list"))
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.XLSX)
    filters = serializers.DictField(required=False, default=dict)
    include_sensitive = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    confirmed = ConfirmField(write_only=True)  # an export is a high-risk action: the file leaves the system

    class Meta:
        model = ExportRequest
        fields = ["id", "source", "title", "format", "filters", "include_sensitive", "reason", "confirmed", "status",
                  "rows", "requested_by", "requested_at", "approved_by", "decided_at", "decision_note", "job"]
        read_only_fields = ["id", "title", "status", "rows", "requested_by", "requested_at", "approved_by",
                            "decided_at", "decision_note", "job"]


class ExportNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "kind", "title", "status", "progress", "message", "log", "params", "result", "error",
                  "created_by", "created_at", "started_at", "finished_at"]


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["seq", "timestamp", "username", "action", "object_type", "object_id", "object_repr",
                  "region_code", "before", "after", "details", "ip", "request_id", "algorithm", "prev_hash",
                  "entry_hash"]


class AnnouncementSerializer(ScopedModelSerializer):
    """Reading: the announcement and whether the requesting user has marked it read. Writing (publish): title,
    body, level, audience, organisations (ids within the user's scope), expires_at."""

    published_by = serializers.StringRelatedField()
    is_read = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = Announcement
        fields = ["id", "title", "body", "level", "audience", "organisations", "published_by", "published_at",
                  "expires_at", "withdrawn_at", "is_read"]
        read_only_fields = ["published_by", "published_at", "withdrawn_at"]
