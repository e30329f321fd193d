"""The events pages, under /events/ in the `console` namespace."""

from django.urls import path

from console.events import views

urlpatterns = [
    path("", views.events, name="events"),
    path("new/", views.event_new, name="event_new"),
    path("<int:event_id>/", views.event_page, name="event"),
    path("<int:event_id>/edit/", views.event_edit, name="event_edit"),
    path("<int:event_id>/cancel/", views.event_cancel, name="event_cancel"),
    path("<int:event_id>/alert/", views.event_alert, name="event_alert"),
    path("<int:event_id>/alert/count.json", views.event_alert_count, name="event_alert_count"),
    path("<int:event_id>/check-in/", views.event_check_in, name="event_check_in"),
    path("<int:event_id>/attendees.csv", views.event_export, name="event_export"),
]
