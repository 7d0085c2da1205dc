from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from foodrisk.core.api.generic import Conflict, ScopedModelViewSet

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
    """CRUD; a delete is refused (409) while the enterprise has archive data (services.delete_enterprise)."""

    queryset = Enterprise.objects.select_related("region", "data_change")
    serializer_class = s.EnterpriseSerializer
    filterset_class = EnterpriseFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("region", "data_change")

    def perform_create(self, serializer):
        _save(services.save_enterprise, Enterprise(), serializer, self.request.user)

    def perform_update(self, serializer):
        _save(services.save_enterprise, serializer.instance, serializer, self.request.user)

    def perform_destroy(self, instance):
        try:
            services.delete_enterprise(instance, user=self.request.user)
        except services.EnterpriseInUse as exc:
            raise Conflict(str(exc)) from exc


class LicenceViewSet(ScopedModelViewSet):
    queryset = Licence.objects.all()
    serializer_class = s.LicenceSerializer
    filterset_class = LicenceFilterSet

    def perform_create(self, serializer):
        _save(services.save_licence, Licence(), serializer, self.request.user)

    def perform_update(self, serializer):
        _save(services.save_licence, serializer.instance, serializer, self.request.user)

    def perform_destroy(self, instance):
        services.delete_licence(instance, user=self.request.user)
