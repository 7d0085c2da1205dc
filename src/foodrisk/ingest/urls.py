from django.urls import path

from foodrisk.core.views.generic import crud_urls

from . import views as v
from .models import Batch, MappingProfile, MatchCandidate, QuarantinedRow, Source

app_name = "ingest"

urlpatterns = [
    path("upload/", v.UploadView.as_view(), name="upload"),
    path("designer/", v.DesignerView.as_view(), name="designer"),
    path("designer/map/", v.DesignerMapView.as_view(), name="designer_map"),
    path("quality/", v.QualityView.as_view(), name="quality"),
    path("templates/", v.TemplatesView.as_view(), name="templates"),
    path("templates/<str:kind>.xlsx", v.TemplateDownloadView.as_view(), name="template_download"),
    path("batches/<int:pk>/resume/", v.BatchResumeView.as_view(), name="batch_resume"),
    *crud_urls(Batch, prefix="batches", list_view=v.BatchListView, detail_view=v.BatchDetailView),
    path("quarantine/upload/", v.QuarantineUploadView.as_view(), name="quarantine_upload"),
    path("quarantine/<int:pk>/resubmit/", v.QuarantineResubmitView.as_view(), name="quarantine_resubmit"),
    path("quarantine/<int:pk>/discard/", v.QuarantineDiscardView.as_view(), name="quarantine_discard"),
    *crud_urls(QuarantinedRow, prefix="quarantine", list_view=v.QuarantinedRowListView,
               detail_view=v.QuarantinedRowDetailView),
    path("review/<int:pk>/confirm/", v.MatchCandidateDecisionView.as_view(decision="confirm"),
         name="matchcandidate_confirm"),
    path("review/<int:pk>/reject/", v.MatchCandidateDecisionView.as_view(decision="reject"),
         name="matchcandidate_reject"),
    *crud_urls(MatchCandidate, prefix="review", list_view=v.MatchCandidateListView,
               detail_view=v.MatchCandidateDetailView),
    *crud_urls(Source, prefix="sources", list_view=v.SourceListView, detail_view=v.SourceDetailView,
               edit_view=v.SourceEditView),
    *crud_urls(MappingProfile, prefix="profiles", list_view=v.MappingProfileListView,
               detail_view=v.MappingProfileDetailView, edit_view=v.MappingProfileEditView),
]
