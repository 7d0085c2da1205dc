from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("enterprises", views.EnterpriseViewSet)
router.register("licences", views.LicenceViewSet)

app_name = "enterprises-api"
urlpatterns = router.urls
