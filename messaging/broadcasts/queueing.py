"""Queueing a broadcast: its recipients become ``Delivery`` rows, in one ``INSERT … SELECT`` built from the
audience queryset's own SQL, into a partition of their own, with each member's due time after quiet hours
(``messaging.quiet``).
Members over the leader's announcement cap are left out of it and counted (``Broadcast.capped_count``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, transaction
from django.utils import timezone

from members.audience import audience_members
from messaging import quiet
from messaging.models import Broadcast, BroadcastError, Delivery, DeliveryStatus

T = TypeVar("T")

# The announcement cap (Leader.announcement_cap) counts the broadcasts a member got over this long.
CAP_WINDOW = datetime.timedelta(days=7)
CAP_WORK_MEM = "64MB"


def _capped_members_sql(*, leader, broadcast: Broadcast, now: datetime.datetime) -> str | None:
    """The SQL of the members who already got `Leader.announcement_cap` broadcasts in the last CAP_WINDOW, or
    None when nobody can have: no cap, or fewer broadcasts than the cap queued in the window (then the cap
    costs one indexed read of a few broadcast rows, nothing per member).

    "Got" is a delivery that went or is on its way: queued, sending, wired, sent or delivered (not failed,
    undelivered, skipped or cancelled). Broadcasts of the leader queue one after the other while a cap is
    set (an advisory lock until this transaction ends), so two queued at the same moment both count each
    other. The broadcasts' ids are written into the SQL, as numbers, so only their partitions are read; each
    member's count is one hash aggregate over those partitions' rows.
    """
    cap = leader.announcement_cap
    if not cap:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('community.announcement_cap.' || current_schema()))"
        )
    recent = list(
        Broadcast.objects.filter(queued_at__gte=now - CAP_WINDOW)
        .exclude(pk=broadcast.pk)
        .values_list("pk", flat=True)
    )
    if len(recent) < cap:
        return None
    ids = ", ".join(str(int(pk)) for pk in recent)
    return (
        f"SELECT member_id FROM messaging_delivery WHERE broadcast_id IN ({ids}) "
        f"AND status < {int(DeliveryStatus.UNDELIVERED)} GROUP BY member_id HAVING count(*) >= {int(cap)}"
    )


# Counted as the rows are written (over the INSERT's RETURNING): the deliveries held for their members' quiet
# hours, and when the last of those windows opens.
_HELD = "count(*) FILTER (WHERE due_at > %(now)s) AS n, max(due_at) FILTER (WHERE due_at > %(now)s) AS until"


def broadcast_queue(*, leader, broadcast: Broadcast, now: datetime.datetime | None = None) -> int:
    """Materialise the recipients as deliveries in one statement; returns how many.

    One transaction: the broadcast moves draft/scheduled → queueing → sending around the INSERT, so a
    crash leaves it as it was (and no deliveries), and a second caller finds nothing to do (returns 0).
    Members' due times follow quiet hours unless the broadcast ignores them. Members who already got the
    leader's announcement cap of broadcasts in the last 7 days are not queued (never later either) and are
    counted in `capped_count`.
    """
    now = now or timezone.now()
    with transaction.atomic():
        if not broadcast.start_queueing():
            return 0
        if not leader.is_active:
            broadcast.mark_failed("leader suspended")
            return 0
        local_day = now.astimezone(leader.zone).date()
        select_sql, params = _audience_sql(broadcast.audience(), on=local_day)
        params.update({"broadcast": broadcast.pk, "now": now})
        if broadcast.ignore_quiet_hours:
            due = "%(now)s::timestamptz"
            zones_cte, zones_join = "", ""
        else:
            params.update(quiet.zones_params(leader=leader, now=now))
            zones_cte = f"WITH {quiet.ZONES_CTE} "
            zones_join = "LEFT JOIN zones z ON z.name = a.time_zone "
            due = quiet.due_sql("z")
        columns = "(broadcast_id, member_id, status, due_at, attempts)"
        capped_sql = _capped_members_sql(leader=leader, broadcast=broadcast, now=now)
        if capped_sql is None:

            def write(target: str) -> tuple[int, int, int, datetime.datetime | None]:
                ctes = f"{zones_cte}, " if zones_cte else "WITH "
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"{ctes}inserted AS (INSERT INTO {target} {columns} "
                        f"SELECT %(broadcast)s, a.id, 0, {due}, 0 FROM ({select_sql}) a {zones_join}"
                        f"RETURNING due_at) SELECT count(*), 0, {_HELD} FROM inserted",
                        params,
                    )
                    return cursor.fetchone()

        else:
            # The audience is read once, each member flagged when over the cap; the INSERT takes the others,
            # and the same pass counts both.
            ctes = f"{zones_cte}, " if zones_cte else "WITH "
            ctes += (
                f"capped AS ({capped_sql}), "
                f"audience AS MATERIALIZED (SELECT a.id, a.time_zone, c.member_id IS NOT NULL AS over "
                f"FROM ({select_sql}) a LEFT JOIN capped c ON c.member_id = a.id)"
            )

            def write(target: str) -> tuple[int, int, int, datetime.datetime | None]:
                with connection.cursor() as cursor:
                    # Each member's count and the flag are hashed (a million members: tens of MB); at the
                    # default 4 MB both spilled to disk in batches, which cost more than the reading itself.
                    # SET LOCAL: until this transaction ends, a few statements later.
                    cursor.execute(f"SET LOCAL work_mem = '{CAP_WORK_MEM}'")
                    cursor.execute(
                        f"{ctes}, inserted AS (INSERT INTO {target} {columns} "
                        f"SELECT %(broadcast)s, a.id, 0, {due}, 0 FROM audience a {zones_join}WHERE NOT a.over "
                        "RETURNING due_at), "
                        f"held AS (SELECT {_HELD} FROM inserted) "
                        "SELECT count(*) FILTER (WHERE NOT over), count(*) FILTER (WHERE over), "
                        "(SELECT n FROM held), (SELECT until FROM held) FROM audience",
                        params,
                    )
                    return cursor.fetchone()

        count, capped, held, held_until = _deliveries_insert(broadcast.pk, write)
        broadcast.mark_sending(
            recipient_count=count, capped_count=capped, held_count=held, held_until=held_until
        )
    return count


def _audience_sql(audience, *, on: datetime.date) -> tuple[str, dict[str, Any]]:
    """The audience's members (id, time_zone) as SQL with named parameters (a0, a1, …): the audience SQL uses
    positional %s, and the statements around it named ones, which must not mix."""
    members = audience_members(audience, on=on).values("id", "time_zone")
    select_sql, select_params = members.query.sql_with_params()
    params = {f"a{index}": value for index, value in enumerate(select_params)}
    select_sql = select_sql.replace("%%", "\x00") % tuple(f"%(a{i})s" for i in range(len(select_params)))
    return select_sql.replace("\x00", "%%"), params


def audience_held_count(*, leader, audience, at: datetime.datetime) -> int:
    """How many of the audience's members are in their quiet hours at `at` (now, or a scheduled start): a
    broadcast respecting quiet hours holds their copies until their window opens. The review page says so
    before it is sent. Call inside the leader's schema."""
    select_sql, params = _audience_sql(audience, on=at.astimezone(leader.zone).date())
    params.update(quiet.zones_params(leader=leader, now=at))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {quiet.ZONES_CTE} SELECT count(*) FROM ({select_sql}) a "
            f"LEFT JOIN zones z ON z.name = a.time_zone WHERE {quiet.due_sql('z')} > %(now)s",
            params,
        )
        return cursor.fetchone()[0]


def _deliveries_insert(broadcast_id: int, write: Callable[[str], T]) -> T:
    """Insert the broadcast's rows into a partition of their own: `write(table)` inserts them (broadcast,
    member, status, due, attempts) and says how many; its answer is returned.

    The rows go into a new table with no index; its key and SID index are then built in one sorted pass
    each, and the table is attached as the broadcast's partition: maintaining a key row by row cost as much
    as writing the rows. The CHECK constraint proves the partition bound, so attaching does not scan the
    rows again. No ON CONFLICT: the member ids are distinct, and the key would refuse a second copy anyway.
    In the caller's transaction: a failure leaves no table behind.
    """

    table = Delivery.partition_name(broadcast_id)
    if Delivery.partition_attached(broadcast_id):
        # Made empty beforehand (Delivery.partition_ensure): written through its indexes. One that holds rows
        # would mix another broadcast's (ids reused after a database reset): refused.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")
            if cursor.fetchone()[0]:
                raise BroadcastError(f"{table} already holds deliveries; nothing was queued")
        return write(table)
    Delivery.partition_table_create(broadcast_id)
    count = write(table)
    Delivery.partition_attach(broadcast_id)
    with connection.cursor() as cursor:
        # The planner must know these rows exist before the workers' claims and updates are planned: row
        # counts and the few statuses, which a small sample tells as well as the default one, in a fifth of
        # the time. SET LOCAL: until the end of this transaction.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {table}")
    return count
