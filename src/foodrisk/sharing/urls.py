from django.urls import path

from . import exchange_views, views

app_name = "sharing"

urlpatterns = [
    path("clients/", views.ClientSystemListView.as_view(), name="clientsystem_list"),
    path("clients/add/", views.ClientSystemFormView.as_view(), name="clientsystem_add"),
    path("clients/<int:pk>/", views.ClientSystemDetailView.as_view(), name="clientsystem_detail"),
    path("clients/<int:pk>/edit/", views.ClientSystemFormView.as_view(), name="clientsystem_edit"),
    path("clients/<int:pk>/rotate/", views.ClientSystemRotateView.as_view(), name="clientsystem_rotate"),
    path("clients/<int:pk>/inbound/", exchange_views.InboundView.as_view(), name="inbound"),
    path("clients/<int:pk>/<str:action>/", views.ClientSystemActionView.as_view(), name="clientsystem_action"),
    path("clients/<int:client_pk>/subscriptions/add/", views.SubscriptionFormView.as_view(),
         name="subscription_add"),
    path("subscriptions/<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("subscriptions/<int:pk>/edit/", views.SubscriptionFormView.as_view(), name="subscription_edit"),
    path("subscriptions/<int:pk>/<str:action>/", views.SubscriptionActionView.as_view(), name="subscription_action"),
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<int:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path("deliveries/<int:pk>/redeliver/", views.DeliveryRedeliverView.as_view(), name="delivery_redeliver"),
    path("catalogue/", views.CatalogueView.as_view(), name="catalogue"),
    path("calls/", views.SharingCallListView.as_view(), name="sharingcall_list"),
    path("calls/stats/", exchange_views.CallStatsView.as_view(), name="call_stats"),
    path("exports/", exchange_views.ExchangeExportListView.as_view(), name="exchangeexport_list"),
    path("exports/request/", exchange_views.ExchangeExportRequestView.as_view(), name="exchangeexport_request"),
    path("exports/<int:pk>/", exchange_views.ExchangeExportDetailView.as_view(), name="exchangeexport_detail"),
    path("exports/<int:pk>/download/<str:name>", exchange_views.ExchangeExportDownloadView.as_view(),
         name="exchangeexport_download"),
    path("alarms/", exchange_views.SharingAlarmListView.as_view(), name="sharingalarm_list"),
    path("alarms/<int:pk>/acknowledge/", exchange_views.SharingAlarmAcknowledgeView.as_view(),
         name="sharingalarm_acknowledge"),
]
