from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("departments/", views.departments, name="departments"),
    path("departments/<int:department_id>/", views.department_detail, name="department_detail"),
    path("life-events/", views.life_events, name="life_events"),
    path("enterprise-themes/", views.enterprise_themes, name="enterprise_themes"),
    path("themes/<slug:code>/", views.theme_detail, name="theme_detail"),
    path("service-points/", views.service_points, name="service_points"),
    path("service-points/<str:code>/", views.service_point_detail, name="service_point_detail"),
    path("items/<str:code>/", views.item_detail, name="item_detail"),
    path("bundles/", views.bundles, name="bundles"),
    path("bundles/<slug:code>/", views.bundle_detail, name="bundle_detail"),
    path("bundles/<slug:code>/guide/", views.bundle_wizard, name="bundle_wizard"),
    path("bundles/<slug:code>/notice/", views.bundle_notice, name="bundle_notice"),
    path("bundles/<slug:code>/form/", views.bundle_form, name="bundle_form"),
]
