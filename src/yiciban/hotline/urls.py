from django.urls import path

from . import views

app_name = "hotline"
urlpatterns = [
    path("", views.knowledge_index, name="index"),
    path("knowledge/results/", views.knowledge_results, name="knowledge_results"),
    path("knowledge/<int:entry_id>/", views.knowledge_detail, name="knowledge_detail"),
    path("knowledge/manage/", views.knowledge_manage, name="knowledge_manage"),
    path("knowledge/manage/new/", views.knowledge_edit, name="knowledge_new"),
    path("knowledge/manage/<int:entry_id>/", views.knowledge_edit, name="knowledge_edit"),
    path(
        "knowledge/manage/<int:entry_id>/status/",
        views.knowledge_status,
        name="knowledge_status",
    ),
    path("synonyms/", views.synonyms, name="synonyms"),
    path("synonyms/<int:group_id>/", views.synonyms, name="synonym_edit"),
    path("console/", views.console, name="console"),
    path("tickets/<str:number>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<str:number>/<str:action>/", views.ticket_action, name="ticket_action"),
    path("queue/", views.department_queue, name="queue"),
    path("board/", views.supervisor_board, name="board"),
    path("my/", views.my_tickets, name="my_tickets"),
    path("my/new/", views.my_ticket_new, name="my_ticket_new"),
]
