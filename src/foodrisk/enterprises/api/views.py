from foodrisk.core.api.generic import Conflict, ScopedModelViewSet, save_through

from .. import services
from ..filtersets import EnterpriseFilterSet, LicenceFilterSet
from ..models import Enterprise, Licence
from . import serializers as s


class EnterpriseViewSet(ScopedModelViewSet):
    """CRUD; a delete is refused (409) while the enterprise has archive data (services.delete_enterprise)."""

    queryset = Enterprise.objects.select_related("region", "data_change")
    serializer_class = s.EnterpriseSerializer
    filterset_class = EnterpriseFilterSet

    def perform_create(self, serializer):
        save_through(services.save_enterprise, Enterprise(), serializer, user=self.request.user)

    def perform_update(self, serializer):
        save_through(services.save_enterprise, serializer.instance, serializer, user=self.request.user)

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
        save_through(services.save_licence, Licence(), serializer, user=self.request.user)

    def perform_update(self, serializer):
        save_through(services.save_licence, serializer.instance, serializer, user=self.request.user)

    def perform_destroy(self, instance):
        services.delete_licence(instance, user=self.request.user)
