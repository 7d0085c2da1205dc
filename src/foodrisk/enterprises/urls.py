from django.urls import path

from foodrisk.core.views.generic import crud_urls

from . import views
from .models import Licence

app_name = "enterprises"

urlpatterns = [
    # The archive's front door: /enterprises/ lists, /enterprises/<pk>/ is the profile (一企一档).
    path("", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("add/", views.EnterpriseEditView.as_view(), name="enterprise_add"),
    path("autocomplete/", views.EnterpriseAutocompleteView.as_view(), name="enterprise_autocomplete"),
    path("<int:pk>/", views.EnterpriseDetailView.as_view(), name="enterprise_detail"),
    path("<int:pk>/reveal/", views.EnterpriseRevealView.as_view(), name="enterprise_reveal"),
    path("<int:pk>/edit/", views.EnterpriseEditView.as_view(), name="enterprise_edit"),
    path("<int:pk>/delete/", views.EnterpriseDeleteView.as_view(), name="enterprise_delete"),
    *crud_urls(Licence, list_view=views.LicenceListView, detail_view=views.LicenceDetailView,
               edit_view=views.LicenceEditView, delete_view=views.LicenceDeleteView),
]
