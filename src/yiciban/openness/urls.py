from django.urls import path

from . import views

app_name = "openness"
urlpatterns = [
    path("", views.portal, name="portal"),
    path("search/", views.search_page, name="search"),
    path("r/<str:code>/", views.region_portal, name="region"),
    path("r/<str:code>/board/", views.board, name="board"),
    path("r/<str:code>/subscribe/", views.subscribe, name="subscribe"),
    path("r/<str:code>/<slug:kind>/", views.column_page, name="column"),
    path("a/<int:pk>/", views.article_page, name="article"),
    path("point/<str:code>/", views.point_page, name="point"),
    path("screen/<str:code>/", views.screen, name="screen"),
    path(
        "subscriptions/<int:pk>/confirm/",
        views.subscription_confirm_code,
        name="subscription_confirm_code",
    ),
    path(
        "subscriptions/confirm/<str:token>/",
        views.subscription_confirm_link,
        name="subscription_confirm_link",
    ),
    path("unsubscribe/<int:pk>/<str:signature>/", views.unsubscribe, name="unsubscribe"),
    path("disclosure/", views.disclosure_form, name="disclosure"),
    path("disclosure/status/", views.disclosure_status, name="disclosure_status"),
    path("disclosure/statistics/", views.disclosure_statistics, name="disclosure_statistics"),
    path("suggestions/", views.suggestions, name="suggestions"),
    path("staff/", views.staff_index, name="staff"),
    path("staff/articles/new/", views.staff_article_new, name="staff_article_new"),
    path("staff/articles/<int:pk>/", views.staff_article, name="staff_article"),
    path("staff/disclosure/<str:number>/", views.staff_disclosure, name="staff_disclosure"),
    path("staff/suggestions/<str:number>/", views.staff_suggestion, name="staff_suggestion"),
]
