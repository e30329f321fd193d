"""URLs on a leader's host (<slug>.<PLATFORM_DOMAIN>): the console, the signup page, the API."""

from django.urls import include, path

from community import views

urlpatterns = [
    path("", views.leader_home, name="leader_home"),
    path("healthz", views.healthz, name="tenant_healthz"),
    path("api/", include("api.urls")),
]
