from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("migration/", views.MigrationView.as_view(), name="migration"),
    path("rankings/", views.RankingView.as_view(), name="rankings"),
    path("warnings/", views.WarningHandlingView.as_view(), name="warnings"),
    path("supervision/", views.SupervisionView.as_view(), name="supervision"),
]
