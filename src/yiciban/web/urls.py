from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("tools/deadline/", views.deadline_tool, name="deadline_tool"),
    path("tools/identifiers/", views.identifier_tool, name="identifier_tool"),
    path("workbench/", views.workbench, name="workbench"),
    path("display/large-type/", views.large_type, name="large_type"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html",
            redirect_authenticated_user=True,
            next_page="web:workbench",
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
