"""Requests per token, counted in the shared cache so that every web process sees the same count."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str:
        # Read at each request (not frozen at import like DRF's THROTTLE_RATES), so operators and tests can
        # change API_THROTTLE_RATE.
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        if request.auth is None:
            return None
        # Token ids are per schema: the schema name keeps leader A's token 1 apart from leader B's.
        return f"api-throttle:{connection.schema_name}:{request.auth.pk}"
