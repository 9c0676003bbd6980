from django.urls import path

from . import views

app_name = "archive"
urlpatterns = [
    path("mine/", views.my_archive, name="mine"),
    path("late/", views.late_board, name="late"),
]
