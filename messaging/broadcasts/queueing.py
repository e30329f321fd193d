"""Queueing a broadcast: its recipients become ``Delivery`` rows, in one ``INSERT … SELECT`` built from the
audience queryset's own SQL, into a partition of their own, with each member's due time after quiet hours
(``messaging.quiet``).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from members.audience import audience_members
from messaging import quiet
from messaging.models import Broadcast, BroadcastError, Delivery


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
        params: dict[str, Any] = {"broadcast": broadcast.pk, "now": now}
        # The audience SQL uses positional %s; name its parameters so both styles do not mix.
        for index, value in enumerate(select_params):
            params[f"a{index}"] = value
        select_sql = select_sql.replace("%%", "\x00") % tuple(f"%(a{i})s" for i in range(len(select_params)))
        select_sql = select_sql.replace("\x00", "%%")
        if broadcast.ignore_quiet_hours:
            due = "%(now)s::timestamptz"
            zones_cte, zones_join = "", ""
        else:
            params.update(quiet.zones_params(leader=leader, now=now))
            zones_cte = f"WITH {quiet.ZONES_CTE} "
            zones_join = "LEFT JOIN zones z ON z.name = a.time_zone "
            due = quiet.due_sql("z")
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
