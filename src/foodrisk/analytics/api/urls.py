from django.urls import path

from . import views

urlpatterns = [
    path("grades/", views.GradesView.as_view(), name="analytics-api-grades"),
    path("matrix/", views.MatrixView.as_view(), name="analytics-api-matrix"),
    path("alerts/", views.AlertFiguresView.as_view(), name="analytics-api-alerts"),
]
