app_name = "enterprises-api"

urlpatterns = []
