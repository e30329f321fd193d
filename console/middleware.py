"""One clock for the console: every time a leader's pages show is in the leader's time zone."""

from __future__ import annotations

from django.db import connection
from django.utils import timezone


class LeaderTimeZoneMiddleware:
    """Activates the leader's time zone (`Leader.zone`) for the requests on their host, so every `|date`
    and form value is in it and the page names it once (templates/console/base.html). The API keeps UTC:
    its clients read the offsets, and its answers must not change with a setting."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or connection.schema_name == "public" or request.path.startswith("/api/"):
            return self.get_response(request)
        timezone.activate(tenant.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
