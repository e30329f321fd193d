"""The console's error pages: what a teammate sees instead of Django's bare ones."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 on a leader's host (a teammate whose role does not include the page): inside the console's
    layout, with the way back. Logged as one line, without a traceback (common.logs.ForbiddenLogFilter):
    refusing a page is the decorators doing their job, not an error."""
    return render(request, "console/403.html", {"section": None}, status=403)
