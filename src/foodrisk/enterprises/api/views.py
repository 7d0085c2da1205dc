from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from foodrisk.core.api.generic import ScopedModelViewSet

from .. import services
from ..filtersets import EnterpriseFilterSet, LicenceFilterSet
from ..models import Enterprise, Licence
from . import serializers as s


def _save(save, instance, serializer, user):
    for field, value in serializer.validated_data.items():
        setattr(instance, field, value)
    try:
        serializer.instance = save(instance, user=user)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class EnterpriseViewSet(ScopedModelViewSet):
    """List, detail, create and update; enterprises are not deleted through the API (their records cascade)."""

    queryset = Enterprise.objects.select_related("region", "data_change")
    serializer_class = s.EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().select_related("region", "data_change")

    def perform_create(self, serializer):
        _save(services.save_enterprise, Enterprise(), serializer, self.request.user)

    def perform_update(self, serializer):
        _save(services.save_enterprise, serializer.instance, serializer, self.request.user)


class LicenceViewSet(ScopedModelViewSet):
    queryset = Licence.objects.all()
    serializer_class = s.LicenceSerializer
    filterset_class = LicenceFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def perform_create(self, serializer):
        _save(services.save_licence, Licence(), serializer, self.request.user)

    def perform_update(self, serializer):
        _save(services.save_licence, serializer.instance, serializer, self.request.user)
