from rest_framework.routers import DefaultRouter

from .views import AlertViewSet, WarningRuleViewSet

router = DefaultRouter()
router.register("rules", WarningRuleViewSet, basename="warningrule")
router.register("alerts", AlertViewSet, basename="alert")
urlpatterns = router.urls

