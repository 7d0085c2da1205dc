from django.urls import path

from . import views

urlpatterns = [
    path("v1/enterprises/<str:uscc>/", views.EnterpriseLookupView.as_view(), name="sharing_enterprise"),
    path("v1/datasets/<str:code>/", views.DatasetPageView.as_view(), name="sharing_dataset"),
]
