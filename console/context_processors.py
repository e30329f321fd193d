from __future__ import annotations

from django.db import connection


def console(request) -> dict:
    """The navigation for console pages on a leader's host (nothing on the platform's own host)."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)  # None on API pages: DRF's UNAUTHENTICATED_USER
    if tenant is None or connection.schema_name == "public" or user is None or not user.is_authenticated:
        return {}
    from console.navigation import nav_for

    return {"console_nav": nav_for(request.user), "leader": tenant}
