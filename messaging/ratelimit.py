"""The sending rate limiter: a leader's number never goes over its segments-per-second rate.

Carriers rate a sender in SMS segments per second (long code 1, toll-free 3, short code 100:
``Leader.sending_rate``). Every bulk sender of a leader (broadcast workers, the surveys' sender, the waitlist's invitations), on any
machine, takes its segments from one shared limiter before calling Twilio. The limiter is a *sliding window log* in the leader's own schema
(``messaging.models.SendingWindow``): a grant of n segments is allowed only if the grants still counting
(those of the last ``WINDOW`` seconds) plus n stay within the rate. Unlike a token bucket, which lets a full
bucket go out on top of one second's refill, this bounds every window of one second, which is what a
carrier counts.

A grant counts from the moment it is made until ``WINDOW`` seconds after its messages were all sent
(``release``, called when ``send_many`` returns; until then it holds for ``HOLD`` seconds). So however
late a batch goes out after its grant (a busy machine, a slow request), any two batches that reach Twilio
less than a second apart were both counting when the later was granted: every second at Twilio stays
within the rate. ``WINDOW`` is a little over one second for the jitter of the requests themselves. A single
message longer than one second's rate (3 segments on a 1 segment/s long code) is let through alone when
nothing else counts, and then counts for segments / rate seconds, so the average holds.

Concurrency: each acquisition is one short transaction holding a per-leader advisory lock, with the clock
read from PostgreSQL (``clock_timestamp()``), so workers on different machines share one clock and one
order. One row per grant (a batch of messages), not per message; old rows are pruned as they go.
"""

from __future__ import annotations

import dataclasses
import math

from django.db import connection, transaction

WINDOW = 1.05  # seconds: one second plus a margin for network jitter between grant and arrival
HOLD = 60.0  # seconds a grant counts when its sender never releases it (a worker that died mid-send)
PRUNE_AFTER = 60.0  # seconds after a grant stops counting before its row is deleted


@dataclasses.dataclass(frozen=True)
class Grant:
    messages: int  # messages that may be sent now (0: wait)
    wait: float  # when none: seconds until asking again makes sense
    id: int | None = None  # pass to release() once the messages are sent


def acquire(*, rate: int, segments_each: int, wanted: int) -> Grant:
    """Take room for up to `wanted` messages of `segments_each` segments (call inside the leader's schema)."""
    if rate <= 0 or wanted <= 0 or segments_each <= 0:
        raise ValueError("rate, segments_each and wanted must be positive")
    with transaction.atomic(), connection.cursor() as cursor:
        # Serialise this leader's acquisitions (its schema) without a row to lock or create first.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('community.ratelimit.' || current_schema()))")
        cursor.execute(
            "SELECT COALESCE(SUM(segments), 0), MIN(until), clock_timestamp() FROM messaging_sendingwindow "
            "WHERE until > clock_timestamp()"
        )
        used, first_out, now = cursor.fetchone()
        used = int(used)
        granted = min(wanted, (rate - used) // segments_each)
        if granted <= 0 and used == 0:
            granted = 1  # a message longer than one second's rate goes alone
        if granted <= 0:
            return Grant(0, max(0.005, (first_out - now).total_seconds()))
        segments = granted * segments_each
        cursor.execute(
            "INSERT INTO messaging_sendingwindow (at, until, segments) "
            "VALUES (%s, %s + make_interval(secs => %s), %s) RETURNING id",
            [now, now, HOLD + _lasts(segments, rate), segments],
        )
        grant_id = cursor.fetchone()[0]
        cursor.execute(
            "DELETE FROM messaging_sendingwindow WHERE until < %s - make_interval(secs => %s)",
            [now, PRUNE_AFTER],
        )
        return Grant(granted, 0.0, grant_id)


def _lasts(segments: int, rate: int) -> float:
    return WINDOW * max(1.0, segments / rate)


def release(*, grant_ids: list[int], rate: int) -> None:
    """The grants' messages are all sent: they count for WINDOW more seconds from now (not HOLD)."""
    if not grant_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE messaging_sendingwindow SET until = clock_timestamp() + make_interval(secs => "
            "%s * GREATEST(1.0, segments::float / %s)) WHERE id = ANY(%s)",
            [WINDOW, rate, list(grant_ids)],
        )


def estimated_seconds(*, segments: int, rate: int) -> float:
    """How long `segments` take at `rate`, for the preview's time estimate."""
    return math.ceil(segments / rate * WINDOW) if rate > 0 else 0.0


def cancel(*, grant_id: int | None) -> None:
    """A grant that will not be used at all (nothing was left to claim): give its room back."""
    if grant_id is not None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM messaging_sendingwindow WHERE id = %s", [grant_id])
