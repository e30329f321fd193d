"""Quiet hours in each member's own time zone, in SQL: when a bulk text (a broadcast's copy, a survey's first
question) may go to a member, computed for many members in one statement.

Texts go between the leader's ``quiet_hours_end`` and ``quiet_hours_start``, local time where the member lives
(``Member.time_zone``, from their city), else in the leader's zone (``Leader.time_zone``). The due time of
each time zone PostgreSQL knows is computed once per statement (a few hundred rows, ``ZONES_CTE``) and
joined to the members: ``due_sql("z")`` is now when the window is open there, else the next time it
opens (``due_by_zone_sql`` looks it up without a join, keeping the members' order). Used by broadcasts' queueing and by the surveys' queueing and claims.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import connection

# The due time of a member whose local time zone is `name`: now if now is inside the sending window
# (quiet_hours_end .. quiet_hours_start, local time), else the next time the window opens there.
ZONES_SQL = """
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
# Two common table expressions (without WITH): every zone's due time, and the leader's own zone's.
ZONES_CTE = f"zones AS ({ZONES_SQL}), leader_zone AS (SELECT due_at FROM zones WHERE name = %(leader_zone)s)"

# The same, as one jsonb object {zone name: due time in epoch seconds} computed once per statement, for
# statements that must keep their rows in order (a join to `zones` would sort them by zone):
# `due_by_zone_sql("a.time_zone")` looks the member's zone up in it.
ZONES_MAP_CTE = (
    f"{ZONES_CTE}, zone_due AS (SELECT jsonb_object_agg(name, extract(epoch FROM due_at)) AS due FROM zones)"
)

_known_zone_names: dict[tuple, list[str]] = {}


def known_zones() -> list[str]:
    """The names of the time zones the database server knows, read once per process and server: the
    pg_timezone_names view loads every zone file, tens of milliseconds on each use."""
    db = connection.settings_dict
    key = (db["HOST"], db["PORT"], db["NAME"])
    if key not in _known_zone_names:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM pg_timezone_names")
            _known_zone_names[key] = [name for (name,) in cursor.fetchall()]
    return _known_zone_names[key]


def zones_params(*, leader, now: datetime.datetime) -> dict[str, Any]:
    """The named parameters ZONES_CTE and due_sql need."""
    return {
        "now": now,
        "open": leader.quiet_hours_end,  # the quiet window ends when the sending window opens
        "close": leader.quiet_hours_start,
        "leader_zone": str(leader.zone),
        "zones": known_zones(),
    }


def due_by_zone_sql(zone_column: str) -> str:
    """The due time for a member whose zone name is in `zone_column`, with ZONES_MAP_CTE: their zone's,
    else the leader's, else now."""
    return (
        f"COALESCE(to_timestamp(((SELECT due FROM zone_due) ->> {zone_column})::float8), "
        "(SELECT due_at FROM leader_zone), %(now)s::timestamptz)"
    )


def due_sql(zone_alias: str = "z") -> str:
    """The due time for a row joined as `LEFT JOIN zones <zone_alias> ON <zone_alias>.name = <member's zone>`:
    the member's zone's, else the leader's, else now (a zone name the server does not know)."""
    return f"COALESCE({zone_alias}.due_at, (SELECT due_at FROM leader_zone), %(now)s::timestamptz)"
