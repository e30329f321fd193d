from __future__ import annotations

from django.db import connection

from console.navigation import nav_for


def console(request) -> dict:
    """The navigation for console pages on a leader's host (nothing on the platform's own host)."""
    tenant = getattr(request, "tenant", None)
    # DRF views (the API docs page) render templates with a request whose user may be None.
    user = getattr(request, "user", None)
    if tenant is None or connection.schema_name == "public" or user is None or not user.is_authenticated:
        return {}
    return {"console_nav": nav_for(user), "leader": tenant}
