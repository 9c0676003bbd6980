from django.urls import path

from . import views

app_name = "housing"
urlpatterns = [
    path("", views.project_list, name="projects"),
    path("new/", views.project_new, name="project_new"),
    path("mine/", views.my_homes, name="mine"),
    path("projects/<slug:code>/", views.project_detail, name="project"),
    path("projects/<slug:code>/<slug:action>", views.project_action, name="action"),
]
