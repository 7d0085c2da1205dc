from django.urls import path

from . import model_views, views

app_name = "scoring"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("runs/", views.ScoringRunListView.as_view(), name="scoringrun_list"),
    path("runs/start/", views.StartRunView.as_view(), name="scoringrun_start"),
    path("runs/<int:pk>/", views.ScoringRunDetailView.as_view(), name="scoringrun_detail"),
    path("scores/", views.ScoreListView.as_view(), name="score_list"),
    path("enterprises/<int:pk>/", views.EnterpriseWhyView.as_view(), name="enterprise_why"),
    path("changes/", views.GradeChangeListView.as_view(), name="gradechange_list"),
    path("adjustments/", views.GradeAdjustmentListView.as_view(), name="gradeadjustment_list"),
    path("adjustments/add/", views.GradeAdjustmentCreateView.as_view(), name="gradeadjustment_add"),
    path("adjustments/<int:pk>/", views.GradeAdjustmentDetailView.as_view(), name="gradeadjustment_detail"),
    path("models/", model_views.ModelVersionListView.as_view(), name="modelversion_list"),
    path("models/train/", model_views.ModelTrainView.as_view(), name="modelversion_train"),
    path("models/change/<str:target>/", model_views.ModelChangeView.as_view(), name="modelversion_change"),
    path("models/drift/", model_views.ModelDriftView.as_view(), name="modelversion_drift"),
    path("models/<int:pk>/", model_views.ModelVersionDetailView.as_view(), name="modelversion_detail"),
    path("models/<int:pk>/<str:action>/", model_views.ModelVersionActionView.as_view(),
         name="modelversion_action"),
    path("adjustments/<int:pk>/<str:action>/", views.GradeAdjustmentActionView.as_view(),
         name="gradeadjustment_action"),
]
