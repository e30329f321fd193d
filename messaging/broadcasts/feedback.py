"""What comes back from a broadcast: Twilio's status callbacks, replies, STOPs, and completion.
Call inside the leader's schema.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from common import events
from members.consent import member_mark_unreachable, member_opt_out
from members.models import Member
from messaging.models import Broadcast, Delivery, DeliveryStatus
from messaging.twilio.errors import INVALID_RECIPIENT_CODES, OPT_OUT_CODES

# Twilio reports on a text for a few days at most: a callback that does not name its broadcast looks for
# its sid among the broadcasts queued within this.
CALLBACK_WINDOW = datetime.timedelta(days=7)
REPLY_WINDOW = datetime.timedelta(hours=24)  # a text within this after a broadcast counts as a reply to it


def reply_broadcasts_since(now: datetime.datetime) -> datetime.datetime:
    """How far back a broadcast can have been queued and still hold a delivery sent within REPLY_WINDOW:
    scheduled sending and quiet hours delay a delivery, never by more than two days."""
    return now - REPLY_WINDOW - datetime.timedelta(days=2)


def broadcast_complete_if_done(*, broadcast_id: int) -> bool:
    """Mark a sending broadcast completed once no delivery waits or is in a worker's hands."""
    pending = Delivery.objects.filter(
        broadcast_id=broadcast_id, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
    ).exists()
    if pending:
        return False
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if not (broadcast and broadcast.mark_completed()):
        return False
    events.emit(events.BROADCAST_COMPLETED, broadcast=broadcast)
    return True


_CALLBACK_STATUS = {
    "accepted": DeliveryStatus.WIRED,
    "queued": DeliveryStatus.WIRED,
    "scheduled": DeliveryStatus.WIRED,
    "sending": DeliveryStatus.WIRED,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,  # it was accepted, then failed at the carrier
    "canceled": DeliveryStatus.UNDELIVERED,
}


def delivery_status_apply(
    *, sid: str, status: str, error_code: int | str | None = None, broadcast_id: int | None = None
) -> bool:
    """Apply a Twilio status callback to a broadcast delivery; True when a delivery has this SID.

    Call inside the leader's schema. Statuses only move forward (a late "sent" never undoes "delivered"),
    and a callback that arrives twice counts once: the counters move only when the UPDATE changed the row.
    21610 (the recipient unsubscribed at the carrier) opts the member out.
    """
    if not sid:
        return False
    target = _CALLBACK_STATUS.get((status or "").lower())
    code = int(error_code) if str(error_code or "").isdecimal() else None
    deliveries = Delivery.objects.filter(sid=sid)
    if broadcast_id is not None:
        deliveries = deliveries.filter(broadcast_id=broadcast_id)  # one partition, not all of them
    else:
        # A text sent before callbacks named their broadcast: among the broadcasts recent enough for Twilio
        # to still report on, never a probe of every partition ever made.
        recent = Broadcast.objects.filter(queued_at__gte=timezone.now() - CALLBACK_WINDOW)
        deliveries = deliveries.filter(broadcast_id__in=list(recent.values_list("pk", flat=True)))
    delivery = deliveries.only("broadcast_id", "member_id", "status").first()
    if delivery is None:
        return False
    if target is None:
        return True
    with transaction.atomic():
        changed = Delivery.objects.filter(
            broadcast_id=delivery.broadcast_id,
            member_id=delivery.member_id,
            status__lt=target,
            status__gte=DeliveryStatus.WIRED,
        )
        changed = changed.exclude(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.UNDELIVERED])
        if not changed.update(status=target, error_code=code):
            return True
        counters: dict[str, Any] = {}
        if target == DeliveryStatus.DELIVERED:
            counters["delivered_count"] = F("delivered_count") + 1
        elif target == DeliveryStatus.UNDELIVERED:
            counters["undelivered_count"] = F("undelivered_count") + 1
        if code in OPT_OUT_CODES:
            member = Member.objects.filter(pk=delivery.member_id).first()
            if member is not None and member_opt_out(
                member=member,
                source="carrier",
                detail=f"Twilio error {code} (broadcast {delivery.broadcast_id})",
            ):
                counters["opt_out_count"] = F("opt_out_count") + 1
        elif code in INVALID_RECIPIENT_CODES:
            member_mark_unreachable(member_id=delivery.member_id)
        if counters:
            Broadcast.objects.filter(pk=delivery.broadcast_id).update(**counters)
    return True


# Counts members' texts as replies: each text (member, when) to the latest of `ids` (recent broadcasts) that
# its member got within REPLY_WINDOW before it: `replied_at` on that delivery and one more on its broadcast's
# reply_count, once per member and broadcast (a member's first text counts). Many texts at once (events' reader
# after a burst of answers) move each broadcast's counter once. The ids are written into the statement as
# numbers, so PostgreSQL plans (and locks) only those broadcasts' partitions, whatever the plan cache does with
# parameters.
_REPLIES_SQL = """
WITH texted AS (
    SELECT member_id, min(at) AS at FROM unnest(%(members)s::bigint[], %(ats)s::timestamptz[]) AS t(member_id, at)
    GROUP BY member_id
),
latest AS (
    SELECT DISTINCT ON (texted.member_id) delivery.broadcast_id, delivery.member_id, texted.at
    FROM texted JOIN messaging_delivery AS delivery ON delivery.member_id = texted.member_id
    WHERE delivery.broadcast_id IN ({ids}) AND delivery.sent_at >= texted.at - %(window)s
        AND delivery.sent_at <= texted.at
    ORDER BY texted.member_id, delivery.sent_at DESC
),
replied AS (
    UPDATE messaging_delivery AS delivery SET replied_at = latest.at FROM latest
    WHERE delivery.broadcast_id IN ({ids}) AND delivery.broadcast_id = latest.broadcast_id
        AND delivery.member_id = latest.member_id AND delivery.replied_at IS NULL
    RETURNING delivery.broadcast_id
),
counted AS (
    UPDATE messaging_broadcast AS broadcast SET reply_count = broadcast.reply_count + replies.n
    FROM (SELECT broadcast_id, count(*) AS n FROM replied GROUP BY broadcast_id) AS replies
    WHERE broadcast.id = replies.broadcast_id
    RETURNING replies.n
)
SELECT COALESCE(sum(n), 0) FROM counted
"""


def broadcast_replies_record(
    *, texts: list[tuple[int, datetime.datetime]], broadcast_ids: list[int] | None = None
) -> int:
    """Members' texts (member id, when received) are replies to the latest broadcast each member got within
    REPLY_WINDOW before the text, if any; the number that counted (a second text to the same broadcast does
    not). `broadcast_ids`: the broadcasts recent enough to hold those deliveries, when the caller read them
    already (RECEIVE does); else read here. Call inside the leader's schema."""
    if not texts:
        return 0
    if broadcast_ids is None:
        oldest = reply_broadcasts_since(min(at for _member, at in texts))
        broadcast_ids = list(Broadcast.objects.filter(queued_at__gte=oldest).values_list("pk", flat=True))
    ids = ", ".join(str(int(broadcast_id)) for broadcast_id in broadcast_ids)
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            _REPLIES_SQL.replace("{ids}", ids),
            {
                "members": [member_id for member_id, _at in texts],
                "ats": [at for _member_id, at in texts],
                "window": REPLY_WINDOW,
            },
        )
        return int(cursor.fetchone()[0])


def broadcast_reply_record(*, member_id: int, broadcast_ids: list[int], now: datetime.datetime) -> bool:
    """A member's text is a reply to the latest of these broadcasts they got within REPLY_WINDOW, if any;
    True when it counted (a second text to the same broadcast does not). Call inside the leader's schema."""
    if not broadcast_ids:
        return False
    return broadcast_replies_record(texts=[(member_id, now)], broadcast_ids=broadcast_ids) == 1


def _recent_delivery(member_id: int, now: datetime.datetime):
    recent = Broadcast.objects.filter(queued_at__gte=reply_broadcasts_since(now)).values_list("pk", flat=True)
    return (
        Delivery.objects.filter(
            broadcast_id__in=list(recent),
            member_id=member_id,
            sent_at__gte=now - REPLY_WINDOW,
            sent_at__lte=now,
        )
        .order_by("-sent_at")
        .only("broadcast_id", "member_id", "replied_at")
        .first()
    )


def broadcast_opt_out_count(*, member_id: int, now: datetime.datetime | None = None) -> int | None:
    """Attribute a STOP from this member to the last broadcast they got within a day; its id or None."""
    now = now or timezone.now()
    delivery = _recent_delivery(member_id, now)
    if delivery is None:
        return None
    Broadcast.objects.filter(pk=delivery.broadcast_id).update(opt_out_count=F("opt_out_count") + 1)
    return delivery.broadcast_id
