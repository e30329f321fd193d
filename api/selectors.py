"""Reads of the API's own tables for pages (the owners' token page), and the listings' reads of triage."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from api.filters import TriageQuery
from api.models import ApiToken
from messaging.models import Conversation, Message
from topics.models import Topic
from triage.models import Count, Label


def api_tokens_active() -> QuerySet[ApiToken]:
    """Tokens not revoked, newest first, with the teammate each acts as and who created it."""
    return ApiToken.objects.filter(revoked_at__isnull=True).select_related("user", "created_by")


def messages_with_triage() -> QuerySet[Message]:
    """Texts with what the API shows of them in one query: the teammate who sent a reply, and a fan's text's
    label and topic (a LEFT JOIN: a text not triaged yet has no label)."""
    return Message.objects.select_related("sent_by", "label__topic")


def messages_filter(query: TriageQuery) -> QuerySet[Message]:
    """Texts matching every criterion of `query`: its triage (topic, language, place, through the labels'
    indexes), direction and time of arrival."""
    qs = messages_with_triage()
    if query.direction:
        qs = qs.filter(direction=query.direction)
    if query.labelled:
        qs = qs.filter(query.label_q("label__"))
    for name, lookup in (("received_after", "gte"), ("received_before", "lt")):
        moment = getattr(query, name)
        if moment is not None:
            qs = qs.filter(**{f"created_at__{lookup}": moment})
            if (
                query.labelled
            ):  # the same bound on the label's copy, which its (topic|region, time) index holds
                qs = qs.filter(**{f"label__received_at__{lookup}": moment})
    return qs


def conversations_triage_filter(qs: QuerySet[Conversation], query: TriageQuery) -> QuerySet[Conversation]:
    """Conversations one of whose labelled texts matches `query`'s topic, language and place (a semi-join
    on the labels, so a conversation with many matching texts is listed once), and overdue or not: a reply
    due (Conversation.reply_due_at) before now."""
    if query.labelled:
        labels = Label.objects.filter(query.label_q(), conversation_id=OuterRef("pk"))
        qs = qs.filter(Exists(labels))
    if query.overdue is True:
        qs = qs.filter(reply_due_at__lt=timezone.now())
    elif query.overdue is False:
        qs = qs.filter(Q(reply_due_at__isnull=True) | Q(reply_due_at__gte=timezone.now()))
    return qs


def topics_texts_since(topic_ids: list[int], *, days: int = 7) -> dict[int, int]:
    """Texts sorted into each topic over the last `days` days, summed from the matrix's hourly counters
    (triage.Count), never counted over the labels: one query for all the topics."""
    since = timezone.now() - datetime.timedelta(days=days)
    rows = (
        Count.objects.filter(topic_id__in=topic_ids, hour__gte=since)
        .values("topic_id")
        .annotate(texts=Sum("texts"))
    )
    return {row["topic_id"]: row["texts"] or 0 for row in rows}


def topics_listed() -> QuerySet[Topic]:
    return Topic.objects.order_by("position", "id")
