from django.urls import path

from foodrisk.core.views.generic import crud_urls

from . import views
from .models import WarningRule

app_name = "alerts"

urlpatterns = [
    path("", views.MyAlertsView.as_view(), name="my_alerts"),
    path("organisation/", views.OrganisationAlertsView.as_view(), name="org_alerts"),
    path("all/", views.AlertListView.as_view(), name="alert_list"),
    path("bulk-review/", views.BulkReviewView.as_view(), name="bulk_review"),
    path("<int:pk>/", views.AlertDetailView.as_view(http_method_names=["get", "head"]), name="alert_detail"),
    path("<int:pk>/<str:action>/", views.AlertDetailView.as_view(http_method_names=["post"]), name="alert_action"),
    *crud_urls(WarningRule, list_view=views.WarningRuleListView, detail_view=views.WarningRuleDetailView,
               edit_view=views.WarningRuleEditView, delete_view=views.WarningRuleDeleteView, prefix="rules"),
]
