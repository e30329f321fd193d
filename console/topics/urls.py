"""The topics pages, under /topics/ in the `console` namespace."""

from django.urls import path

from console.topics import views

urlpatterns = [
    path("", views.topics, name="topics"),
    path("new/", views.topic_new, name="topic_new"),
    path("threshold/", views.topics_threshold, name="topics_threshold"),
    path("<int:topic_id>/", views.topic_edit, name="topic_edit"),
    path("<int:topic_id>/delete/", views.topic_delete, name="topic_delete"),
    path("<int:topic_id>/move/", views.topic_move, name="topic_move"),
]
