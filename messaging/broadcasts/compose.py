"""Composing a broadcast: preview its audience and cost, create the draft, send or schedule it, hold it for a
second teammate's approval, cancel it. Call inside the leader's schema.

Sending hands over to the broadcast lane's queue tasks (``messaging.broadcasts.tasks``), which queue the
deliveries (``queueing``) and send them (``dispatch``). docs/broadcasts.md has the design.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule

from members.audience import AudienceFilter, audience_count
from messaging import ratelimit
from messaging.broadcasts import notices, tasks
from messaging.models import Broadcast, BroadcastError, Delivery, DeliveryStatus
from messaging.segments import gsm7_suggestions, segment_info_for_template


def broadcast_preview(*, leader, filters: dict | None, body: str = "") -> dict[str, Any]:
    """What sending `body` to `filters` would cost, before anything is stored: the audience count, the
    segments per message (personalisation counted at its longest), the total and a time estimate at the
    leader's rate, and GSM-7 replacements that would make a UCS-2 body cheaper."""
    audience = AudienceFilter.from_dict(filters or {})
    count = audience_count(audience, on=timezone.now().astimezone(leader.zone).date())
    info = segment_info_for_template(body) if body else None
    segments = info.segments if info else 0
    rate = leader.sending_rate
    return {
        "count": count,
        "filters": audience.to_dict(),
        "encoding": info.encoding if info else None,
        "segments_per_message": segments,
        "total_segments": segments * count,
        "estimated_seconds": ratelimit.estimated_seconds(segments=segments * count, rate=rate),
        "segments_per_second": rate,
        "gsm7_suggestions": gsm7_suggestions(body) if body else {},
        "body_length": len(body),
    }


def broadcast_create(
    *,
    leader,
    body: str,
    filters: dict | None = None,
    send_at: datetime.datetime | None = None,
    ignore_quiet_hours: bool = False,
    created_by=None,
) -> Broadcast:
    """A draft broadcast. A naive `send_at` is read in the leader's time zone; it must be in the future."""
    if send_at is not None:
        if timezone.is_naive(send_at):
            send_at = send_at.replace(tzinfo=leader.zone)
        if send_at <= timezone.now():
            raise BroadcastError("The scheduled time is in the past.")
    return Broadcast.create(
        body=body,
        filters=filters,
        send_at=send_at,
        ignore_quiet_hours=ignore_quiet_hours,
        created_by=created_by,
    )


def broadcast_send(*, leader, broadcast: Broadcast) -> Broadcast:
    """Send a draft now, or at its `send_at`: either way the queueing runs in the broadcast lane."""
    if not leader.is_active:
        raise BroadcastError("This leader is suspended: nothing can be sent.")
    if broadcast.status != Broadcast.Status.DRAFT:
        raise BroadcastError(f"A {broadcast.status} broadcast cannot be sent again.")
    schema_name = connection.schema_name
    now = timezone.now()
    if broadcast.send_at is not None and broadcast.send_at > now:
        broadcast.schedule(broadcast.send_at)
        transaction.on_commit(lambda: tasks.schedule_start(broadcast.pk, schema_name, broadcast.send_at))
    else:
        transaction.on_commit(lambda: tasks.enqueue_start(broadcast.pk, schema_name))
    broadcast.mark_submitted(now)
    return broadcast


def broadcast_cancel(*, broadcast: Broadcast) -> int:
    """Stop a broadcast: what has not gone out stays unsent. Returns how many deliveries were cancelled.

    Deliveries already in a worker's hands (claimed, calling Twilio) finish; every other one is cancelled in
    one UPDATE, and the workers stop at their next batch when they see the broadcast's status.
    """
    with transaction.atomic():
        if not broadcast.cancel():
            raise BroadcastError(f"A {broadcast.status} broadcast cannot be cancelled.")
        cancelled = Delivery.objects.filter(broadcast_id=broadcast.pk, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.CANCELLED
        )
        if cancelled:
            Broadcast.objects.filter(pk=broadcast.pk).update(cancelled_count=F("cancelled_count") + cancelled)
        Schedule.objects.filter(name=f"broadcast-start-{connection.schema_name}-{broadcast.pk}").delete()
    return cancelled


# --------------------------------------------------------------------------------------------------------
# The two-person rule: broadcasts to more members than the leader's approval_threshold wait for a second
# teammate before anything is queued or scheduled.


def broadcast_needs_approval(*, leader, recipients: int) -> bool:
    return recipients > leader.approval_threshold


def broadcast_submit(*, leader, broadcast: Broadcast) -> Broadcast:
    """Send or schedule a draft, or hold it for approval when its audience is above the threshold.

    The audience is counted now; the count the author confirmed may be a little older.
    """
    on = timezone.now().astimezone(leader.zone).date()
    recipients = audience_count(broadcast.audience(), on=on)
    broadcast.audience_record(recipients)
    if broadcast_needs_approval(leader=leader, recipients=recipients):
        broadcast.request_approval()
        transaction.on_commit(lambda: notices.approvers_notify(leader=leader, broadcast=broadcast))
        return broadcast
    return broadcast_send(leader=leader, broadcast=broadcast)


def broadcast_reject(*, leader, broadcast: Broadcast, user, reason: str) -> Broadcast:
    """Another teammate refuses a broadcast waiting for approval, saying why; its author is mailed the
    reason. Nothing was queued, nothing will be."""
    broadcast.reject(user, reason)
    transaction.on_commit(lambda: notices.author_notify_rejected(leader=leader, broadcast=broadcast))
    return broadcast


def broadcast_approve(*, leader, broadcast: Broadcast, user) -> Broadcast:
    """A second teammate approves: the broadcast goes out now, or at its time if that is still ahead."""
    with transaction.atomic():
        broadcast.approve(user)
        return broadcast_send(leader=leader, broadcast=broadcast)
