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


# Counts a member's text as a reply to the latest of `ids` (recent broadcasts) that they got within
# REPLY_WINDOW: `replied_at` on that delivery and one more on its broadcast's reply_count, once per member and
# broadcast. The ids are written into the statement as numbers, so PostgreSQL plans (and locks) only those
# broadcasts' partitions, whatever the plan cache does with parameters.
_REPLY_SQL = """
WITH latest AS (
    SELECT broadcast_id, member_id FROM messaging_delivery
    WHERE broadcast_id IN ({ids}) AND member_id = %(member)s AND sent_at >= %(since)s AND sent_at <= %(now)s
    ORDER BY sent_at DESC
    LIMIT 1
),
replied AS (
    UPDATE messaging_delivery AS delivery SET replied_at = %(now)s FROM latest
    WHERE delivery.broadcast_id IN ({ids}) AND delivery.broadcast_id = latest.broadcast_id
        AND delivery.member_id = latest.member_id AND delivery.replied_at IS NULL
    RETURNING delivery.broadcast_id
)
UPDATE messaging_broadcast SET reply_count = reply_count + 1 WHERE id = (SELECT broadcast_id FROM replied)
"""


def broadcast_reply_record(*, member_id: int, broadcast_ids: list[int], now: datetime.datetime) -> bool:
    """A member's text is a reply to the latest of these broadcasts they got within REPLY_WINDOW, if any;
    True when it counted (a second text to the same broadcast does not). Call inside the leader's schema."""
    ids = ", ".join(str(int(broadcast_id)) for broadcast_id in broadcast_ids)
    if not ids:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _REPLY_SQL.replace("{ids}", ids), {"member": member_id, "since": now - REPLY_WINDOW, "now": now}
        )
        return cursor.rowcount == 1


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
