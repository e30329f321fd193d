"""Reads of the API's own tables for pages (the owners' token page)."""

from __future__ import annotations

from django.db.models import QuerySet

from api.models import ApiToken


def api_tokens_active() -> QuerySet[ApiToken]:
    """Tokens not revoked, newest first, with the teammate each acts as and who created it."""
    return ApiToken.objects.filter(revoked_at__isnull=True).select_related("user", "created_by")
