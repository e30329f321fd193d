"""The sending rate limiter: a leader's number never goes over its segments-per-second rate.

Carriers rate a sender in SMS segments per second (long code 1, toll-free 3, short code 100:
``Leader.sending_rate``). Every broadcast worker of a leader, on any machine, takes its segments from one
shared limiter before calling Twilio. The limiter is a *sliding window log* in the leader's own schema
(``messaging.models.SendingWindow``): a grant of n segments is allowed only if the grants still counting
(those of the last ``WINDOW`` seconds) plus n stay within the rate. Unlike a token bucket, which lets a full
bucket go out on top of one second's refill, this bounds every window of one second, which is what a
carrier counts.

The window is a little longer than one second (``WINDOW``), so the jitter between our grant and the moment
Twilio receives each request cannot put two grants one second apart inside one second at Twilio. A single
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
PRUNE_AFTER = 60.0  # seconds after a grant stops counting before its row is deleted


@dataclasses.dataclass(frozen=True)
class Grant:
    messages: int  # messages that may be sent now (0: wait)
    wait: float  # when none: seconds until asking again makes sense


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
        lasts = WINDOW * max(1.0, segments / rate)
        cursor.execute(
            "INSERT INTO messaging_sendingwindow (at, until, segments) "
            "VALUES (%s, %s + make_interval(secs => %s), %s)",
            [now, now, lasts, segments],
        )
        cursor.execute(
            "DELETE FROM messaging_sendingwindow WHERE until < %s - make_interval(secs => %s)", [now, PRUNE_AFTER]
        )
        return Grant(granted, 0.0)


def estimated_seconds(*, segments: int, rate: int) -> float:
    """How long `segments` take at `rate`, for the preview's time estimate."""
    return math.ceil(segments / rate * WINDOW) if rate > 0 else 0.0
