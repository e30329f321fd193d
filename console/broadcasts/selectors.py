"""Reads for the broadcasts pages and the dashboard's broadcasts panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from messaging.models import Broadcast
from surveys.models import Question, Survey
from surveys.texts import text_for

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


def broadcast_status_label(status: str, *, starting: bool = False) -> str:
    """The status as the team reads it: a draft sent on its way (`starting`) is "Starting", never "Draft"."""
    if starting and status == "draft":
        return str(_("Starting"))
    return str(BROADCAST_STATUS_LABELS.get(status, status))


def broadcast_label(broadcast) -> str:
    return broadcast_status_label(broadcast.status, starting=broadcast.is_starting)


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
                recipients=broadcast.recipients_expected,
                delivered=broadcast.delivered_count,
                failed=broadcast.failed_count + broadcast.undelivered_count,
                delivery_rate=round(100 * broadcast.delivered_count / sent, 1) if sent else None,
                status_label=broadcast_label(broadcast),
            )
        )
    return summaries


# The surveys whose questions the composer offers as "answered … to question …" (the newest first).
ANSWER_FILTER_SURVEYS = 20


def answer_filter_choices(*, default_language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The composer's "Answered" checkboxes: one group per single- or multiple-choice question of the newest
    surveys ("Issues · 1. Which issues matter most?"), one box per choice ("2 Housing"), valued
    "<question id>:<choice position>". Texts in the leader's default language."""
    questions = (
        Question.objects.filter(
            kind__in=(Question.Kind.SINGLE, Question.Kind.MULTIPLE),
            survey__in=Survey.objects.order_by("-created_at", "-id").values("pk")[:ANSWER_FILTER_SURVEYS],
        )
        .select_related("survey")
        .prefetch_related("choices")
        .order_by("-survey__created_at", "-survey_id", "position")
    )
    groups = []
    for question in questions:
        text = text_for(question.text, default_language, default_language)
        boxes = [
            (
                f"{question.pk}:{choice.position}",
                f"{choice.position} {text_for(choice.label, default_language, default_language)}",
            )
            for choice in question.choices.all()
        ]
        if boxes:
            groups.append((f"{question.survey.name} · {question.position}. {text}", boxes))
    return groups
