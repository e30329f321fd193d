"""Under /settings/, in the `console` namespace (console/urls.py)."""

from django.urls import path

from console.settings import views

urlpatterns = [
    path("", views.settings_edit, name="settings"),
    path("keywords/", views.keyword_add, name="keyword_add"),
    path("keywords/<int:keyword_id>/delete/", views.keyword_delete, name="keyword_delete"),
]
