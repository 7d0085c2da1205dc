from rest_framework.routers import DefaultRouter

from ..views import URL_PREFIX
from . import views

router = DefaultRouter()
for kind, viewset in views.VIEWSETS.items():
    router.register(URL_PREFIX[kind], viewset, basename=viewset.queryset.model._meta.model_name)
router.register("attachments", views.AttachmentViewSet)

app_name = "records-api"
urlpatterns = router.urls
