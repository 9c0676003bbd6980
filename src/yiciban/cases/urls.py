from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.my_cases, name="my_cases"),
    path("apply/<slug:kind>/<str:code>/", views.apply, name="apply"),
    path("counter/", views.counter, name="counter"),
    path("queue/", views.queue, name="queue"),
    path("board/", views.board, name="board"),
    path("items/<int:item_id>/", views.item_detail, name="item"),
    path("items/<int:item_id>/<slug:action>/", views.item_action, name="item_action"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/receipt/", views.receipt, name="receipt"),
    path("<str:number>/notice/", views.notice_print, name="notice"),
    path("<str:number>/accept/", views.accept, name="accept"),
    path("<str:number>/supplement-notice/", views.supplement_notice, name="supplement_notice"),
    path("<str:number>/refuse-acceptance/", views.refuse_acceptance, name="refuse_acceptance"),
    path("<str:number>/deliver/", views.deliver, name="deliver"),
    path("<str:number>/materials/<str:kind>/", views.material_file, name="material"),
]
