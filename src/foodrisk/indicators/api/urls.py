from rest_framework.routers import DefaultRouter

from .views import IndicatorSetViewSet

router = DefaultRouter()
router.register("sets", IndicatorSetViewSet, basename="indicatorset")
urlpatterns = router.urls
