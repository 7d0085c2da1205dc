from django.urls import path
from rest_framework.routers import DefaultRouter

from . import admin_views, exchange_views, views
from .admin import DeliveryViewSet, SubscriptionViewSet

router = DefaultRouter()
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("v1/enterprises/<str:uscc>/", views.EnterpriseLookupView.as_view(), name="sharing_enterprise"),
    path("v1/datasets/<str:code>/", views.DatasetPageView.as_view(), name="sharing_dataset"),
    path("v1/datasets/<str:code>/enterprises/<str:uscc>/", views.DatasetLookupView.as_view(),
         name="sharing_dataset_enterprise"),
    *router.urls,
    path("v1/datasets/<str:code>/changes/", exchange_views.ChangeStreamView.as_view(), name="sharing_changes"),
    path("v1/inbound/<str:kind>/", exchange_views.InboundView.as_view(), name="sharing_inbound"),
    path("v1/exports/", exchange_views.ExportListView.as_view(), name="sharing_exports"),
    path("v1/exports/<int:pk>/<str:name>", exchange_views.ExportFileView.as_view(), name="sharing_export_file"),
    path("admin/call-stats/", admin_views.CallStatsAPIView.as_view(), name="sharing_call_stats"),
    path("admin/exports/", admin_views.ExportsAPIView.as_view(), name="sharing_exchange_exports"),
    path("admin/alarms/", admin_views.AlarmListAPIView.as_view(), name="sharing_alarms"),
]
