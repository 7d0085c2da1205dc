from django.contrib.auth import views as auth_views
from django.urls import path

from .forms import LoginForm
from .models import (
    Announcement,
    AuditEntry,
    Delivery,
    DictionaryType,
    ExportRequest,
    Job,
    MessageTemplate,
    Organisation,
    Parameter,
    Region,
    Role,
    Schedule,
    User,
)
from .views import admin as v
from .views import exports as ex
from .views import tokens as tk
from .views.generic import crud_urls
from .views.pages import home

app_name = "core"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="core/login.html",
                                                         authentication_form=LoginForm,
                                                         redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(
        template_name="core/password_change.html", success_url="/"), name="password_change"),
    path("accounts/api-tokens/", tk.ApiTokenView.as_view(), name="api_tokens"),
    path("accounts/api-tokens/<int:pk>/revoke/", tk.ApiTokenRevokeView.as_view(), name="api_token_revoke"),
    path("notifications/", v.NotificationListView.as_view(), name="notifications"),
    path("audit/verify/", v.AuditVerifyView.as_view(), name="audit_verify"),
    path("users/<int:pk>/password/", v.UserPasswordView.as_view(), name="user_password"),
    path("regions/<str:pk>/", v.RegionDetailView.as_view(), name="region_detail"),
    *crud_urls(Region, list_view=v.RegionListView),
    path("regions/stations/add/", v.StationEditView.as_view(), name="region_add"),
    path("regions/<str:pk>/edit/", v.StationEditView.as_view(), name="region_edit"),
    path("regions/<str:pk>/delete/", v.StationDeleteView.as_view(), name="region_delete"),
    *crud_urls(Organisation, list_view=v.OrganisationListView, detail_view=v.OrganisationDetailView,
               edit_view=v.OrganisationEditView, delete_view=v.OrganisationDeleteView),
    *crud_urls(User, list_view=v.UserListView, detail_view=v.UserDetailView, edit_view=v.UserEditView),
    *crud_urls(Role, list_view=v.RoleListView, detail_view=v.RoleDetailView, edit_view=v.RoleEditView,
               delete_view=v.RoleDeleteView),
    *crud_urls(DictionaryType, prefix="dictionaries", list_view=v.DictionaryTypeListView, detail_view=v.DictionaryTypeDetailView,
               edit_view=v.DictionaryTypeEditView),
    *crud_urls(Parameter, list_view=v.ParameterListView, detail_view=v.ParameterDetailView,
               edit_view=v.ParameterEditView),
    *crud_urls(MessageTemplate, prefix="message-templates", list_view=v.MessageTemplateListView, detail_view=v.MessageTemplateDetailView,
               edit_view=v.MessageTemplateEditView),
    *crud_urls(Schedule, list_view=v.ScheduleListView, detail_view=v.ScheduleDetailView,
               edit_view=v.ScheduleEditView, delete_view=v.ScheduleDeleteView),
    *crud_urls(Job, list_view=v.JobListView, detail_view=v.JobDetailView),
    path("jobs/<int:pk>/download/", ex.JobDownloadView.as_view(), name="job_download"),
    path("exports/new/", ex.ExportNewView.as_view(), name="export_new"),
    path("exports/<int:pk>/<str:op>/", ex.ExportRequestActionView.as_view(), name="exportrequest_action"),
    *crud_urls(ExportRequest, prefix="exports", list_view=ex.ExportRequestListView,
               detail_view=ex.ExportRequestDetailView),
    *crud_urls(Delivery, prefix="deliveries", list_view=v.DeliveryListView, detail_view=v.DeliveryDetailView),
    path("deliveries/<int:pk>/retry/", v.DeliveryRetryView.as_view(), name="delivery_retry"),
    *crud_urls(Announcement, list_view=v.AnnouncementListView, detail_view=v.AnnouncementDetailView),
    path("announcements/add/", v.AnnouncementPublishView.as_view(), name="announcement_add"),
    path("announcements/<int:pk>/withdraw/", v.AnnouncementWithdrawView.as_view(), name="announcement_withdraw"),
    path("announcements/<int:pk>/read/", v.AnnouncementReadView.as_view(), name="announcement_read"),
    *crud_urls(AuditEntry, prefix="audit", list_view=v.AuditEntryListView, detail_view=v.AuditEntryDetailView),
]
