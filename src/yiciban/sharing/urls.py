from django.urls import path

from . import views

app_name = "sharing"
urlpatterns = [
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/revoke", views.grant_revoke, name="grant_revoke"),
    path("reads/", views.read_log, name="reads"),
    path("mine/", views.my_reads, name="mine"),
]
