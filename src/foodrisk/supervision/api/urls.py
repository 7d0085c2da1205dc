from rest_framework.routers import DefaultRouter

from .views import AbsenceViewSet, DrawViewSet, PlanViewSet, ProfileViewSet, RepairViewSet, TaskViewSet

router = DefaultRouter()
router.register("profiles", ProfileViewSet, basename="supervisionprofile")
router.register("plans", PlanViewSet, basename="inspectionplan")
router.register("draws", DrawViewSet, basename="randomdraw")
router.register("absences", AbsenceViewSet, basename="inspectorabsence")
router.register("tasks", TaskViewSet, basename="task")
router.register("repairs", RepairViewSet, basename="repaircase")
urlpatterns = router.urls
