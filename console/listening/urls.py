"""Listening's pages, under /listening/ in the `console` namespace."""

from django.urls import path

from console.listening import views

urlpatterns = [
    path("", views.listening, name="listening"),
    path("segment/", views.listening_segment, name="listening_segment"),
]
