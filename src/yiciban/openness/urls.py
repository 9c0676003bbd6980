app_name = "openness"
urlpatterns = []
