"""Reads for the broadcasts pages and the dashboard's broadcasts panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from messaging.models import Broadcast

BROADCAST_STATUS_LABELS = {
    "draft": _("Draft"),
    "awaiting_approval": _("Awaiting approval"),
    "scheduled": _("Scheduled"),
    "queueing": _("Queueing"),
    "sending": _("Sending"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "failed": _("Failed"),
}


def broadcast_status_label(status: str) -> str:
    return str(BROADCAST_STATUS_LABELS.get(status, status))


@dataclass
class BroadcastSummary:
    broadcast: Any  # messaging.models.Broadcast
    recipients: int
    delivered: int
    failed: int
    delivery_rate: float | None  # delivered / sent, percent; None before anything was sent
    status_label: str = ""


def recent_broadcasts(*, limit: int = 5) -> list[BroadcastSummary]:
    """The latest `limit` broadcasts with their delivery rates, from the stored counters (no COUNT over
    deliveries): the dashboard's panel."""
    summaries = []
    for broadcast in Broadcast.objects.order_by("-created_at", "-id")[:limit]:
        sent = broadcast.sent_count
        summaries.append(
            BroadcastSummary(
                broadcast=broadcast,
                recipients=broadcast.recipient_count,
                delivered=broadcast.delivered_count,
                failed=broadcast.failed_count + broadcast.undelivered_count,
                delivery_rate=round(100 * broadcast.delivered_count / sent, 1) if sent else None,
                status_label=broadcast_status_label(broadcast.status),
            )
        )
    return summaries
