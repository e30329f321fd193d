"""Workflows on broadcasts: create, preview, schedule, queue, dispatch, cancel, and what comes back.

Call these inside the leader's schema (``schema_context(leader.schema_name)``); the queue tasks in
``messaging.broadcast_tasks`` do. The design, in short (docs/broadcasts.md has the long form):

* The body is stored once, on the ``Broadcast``; each recipient is a lean ``Delivery`` row, materialised by
  one ``INSERT … SELECT`` built from the audience queryset's own SQL (``broadcast_queue``).
* Workers claim batches with one conditional ``UPDATE … WHERE status = queued … FOR UPDATE SKIP LOCKED``,
  and only then call Twilio (``send_many``, many requests in flight); the SIDs are recorded with one
  ``UPDATE … FROM (VALUES …)`` per batch, as soon as the batch returns. A task that runs twice finds nothing
  left to claim.
* Pace: each grant comes from the leader's shared limiter (``messaging.ratelimit``), counted in segments.
* A worker killed mid-batch leaves claims with no SID; ``deliveries_sweep`` puts them back once stale.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import random
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from members.audience import AudienceFilter, audience_count, audience_members
from messaging import ratelimit
from messaging.models import Broadcast, BroadcastError, Delivery, DeliveryStatus
from messaging.segments import gsm7_suggestions, render_template, segment_info, segment_info_for_template

logger = logging.getLogger(__name__)

# A claim older than this with no SID belongs to a worker that died: the sweeper puts it back in the queue.
# Far above the longest a live worker holds a claim (a batch's requests time out after 15 s each).
STALE_AFTER = datetime.timedelta(minutes=5)
# Deliveries per claim at most; a number's rate usually allows far fewer (one second's worth).
BATCH_SIZE = 1000
CONCURRENCY = 200  # requests in flight per worker
MAX_ATTEMPTS = 5  # 429, 5xx and connection errors: retried with backoff, then failed
LINGER = 5.0  # seconds a worker waits in-process for retries that are nearly due, rather than rescheduling
# Twilio reports on a text for a few days at most: a callback that does not name its broadcast looks for
# its sid among the broadcasts queued within this.
CALLBACK_WINDOW = datetime.timedelta(days=7)
REPLY_WINDOW = datetime.timedelta(hours=24)  # a text within this after a broadcast counts as a reply to it


def reply_broadcasts_since(now: datetime.datetime) -> datetime.datetime:
    """How far back a broadcast can have been queued and still hold a delivery sent within REPLY_WINDOW:
    scheduled sending and quiet hours delay a delivery, never by more than two days."""
    return now - REPLY_WINDOW - datetime.timedelta(days=2)


def _status_callback_url(broadcast_id: int) -> str:
    # The broadcast's id tells the callback which partition of deliveries holds the sid.
    return f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/?broadcast={int(broadcast_id)}"


# --------------------------------------------------------------------------------------------------------
# Composing


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
    from messaging import broadcast_tasks

    if not leader.is_active:
        raise BroadcastError("This leader is suspended: nothing can be sent.")
    if broadcast.status != Broadcast.Status.DRAFT:
        raise BroadcastError(f"A {broadcast.status} broadcast cannot be sent again.")
    schema_name = connection.schema_name
    if broadcast.send_at is not None and broadcast.send_at > timezone.now():
        broadcast.schedule(broadcast.send_at)
        transaction.on_commit(
            lambda: broadcast_tasks.schedule_start(broadcast.pk, schema_name, broadcast.send_at)
        )
    else:
        transaction.on_commit(lambda: broadcast_tasks.enqueue_start(broadcast.pk, schema_name))
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
        from django_q.models import Schedule

        Schedule.objects.filter(name=f"broadcast-start-{connection.schema_name}-{broadcast.pk}").delete()
    return cancelled


# --------------------------------------------------------------------------------------------------------
# Queueing: one INSERT … SELECT


# The due time of a member whose local time zone is `tz`: now if now is inside the sending window
# (quiet_hours_end .. quiet_hours_start, local time), else the next time the window opens there.
# Computed once per time zone PostgreSQL knows (a few hundred rows, named by _known_zones), then joined to
# the members.
_ZONES_SQL = """
    SELECT z.name, CASE
        WHEN (CASE WHEN %(open)s::time < %(close)s::time
                   THEN z.local::time >= %(open)s::time AND z.local::time < %(close)s::time
                   ELSE z.local::time >= %(open)s::time OR z.local::time < %(close)s::time END)
        THEN %(now)s::timestamptz
        ELSE ((z.local::date + CASE WHEN z.local::time < %(open)s::time THEN 0 ELSE 1 END)
              + %(open)s::time) AT TIME ZONE z.name
    END AS due_at
    FROM (SELECT name, %(now)s::timestamptz AT TIME ZONE name AS local FROM unnest(%(zones)s::text[]) name) z
"""
_known_zone_names: dict[tuple, list[str]] = {}


def _known_zones() -> list[str]:
    """The names of the time zones the database server knows, read once per process and server: the
    pg_timezone_names view loads every zone file, tens of milliseconds on each use."""
    db = connection.settings_dict
    key = (db["HOST"], db["PORT"], db["NAME"])
    if key not in _known_zone_names:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_timezone_names")
            _known_zone_names[key] = [name for (name,) in cursor.fetchall()]
    return _known_zone_names[key]


def broadcast_queue(*, leader, broadcast: Broadcast, now: datetime.datetime | None = None) -> int:
    """Materialise the recipients as deliveries in one statement; returns how many.

    One transaction: the broadcast moves draft/scheduled → queueing → sending around the INSERT, so a
    crash leaves it as it was (and no deliveries), and a second caller finds nothing to do (returns 0).
    Members' due times follow quiet hours unless the broadcast ignores them.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not broadcast.start_queueing():
            return 0
        if not leader.is_active:
            broadcast.mark_failed("leader suspended")
            return 0
        local_day = now.astimezone(leader.zone).date()
        members = audience_members(broadcast.filters, on=local_day).values("id", "time_zone")
        select_sql, select_params = members.query.sql_with_params()
        params: dict[str, Any] = {
            "broadcast": broadcast.pk,
            "now": now,
            "open": leader.quiet_hours_end,  # the quiet window ends when the sending window opens
            "close": leader.quiet_hours_start,
            "leader_zone": str(leader.zone),
        }
        # The audience SQL uses positional %s; name its parameters so both styles do not mix.
        for index, value in enumerate(select_params):
            params[f"a{index}"] = value
        select_sql = select_sql.replace("%%", "\x00") % tuple(f"%(a{i})s" for i in range(len(select_params)))
        select_sql = select_sql.replace("\x00", "%%")
        if broadcast.ignore_quiet_hours:
            due = "%(now)s::timestamptz"
            zones_cte, zones_join = "", ""
        else:
            params["zones"] = _known_zones()
            zones_cte = f"WITH zones AS ({_ZONES_SQL}), leader_zone AS (SELECT due_at FROM zones WHERE name = %(leader_zone)s) "
            zones_join = "LEFT JOIN zones z ON z.name = a.time_zone "
            due = "COALESCE(z.due_at, (SELECT due_at FROM leader_zone), %(now)s::timestamptz)"
        rows_sql = f"SELECT %(broadcast)s, a.id, 0, {due}, 0 FROM ({select_sql}) a {zones_join}"
        count = _deliveries_insert(broadcast.pk, rows_sql, params, with_clause=zones_cte)
        broadcast.mark_sending(recipient_count=count)
    return count


def _deliveries_insert(broadcast_id: int, rows_sql: str, params: dict, *, with_clause: str = "") -> int:
    """Insert the broadcast's rows, selected by `rows_sql` (broadcast, member, status, due, attempts), into
    a partition of their own; returns how many.

    The rows go into a new table with no index; its key and SID index are then built in one sorted pass
    each, and the table is attached as the broadcast's partition: maintaining a key row by row cost as much
    as writing the rows. The CHECK constraint proves the partition bound, so attaching does not scan the
    rows again. No ON CONFLICT: the member ids are distinct, and the key would refuse a second copy anyway.
    In the caller's transaction: a failure leaves no table behind.
    """

    def insert_into(target: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"{with_clause}INSERT INTO {target} (broadcast_id, member_id, status, due_at, attempts) "
                f"{rows_sql}",
                params,
            )
            return cursor.rowcount

    table = Delivery.partition_name(broadcast_id)
    if Delivery.partition_attached(broadcast_id):
        # Made empty beforehand (Delivery.partition_ensure): written through its indexes. One that holds rows
        # would mix another broadcast's (ids reused after a database reset): refused.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if cursor.fetchone()[0]:
                raise BroadcastError(f"{table} already holds deliveries; nothing was queued")
        return insert_into(table)
    Delivery.partition_table_create(broadcast_id)
    count = insert_into(table)
    Delivery.partition_attach(broadcast_id)
    with connection.cursor() as cursor:
        # The planner must know these rows exist before the workers' claims and updates are planned: row
        # counts and the few statuses, which a small sample tells as well as the default one, in a fifth of
        # the time. SET LOCAL: until the end of this transaction.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {table}")
    return count


# --------------------------------------------------------------------------------------------------------
# Dispatching


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
           m.status = 'subscribed' AND m.unreachable_at IS NULL
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
    personal = "{" in broadcast.body
    claimed = []
    for member_id, attempts, phone, first, last, place_name, city, reachable in rows:
        if personal:
            body = render_template(
                broadcast.body,
                values={
                    "first_name": (first or "")[:20],
                    "name": f"{first or ''} {last or ''}".strip()[:40],
                    "city": (place_name or city or "")[:30],
                },
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
    from leaders.models import Leader
    from members.consent import member_mark_unreachable, member_opt_out
    from members.models import Member

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
    from messaging.twilio.transport import OutboundSms, get_transport

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
    from api.webhooks import webhook_event_emit
    from messaging.selectors import broadcast_progress

    webhook_event_emit(name="broadcast.completed", payload=broadcast_progress(broadcast))
    return True


# --------------------------------------------------------------------------------------------------------
# What comes back: status callbacks, replies, STOPs


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
    from members.consent import member_mark_unreachable, member_opt_out
    from members.models import Member

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
        if code == 21610:
            member = Member.objects.filter(pk=delivery.member_id).first()
            if member is not None and member_opt_out(
                member=member,
                source="carrier",
                detail=f"Twilio error 21610 (broadcast {delivery.broadcast_id})",
            ):
                counters["opt_out_count"] = F("opt_out_count") + 1
        elif code in (21211, 21614):
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
    recipients = audience_count(broadcast.filters, on=on)
    if broadcast_needs_approval(leader=leader, recipients=recipients):
        broadcast.request_approval()
        return broadcast
    return broadcast_send(leader=leader, broadcast=broadcast)


def broadcast_approve(*, leader, broadcast: Broadcast, user) -> Broadcast:
    """A second teammate approves: the broadcast goes out now, or at its time if that is still ahead."""
    with transaction.atomic():
        broadcast.approve(user)
        return broadcast_send(leader=leader, broadcast=broadcast)
