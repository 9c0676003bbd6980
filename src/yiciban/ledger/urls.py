from django.urls import path, re_path

from . import views

app_name = "ledger"
urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    # <L> and the index path are checked in the view, which answers problem details.
    re_path(r"^tile/(?P<level>[^/]+)/(?P<rest>.+)$", views.tile, name="tile"),
]
