"""Dispatching a broadcast: workers send what is due, several at once.

* Workers claim batches with one conditional ``UPDATE … WHERE status = queued … FOR UPDATE SKIP LOCKED``,
  and only then call Twilio (``send_many``, many requests in flight); the SIDs are recorded with one
  ``UPDATE … FROM (VALUES …)`` per batch, as soon as the batch returns. A task that runs twice finds nothing
  left to claim.
* Pace: each grant comes from the leader's shared limiter (``messaging.ratelimit``), counted in
  segments.
* A worker killed mid-batch leaves claims with no SID; ``deliveries_sweep`` puts them back once stale.

Call inside the leader's schema; the queue tasks (``messaging.broadcasts.tasks``) do.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import random
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from leaders.models import Leader
from members.consent import member_mark_unreachable, member_opt_out
from members.models import Member
from messaging import ratelimit
from messaging.broadcasts.feedback import broadcast_complete_if_done
from messaging.models import Broadcast, Delivery, DeliveryStatus
from messaging.segments import segment_info
from messaging.twilio.transport import OutboundSms, get_transport

logger = logging.getLogger(__name__)

# A claim older than this with no SID belongs to a worker that died: the sweeper puts it back in the queue.
# Far above the longest a live worker holds a claim (a batch's requests time out after 15 s each).
STALE_AFTER = datetime.timedelta(minutes=5)
# Deliveries per claim at most; a number's rate usually allows far fewer (one second's worth).
BATCH_SIZE = 1000
CONCURRENCY = 200  # requests in flight per worker
MAX_ATTEMPTS = 5  # 429, 5xx and connection errors: retried with backoff, then failed
LINGER = 5.0  # seconds a worker waits in-process for retries that are nearly due, rather than rescheduling


def _status_callback_url(broadcast_id: int) -> str:
    # The broadcast's id tells the callback which partition of deliveries holds the sid.
    return f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/?broadcast={int(broadcast_id)}"


@dataclasses.dataclass
class DispatchResult:
    outcome: str  # "done" (nothing left), "later" (waits for quiet hours or retries), "budget",
    #               "cancelled", "suspended", "over"
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    next_due: datetime.datetime | None = None


@dataclasses.dataclass
class _Claimed:
    id: int  # the member id: a delivery is (broadcast, member)
    member_id: int
    phone: str | None
    body: str
    segments: int
    reachable: bool
    attempts: int


def deliveries_sweep(
    *, broadcast_id: int, stale_after: datetime.timedelta = STALE_AFTER, now: datetime.datetime | None = None
) -> int:
    """Put back in the queue the claims of workers that died: claimed long ago, no SID recorded.

    A claim with a SID was sent; one without may or may not have reached Twilio (the worker may have died
    between Twilio's answer and our UPDATE): it is sent again (at least once, never skipped).
    """
    now = now or timezone.now()
    return Delivery.objects.filter(
        broadcast_id=broadcast_id,
        status=DeliveryStatus.SENDING,
        sid__isnull=True,
        claimed_at__lt=now - stale_after,
    ).update(status=DeliveryStatus.QUEUED, claim_token=None, due_at=now)


_CLAIM_SQL = """
    WITH picked AS (
        SELECT member_id FROM messaging_delivery
        WHERE broadcast_id = %(broadcast)s AND member_id > %(after)s AND status = 0 AND due_at <= %(now)s
        ORDER BY member_id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE messaging_delivery d
        SET status = 1, claimed_at = clock_timestamp(), claim_token = %(token)s, attempts = d.attempts + 1
        -- = ANY(ARRAY(…)): an index lookup per picked row, whatever the planner thinks of the broadcast's size
        WHERE d.broadcast_id = %(broadcast)s AND d.member_id = ANY(ARRAY(SELECT member_id FROM picked))
          AND d.status = 0
        RETURNING d.member_id, d.attempts
    )
    SELECT c.member_id, c.attempts, m.phone, m.first_name, m.last_name, m.place_name, m.city,
           m.status = 'subscribed' AND m.unreachable_at IS NULL, m.language
    FROM claimed c LEFT JOIN signup_member m ON m.id = c.member_id
    ORDER BY c.member_id
"""


def _claim(
    broadcast: Broadcast, *, limit: int, now: datetime.datetime, token: int, after: int = 0
) -> list[_Claimed]:
    """Claim up to `limit` due deliveries with member ids above `after`, walking the key (member id).

    Each worker remembers where its last claim ended, so it never rescans what it already sent; rows that
    were skipped (locked by another worker, or not yet due) are found when it starts again from 0.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {"broadcast": broadcast.pk, "now": now, "limit": limit, "token": token, "after": after},
        )
        rows = cursor.fetchall()
    varies = "{" in broadcast.body or bool(broadcast.suffixes)
    claimed = []
    for member_id, attempts, phone, first, last, place_name, city, reachable, language in rows:
        if varies:
            body = broadcast.text_for(
                first_name=first or "",
                last_name=last or "",
                place=place_name or city or "",
                language=language,
            )
            segments = max(1, segment_info(body).segments)
        else:
            body, segments = broadcast.body, broadcast.segments
        claimed.append(
            _Claimed(member_id, member_id, phone, body, segments, bool(reachable) and bool(phone), attempts)
        )
    return claimed


# One statement per batch, its values passed as five arrays (not thousands of placeholders: cheaper to send,
# parse and plan), each written as one array literal ("{1,2,3}") by _array: psycopg's list dumper, element by
# element in Python, was a tenth of a dispatcher's CPU. Sent now = sent_at; due again after `delay` seconds.
_RECORD_SQL = """
    UPDATE messaging_delivery d
    SET status = v.status, sid = v.sid, error_code = v.code,
        sent_at = CASE WHEN v.status = 2 THEN %s::timestamptz END,
        due_at = %s::timestamptz + make_interval(secs => v.delay),
        claim_token = NULL
    FROM unnest(%s::bigint[], %s::smallint[], %s::varchar[], %s::integer[], %s::integer[])
         AS v(member_id, status, sid, code, delay)
    WHERE d.broadcast_id = %s AND d.member_id = v.member_id AND d.status <= 1
"""


def _array(values: list) -> str:
    """A PostgreSQL array literal of ints and/or strings (quoted and escaped) with None as NULL."""
    return "{" + ",".join(_element(value) for value in values) + "}"


def _element(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(int(value))
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


def _record(
    leader, broadcast: Broadcast, batch: list[_Claimed], results: list, attempts: dict[int, int]
) -> dict:
    """Store a batch's outcome in one UPDATE, and add it to the counters in one more (one transaction)."""
    now = timezone.now()
    rows: list[tuple] = []
    counts = {"sent": 0, "failed": 0, "skipped": 0, "retried": 0, "segments": 0, "opt_outs": 0}
    opt_outs: list[int] = []
    unreachable: list[int] = []
    result_by_id = dict(zip((item.id for item in batch if item.reachable), results, strict=True))
    # Rows: (member id, status, SID, error code, seconds until due again).
    wired, skipped, failed, queued = (
        int(DeliveryStatus.WIRED),
        int(DeliveryStatus.SKIPPED),
        int(DeliveryStatus.FAILED),
        int(DeliveryStatus.QUEUED),
    )
    for item in batch:
        if not item.reachable:
            rows.append((item.id, skipped, None, None, 0))
            counts["skipped"] += 1
            continue
        result = result_by_id[item.id]
        if result.error is None:
            rows.append((item.id, wired, result.sid, None, 0))
            counts["sent"] += 1
            counts["segments"] += item.segments
            continue
        error = result.error
        if error.retryable and attempts.get(item.id, 1) < MAX_ATTEMPTS:
            delay = int(_backoff(attempts.get(item.id, 1)).total_seconds())
            rows.append((item.id, queued, None, error.code, delay))
            counts["retried"] += 1
            continue
        rows.append((item.id, failed, None, error.code, 0))
        counts["failed"] += 1
        if error.opts_out_recipient:
            opt_outs.append(item.member_id)
        elif error.invalid_recipient:
            unreachable.append(item.member_id)
    with transaction.atomic():
        if rows:
            with connection.cursor() as cursor:
                columns = [_array(list(column)) for column in zip(*rows, strict=True)]
                cursor.execute(_RECORD_SQL, [now, now, *columns, broadcast.pk])
        for member in Member.objects.filter(pk__in=opt_outs):
            if member_opt_out(
                member=member, source="carrier", detail=f"Twilio error 21610 (broadcast {broadcast.pk})"
            ):
                counts["opt_outs"] += 1
        for member_id in unreachable:
            member_mark_unreachable(member_id=member_id)
        Broadcast.objects.filter(pk=broadcast.pk).update(
            sent_count=F("sent_count") + counts["sent"],
            failed_count=F("failed_count") + counts["failed"],
            skipped_count=F("skipped_count") + counts["skipped"],
            segments_sent=F("segments_sent") + counts["segments"],
            opt_out_count=F("opt_out_count") + counts["opt_outs"],
            heartbeat_at=now,
        )
        if counts["sent"]:
            Leader.count_messages_sent(leader.pk, counts["sent"])
    return counts


def broadcast_dispatch(
    *,
    leader,
    broadcast_id: int,
    time_budget: float = 240.0,
    batch_size: int = BATCH_SIZE,
    concurrency: int = CONCURRENCY,
    stale_after: datetime.timedelta = STALE_AFTER,
    now: datetime.datetime | None = None,
) -> DispatchResult:
    """Send what is due of one broadcast for up to `time_budget` seconds; several may run at once.

    Pipelined: while one batch is in flight at Twilio (send_many, on the transport's own thread), this
    thread records the previous batch and claims the next. Never more than two batches claimed at once.
    `now` freezes the clock used for due times (tests); the claim times are always real.
    """
    started = time.monotonic()
    frozen_now = now
    result = DispatchResult("done")
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None or broadcast.status != Broadcast.Status.SENDING:
        result.outcome = "over"
        return result
    deliveries_sweep(broadcast_id=broadcast_id, stale_after=stale_after, now=frozen_now)
    transport = get_transport()
    sender = str(leader.phone_number)
    callback = _status_callback_url(broadcast_id)
    rate = leader.sending_rate
    token = random.randint(1, 2**31 - 1)
    after = 0  # where this worker's last claim ended, in member ids
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="broadcast-send")
    in_flight: tuple[list[_Claimed], concurrent.futures.Future, dict[int, int], list[int]] | None = None

    def finish_in_flight() -> None:
        nonlocal in_flight
        if in_flight is None:
            return
        batch, future, attempts, grant_ids = in_flight
        in_flight = None
        results = future.result()
        ratelimit.release(grant_ids=grant_ids, rate=rate)
        counts = _record(leader, broadcast, batch, results, attempts)
        result.sent += counts["sent"]
        result.failed += counts["failed"]
        result.skipped += counts["skipped"]
        result.retried += counts["retried"]

    try:
        while True:
            if time.monotonic() - started > time_budget:
                result.outcome = "budget"
                break
            status = Broadcast.objects.filter(pk=broadcast_id).values_list("status", flat=True).first()
            if status != Broadcast.Status.SENDING:
                result.outcome = "cancelled" if status == Broadcast.Status.CANCELLED else "over"
                break
            leader.refresh_from_db(fields=["status", "segments_per_second", "number_type"])
            if not leader.is_active:
                result.outcome = "suspended"  # deliveries stay queued; the sweep schedule resumes them
                break
            rate = leader.sending_rate
            # At most one second's worth per claim, so a slow number's claims are short-lived.
            wanted = min(batch_size, max(1, rate // broadcast.segments))
            current = frozen_now or timezone.now()
            batch = _claim(broadcast, limit=wanted, now=current, token=token, after=after)
            if not batch and after:
                after = 0  # back to the start, for rows skipped on the way (retries, other workers' claims)
                continue
            if not batch:
                finish_in_flight()
                # Anything due a little later (retries), or later still (quiet hours)?
                next_due = (
                    Delivery.objects.filter(broadcast_id=broadcast_id, status=DeliveryStatus.QUEUED)
                    .order_by("due_at")
                    .values_list("due_at", flat=True)
                    .first()
                )
                if next_due is None:
                    result.outcome = "done"
                    break
                wait = (next_due - current).total_seconds()
                if wait <= LINGER and time.monotonic() - started + wait < time_budget:
                    time.sleep(max(0.0, wait) + 0.01)
                    continue
                result.outcome, result.next_due = "later", next_due
                break
            after = batch[-1].id
            # The batch's exact cost (a personalised message may cost more than the estimate: "Zoë" makes it
            # UCS-2), taken from the shared limiter all at once before anything is sent.
            needed = sum(item.segments for item in batch if item.reachable)
            grant_ids: list[int] = []
            while needed:
                grant = ratelimit.acquire(rate=rate, segments_each=needed, wanted=1)
                if grant.messages:
                    grant_ids.append(grant.id)
                    break
                finish_in_flight()  # its grant is released once recorded: never wait on our own batch
                time.sleep(min(grant.wait, 0.25))
            attempts = {item.id: item.attempts for item in batch}
            messages = [
                OutboundSms(
                    to=item.phone,
                    from_=sender,
                    body=item.body,
                    status_callback=callback,
                    reference=str(item.id),
                )
                for item in batch
                if item.reachable
            ]
            future = executor.submit(transport.send_many, messages, concurrency=concurrency)
            finish_in_flight()  # record the previous batch while this one is on the wire
            in_flight = (batch, future, attempts, grant_ids)
        finish_in_flight()
    finally:
        if in_flight is not None:  # an exception above: still record what Twilio accepted
            try:
                finish_in_flight()
            except Exception:
                logger.exception("recording a batch of broadcast %s failed", broadcast_id)
        executor.shutdown(wait=True)
    if result.outcome == "done":
        broadcast_complete_if_done(broadcast_id=broadcast_id)
    return result
