"""The inbox's URLs, under /inbox/ on a leader's host. `inbox` is the name the navigation looks for."""

from django.urls import path

from console.inbox import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("segments/", views.inbox_segments, name="inbox_segments"),
    path("canned/", views.canned_replies, name="inbox_canned"),
    path("canned/<int:canned_id>/delete/", views.canned_reply_delete, name="inbox_canned_delete"),
    path("<int:conversation_id>/", views.inbox_thread, name="inbox_thread"),
    path("<int:conversation_id>/reply/", views.inbox_reply, name="inbox_reply"),
    path("<int:conversation_id>/assign/", views.inbox_assign, name="inbox_assign"),
    path("<int:conversation_id>/status/", views.inbox_status, name="inbox_status"),
    path(
        "<int:conversation_id>/texts/<int:message_id>/topic/",
        views.inbox_label_move,
        name="inbox_label_move",
    ),
]
