app_name = "records-api"

urlpatterns = []
