from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("sets/", views.IndicatorSetListView.as_view(), name="indicatorset_list"),
    path("sets/add/", views.IndicatorSetCreateView.as_view(), name="indicatorset_add"),
    path("sets/<int:pk>/", views.IndicatorSetDetailView.as_view(), name="indicatorset_detail"),
    path("sets/<int:pk>/preview/", views.PreviewView.as_view(), name="indicatorset_preview"),
    path("sets/<int:pk>/settings/", views.SettingsEditView.as_view(), name="indicatorset_settings"),
    path("sets/<int:pk>/json/", views.RawSpecView.as_view(), name="indicatorset_json"),
    path("sets/<int:pk>/indicators/add/", views.IndicatorEditView.as_view(), name="indicator_add"),
    path("sets/<int:pk>/indicators/<str:code>/", views.IndicatorEditView.as_view(), name="indicator_edit"),
    path("sets/<int:pk>/rules/add/", views.RuleEditView.as_view(), name="rule_add"),
    path("sets/<int:pk>/rules/<str:code>/", views.RuleEditView.as_view(), name="rule_edit"),
    path("sets/<int:pk>/do/<str:action>/", views.LifecycleActionView.as_view(), name="indicatorset_action"),
]
