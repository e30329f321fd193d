"""Queueing a broadcast: its recipients become ``Delivery`` rows, in one ``INSERT … SELECT`` built from the
audience queryset's own SQL, into a partition of their own, with each member's due time after quiet hours.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from members.audience import audience_members
from messaging.models import Broadcast, BroadcastError, Delivery

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
        members = audience_members(broadcast.audience(), on=local_day).values("id", "time_zone")
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
