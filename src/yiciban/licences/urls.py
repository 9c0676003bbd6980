from django.urls import path

from . import views

app_name = "licences"
urlpatterns = [
    path("verify/<str:number>", views.verify, name="verify"),
    path("enterprise/<str:uscc>", views.permit_list, name="permits"),
    path("<str:number>/pdf", views.licence_pdf, name="pdf"),
    path("<str:number>/qr.png", views.licence_qr, name="qr"),
    path("<str:number>/revoke", views.licence_revoke, name="revoke"),
]
