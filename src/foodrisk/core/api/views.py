from ..models import (
    AuditEntry,
    DictionaryType,
    Job,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    User,
)
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
    queryset = Job.objects.all()
    serializer_class = s.JobSerializer
    filterset_fields = ["kind", "status"]


class AuditEntryViewSet(ReadOnlyScopedViewSet):
    queryset = AuditEntry.objects.all()
    serializer_class = s.AuditEntrySerializer
    filterset_fields = ["username", "action", "object_type", "object_id"]
