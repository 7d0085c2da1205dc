from django.urls import path
from rest_framework.routers import SimpleRouter

from . import homes, reports, views

router = SimpleRouter()
router.register("reports", reports.ReportViewSet, basename="analytics-report")

urlpatterns = [
    path("grades/", views.GradesView.as_view(), name="analytics-api-grades"),
    path("matrix/", views.MatrixView.as_view(), name="analytics-api-matrix"),
    path("alerts/", views.AlertFiguresView.as_view(), name="analytics-api-alerts"),
    path("migration/", views.MigrationView.as_view(), name="analytics-api-migration"),
    path("rankings/", views.RankingsView.as_view(), name="analytics-api-rankings"),
    path("supervision/", views.SupervisionView.as_view(), name="analytics-api-supervision"),
    path("home/", homes.HomeView.as_view(), name="analytics-api-home"),
    path("repairs/", views.RepairsView.as_view(), name="analytics-api-repairs"),
    path("data/", views.DataQualityView.as_view(), name="analytics-api-data"),
    path("enterprises/<int:pk>/credit-report/", reports.EnterpriseCreditReportView.as_view(),
         name="analytics-api-enterprise-report"),
    *router.urls,
]
