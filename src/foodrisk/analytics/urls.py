from django.urls import path

from . import data_views, report_views, views

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("migration/", views.MigrationView.as_view(), name="migration"),
    path("rankings/", views.RankingView.as_view(), name="rankings"),
    path("warnings/", views.WarningHandlingView.as_view(), name="warnings"),
    path("supervision/", views.SupervisionView.as_view(), name="supervision"),
    path("data/", data_views.DataQualityView.as_view(), name="data_quality"),
    path("reports/", report_views.ReportListView.as_view(), name="report_list"),
    path("reports/<int:pk>/", report_views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/<str:fmt>/", report_views.ReportDownloadView.as_view(), name="report_download"),
    path("enterprises/<int:pk>/report.pdf", report_views.EnterpriseReportView.as_view(), name="enterprise_report"),
]
