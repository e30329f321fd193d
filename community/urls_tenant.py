"""URLs on a leader's host (<slug>.<PLATFORM_DOMAIN>): the console, the signup page, the API."""

from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from community import views
from console.errors import forbidden

# A teammate refused a page sees it in the console's layout (the API answers its own 403s, in JSON).
handler403 = forbidden

urlpatterns = [
    path("healthz", views.healthz, name="tenant_healthz"),
    path("api/", include("api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("signup.urls")),
    path("", include("console.team.urls")),
    path("inbox/", include("console.inbox.urls")),
    path("routing/", include("console.routing.urls")),
    # The owners' API token page: the api app's (its table and workflow), in the console's layout.
    path("settings/api-tokens/", include("api.pages_urls")),
    # The console at the root: "/" is the dashboard for the team, "text to join" for anyone else.
    path("", include("console.urls")),
    path("", include("console.broadcasts.urls")),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]
