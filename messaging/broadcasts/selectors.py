"""Reads for broadcasts, in the current leader's schema. Audiences are the members layer's
(members.audience)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from messaging.models import Broadcast


def broadcast_list() -> QuerySet:
    return Broadcast.objects.all()


def broadcast_progress(broadcast) -> dict[str, Any]:
    """The live counts a progress page or the API shows, from the stored counters (no COUNT(*))."""
    broadcast.refresh_from_db()
    return {"id": broadcast.pk, "status": broadcast.status, **broadcast.counters()}
