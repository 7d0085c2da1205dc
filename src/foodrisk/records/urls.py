from django.urls import path

from foodrisk.core.views.generic import crud_urls

from . import views
from .models import RECORD_KINDS

app_name = "records"

urlpatterns = [
    path("attachments/", views.AttachmentListView.as_view(), name="attachment_list"),
    path("attachments/add/", views.AttachmentUploadView.as_view(), name="attachment_add"),
    path("attachments/<int:pk>/", views.AttachmentDetailView.as_view(), name="attachment_detail"),
    path("attachments/<int:pk>/download/", views.AttachmentDownloadView.as_view(), name="attachment_download"),
    path("attachments/<int:pk>/delete/", views.AttachmentDeleteView.as_view(), name="attachment_delete"),
]
for kind, model in RECORD_KINDS.items():
    v = views.VIEWS[kind]
    urlpatterns += crud_urls(model, prefix=views.URL_PREFIX[kind], list_view=v["list"], detail_view=v["detail"],
                             edit_view=v["edit"], delete_view=v["delete"])

