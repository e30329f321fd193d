"""The broadcasts pages, named without a namespace: console.navigation shows "Broadcasts" once `broadcasts`
resolves."""

from django.urls import path

from console.broadcasts import views

urlpatterns = [
    path("broadcasts/", views.broadcasts, name="broadcasts"),
    path("broadcasts/new/", views.broadcast_new, name="broadcasts_new"),
    path("broadcasts/new/segments.json", views.broadcast_segments, name="broadcasts_segments"),
    path("broadcasts/new/count.json", views.broadcast_count, name="broadcasts_count"),
    path("broadcasts/<int:broadcast_id>/", views.broadcast_detail, name="broadcast"),
    path(
        "broadcasts/<int:broadcast_id>/progress.json",
        views.broadcast_progress_json,
        name="broadcast_progress",
    ),
    path("broadcasts/<int:broadcast_id>/cancel/", views.broadcast_cancel, name="broadcast_cancel"),
    path("broadcasts/<int:broadcast_id>/approve/", views.broadcast_approve, name="broadcast_approve"),
    path("broadcasts/<int:broadcast_id>/reject/", views.broadcast_reject, name="broadcast_reject"),
]
