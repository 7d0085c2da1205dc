from rest_framework.routers import DefaultRouter

from .views import (
    DriftReportViewSet,
    GradeAdjustmentViewSet,
    GradeChangeViewSet,
    ModelVersionViewSet,
    ScoreViewSet,
    ScoringRunViewSet,
)

router = DefaultRouter()
router.register("runs", ScoringRunViewSet, basename="scoringrun")
router.register("scores", ScoreViewSet, basename="score")
router.register("changes", GradeChangeViewSet, basename="gradechange")
router.register("adjustments", GradeAdjustmentViewSet, basename="gradeadjustment")
router.register("models", ModelVersionViewSet, basename="modelversion")
router.register("drift", DriftReportViewSet, basename="driftreport")
urlpatterns = router.urls
