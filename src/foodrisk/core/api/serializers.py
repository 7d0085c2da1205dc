from rest_framework import serializers

from ..models import (
    AuditEntry,
    DictionaryItem,
    DictionaryType,
    Job,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    User,
)
from .generic import ScopedModelSerializer


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

    def get_permissions(self, role):
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
