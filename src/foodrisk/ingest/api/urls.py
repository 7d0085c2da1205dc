from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("batches", views.BatchViewSet)
router.register("quarantine", views.QuarantinedRowViewSet)
router.register("review", views.MatchCandidateViewSet)
router.register("profiles", views.MappingProfileViewSet)

app_name = "ingest-api"
urlpatterns = router.urls
