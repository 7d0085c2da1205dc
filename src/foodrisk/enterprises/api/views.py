from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions
from rest_framework.decorators import action
from rest_framework.response import Response

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

    def get_permissions(self):
        if self.action == "reveal":  # the service checks the sensitive permission; the queryset the scope
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def scope_action(self):
        return "view" if self.action == "reveal" else super().scope_action()

    @extend_schema(request=s.RevealSerializer, responses=s.RevealedSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """A sensitive field in clear: needs the permission and a reason; recorded in the audit log."""
        ser = s.RevealSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        field = ser.validated_data["field"]
        try:
            value = services.reveal_sensitive(self.get_object(), field, user=request.user,
                                              reason=ser.validated_data["reason"])
        except DjangoPermissionDenied as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return Response({"field": field, "value": value})

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
