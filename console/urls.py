"""The console's pages named in the `console` namespace: the dashboard at "/", members, settings, topics,
listening, waitlist, surveys, events, districts. The inbox, broadcasts and team pages keep the names they
always had (community/urls_tenant.py includes them)."""

from django.urls import include, path

app_name = "console"

urlpatterns = [
    path("", include("console.dashboard.urls")),
    path("members/", include("console.members.urls")),
    path("settings/", include("console.settings.urls")),
    path("topics/", include("console.topics.urls")),
    path("listening/", include("console.listening.urls")),
    path("waitlist/", include("console.waitlist.urls")),
    path("surveys/", include("console.surveys.urls")),
    path("events/", include("console.events.urls")),
    path("districts/", include("console.districts.urls")),
]
