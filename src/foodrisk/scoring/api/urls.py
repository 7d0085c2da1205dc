from rest_framework.routers import DefaultRouter

from .views import GradeAdjustmentViewSet, GradeChangeViewSet, ScoreViewSet, ScoringRunViewSet

router = DefaultRouter()
router.register("runs", ScoringRunViewSet, basename="scoringrun")
router.register("scores", ScoreViewSet, basename="score")
router.register("changes", GradeChangeViewSet, basename="gradechange")
router.register("adjustments", GradeAdjustmentViewSet, basename="gradeadjustment")
urlpatterns = router.urls
