from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views
from .admin import DeliveryViewSet, SubscriptionViewSet

router = DefaultRouter()
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("v1/enterprises/<str:uscc>/", views.EnterpriseLookupView.as_view(), name="sharing_enterprise"),
    path("v1/datasets/<str:code>/", views.DatasetPageView.as_view(), name="sharing_dataset"),
    *router.urls,
]
