"""Reads for broadcasts, in the current leader's schema. Audiences are the members layer's
(members.audience)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from messaging.models import Broadcast, Delivery


def broadcast_list() -> QuerySet:
    return Broadcast.objects.all()


def broadcast_progress(broadcast) -> dict[str, Any]:
    """The live counts a progress page or the API shows, from the stored counters (no COUNT(*))."""
    broadcast.refresh_from_db()
    return {"id": broadcast.pk, "status": broadcast.status, **broadcast.counters()}


# How many of the latest broadcasts a member's conversation looks through for the ones they got.
RECEIVED_LIMIT = 50


@dataclass(frozen=True)
class BroadcastReceived:
    """A broadcast as one member got it: the text in their words and language, when it was handed over."""

    broadcast_id: int
    body: str
    sent_at: datetime.datetime


def member_broadcasts_received(
    member, *, since: datetime.datetime | None = None, limit: int = RECEIVED_LIMIT
) -> list[BroadcastReceived]:
    """The broadcasts this member was sent, oldest first, among the latest `limit` that were queued (and
    queued since a little before `since`, when given): the member's conversation shows them between their
    texts, so a reply reads under what it answers. One probe of each broadcast's partition key."""
    broadcasts = Broadcast.objects.filter(queued_at__isnull=False)
    if since is not None:
        broadcasts = broadcasts.filter(queued_at__gte=since - datetime.timedelta(days=2))
    by_id = {broadcast.pk: broadcast for broadcast in broadcasts.order_by("-queued_at")[:limit]}
    if not by_id:
        return []
    sent = Delivery.objects.filter(
        broadcast_id__in=list(by_id), member_id=member.pk, sent_at__isnull=False
    ).values_list("broadcast_id", "sent_at")
    received = [
        BroadcastReceived(
            broadcast_id=broadcast_id,
            body=by_id[broadcast_id].text_for(
                first_name=member.first_name,
                last_name=member.last_name,
                place=member.place_name or member.city,
                language=member.language,
            ),
            sent_at=sent_at,
        )
        for broadcast_id, sent_at in sent
        if since is None or sent_at >= since
    ]
    return sorted(received, key=lambda item: item.sent_at)


@dataclass(frozen=True)
class BroadcastInConversation:
    """A broadcast the member got, placed in their conversation among the texts (a template tells it by
    `is_broadcast`; it has a text's `direction`, `body` and `created_at`)."""

    broadcast_id: int
    body: str
    created_at: datetime.datetime
    direction: str = "out"
    is_broadcast: bool = True


def conversation_with_broadcasts(texts: list, member, *, since: datetime.datetime | None = None) -> list:
    """`texts` (a member's conversation, oldest first) with the broadcasts `member` got, in order: a reply
    to a broadcast reads under the broadcast it answers. `since`: the conversation shows only texts from
    then on (its newest part), so older broadcasts are left out too."""
    if member is None:
        return list(texts)
    received = [
        BroadcastInConversation(broadcast_id=item.broadcast_id, body=item.body, created_at=item.sent_at)
        for item in member_broadcasts_received(member, since=since)
    ]
    return sorted([*texts, *received], key=lambda item: item.created_at)
