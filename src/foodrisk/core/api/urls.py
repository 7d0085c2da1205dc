from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("regions", views.RegionViewSet)
router.register("organisations", views.OrganisationViewSet)
router.register("users", views.UserViewSet)
router.register("roles", views.RoleViewSet)
router.register("dictionaries", views.DictionaryTypeViewSet)
router.register("parameters", views.ParameterViewSet)
router.register("message-templates", views.MessageTemplateViewSet)
router.register("jobs", views.JobViewSet)
router.register("exports", views.ExportRequestViewSet)
router.register("announcements", views.AnnouncementViewSet)
router.register("audit", views.AuditEntryViewSet)

app_name = "core-api"
urlpatterns = router.urls
