"""What PostgreSQL's catalog says of the current schema's tables, for tests of partitioned tables
(deliveries per broadcast, a survey's queue per survey)."""

from __future__ import annotations

from django.db import connection

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
"""


def columns(table: str) -> set[tuple]:
    """The table's columns: (name, type, not null)."""
    with connection.cursor() as cursor:
        cursor.execute(COLUMNS_SQL, [table])
        return set(cursor.fetchall())


def rows_by_table(names: list[str]) -> dict[str, int]:
    """Each table's rows, counted in the table itself (ONLY: a partition, not what hangs below it)."""
    counts = {}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"SELECT count(*) FROM ONLY {name}")
            counts[name] = cursor.fetchone()[0]
    return counts
