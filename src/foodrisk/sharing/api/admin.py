"""The administration of push subscriptions over REST (session or API token, like the rest of /api/): list,
create (the whsec_ secret in the answer, once), change or switch off, rotate the secret; deliveries with their
attempts, and redelivery. Every write through sharing.services, which checks the permission and region."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.decorators import action
from rest_framework.response import Response

from foodrisk.core.api.generic import ReadOnlyScopedViewSet
from foodrisk.core.api.views import call_service

from .. import services
from ..models import Delivery, Subscription
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    SubscriptionChangeSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSecretSerializer,
    SubscriptionSerializer,
)


class SubscriptionViewSet(ReadOnlyScopedViewSet):
    """Push subscriptions of the client systems in the caller's jurisdiction."""

    queryset = Subscription.objects.select_related("client").order_by("pk")
    serializer_class = SubscriptionSerializer
    filterset_fields = ["client", "active"]
    http_method_names = ["get", "head", "options", "post", "patch"]

    def get_permissions(self):
        if self.action in ("create", "partial_update", "rotate"):  # the services check change_clientsystem
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def scope_action(self):
        return "view"

    def _secret(self, sub, secret, status=200):
        return Response(SubscriptionSecretSerializer({"subscription": sub, "secret": secret}).data, status=status)

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSecretSerializer})
    def create(self, request, *args, **kwargs):
        s = SubscriptionCreateSerializer(data=request.data, user=request.user)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        sub, secret = call_service(services.create_subscription, d["client"], user=request.user, url=d["url"],
                            event_types=d["event_types"], description=d["description"])
        return self._secret(sub, secret, status=201)

    @extend_schema(request=SubscriptionChangeSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, *args, **kwargs):
        sub = self.get_object()
        s = SubscriptionChangeSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        sub = call_service(services.change_subscription, sub, user=request.user, **s.validated_data)
        return Response(SubscriptionSerializer(sub).data)

    @extend_schema(request=None, responses=SubscriptionSecretSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        sub, secret = call_service(services.rotate_subscription_secret, self.get_object(), user=request.user)
        return self._secret(sub, secret)


class DeliveryViewSet(ReadOnlyScopedViewSet):
    """Push deliveries (newest first) with their attempts; POST …/redeliver/ sends one again."""

    queryset = Delivery.objects.select_related("subscription__client").order_by("-pk")
    serializer_class = DeliverySerializer
    filterset_fields = ["status", "event_type", "subscription"]
    http_method_names = ["get", "head", "options", "post"]

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    def get_permissions(self):
        if self.action == "redeliver":  # the service checks sharing.redeliver_delivery and the client's region
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    def scope_action(self):
        return "view"

    @extend_schema(request=None, responses=DeliveryDetailSerializer)
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = call_service(services.redeliver, self.get_object(), user=request.user)
        return Response(DeliveryDetailSerializer(Delivery.objects.get(pk=delivery.pk)).data)
