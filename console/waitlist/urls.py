"""The waitlist page, under /waitlist/ in the `console` namespace (owners)."""

from django.urls import path

from console.waitlist import views

urlpatterns = [
    path("", views.waitlist, name="waitlist"),
    path("open/", views.waitlist_open, name="waitlist_open"),
]
