"""Tables partitioned by LIST on one key, one partition per key value (a broadcast's deliveries, a survey's
members still to be asked), written in bulk the fast way.

A bulk write goes into a new table with no index (`table_create`), whose indexes are then built in one
sorted pass each and which is attached as the value's partition (`attach`): maintaining a hundred thousand
rows' indexes row by row cost as much as writing the rows. The table's CHECK constraint proves the
partition bound, so attaching does not scan the rows again; ATTACH takes a SHARE UPDATE EXCLUSIVE lock on
the parent, which the other partitions' reads and writes do not wait for (CREATE TABLE … PARTITION OF would
take an exclusive one). Rows written one by one go through a partition made empty beforehand (`ensure`).

Names are the parent's, in the current schema (each leader's schema has its own tables); values are ints.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class ListPartitions:
    parent: str  # the partitioned table
    key: str  # its LIST partition key column
    # Each partition's own constraints and indexes, as (name suffix, definition): ("member", "UNIQUE
    # (member_id)") is `ALTER TABLE <partition> ADD CONSTRAINT <partition>_member UNIQUE (member_id)`.
    constraints: tuple[tuple[str, str], ...] = ()
    # ("due", "(due_at)") is `CREATE INDEX <partition>_due ON <partition> (due_at)`.
    indexes: tuple[tuple[str, str], ...] = ()

    def name(self, value: int) -> str:
        return f"{self.parent}_{int(value)}"

    def names(self) -> list[str]:
        """The current schema's partitions of the parent."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
                [self.parent],
            )
            return [name for (name,) in cursor.fetchall()]

    def attached(self, value: int) -> bool:
        """Whether `value` has its partition in the current schema's parent table."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s) "
                "AND inhparent = %s::regclass)",
                [self.name(value), self.parent],
            )
            return cursor.fetchone()[0]

    def table_create(self, value: int) -> str:
        """A new, empty, unindexed table for `value`'s rows, not yet attached; its name."""
        table = self.name(value)
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {table} (LIKE {self.parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
                f"CONSTRAINT {table}_bound CHECK ({self.key} = {int(value)}))"
            )
        return table

    def attach(self, value: int) -> None:
        """Index `value`'s table (each index in one sorted pass over its rows) and attach it."""
        table = self.name(value)
        with connection.cursor() as cursor:
            for suffix, definition in self.constraints:
                cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_{suffix} {definition}")
            for suffix, definition in self.indexes:
                cursor.execute(f"CREATE INDEX {table}_{suffix} ON {table} {definition}")
            cursor.execute(f"ALTER TABLE {self.parent} ATTACH PARTITION {table} FOR VALUES IN ({int(value)})")

    def ensure(self, value: int) -> None:
        """An empty partition for `value` if it has none, for rows written one by one through the parent."""
        if not self.attached(value):
            self.table_create(value)
            self.attach(value)

    def drop(self, value: int) -> None:
        """`value`'s partition and its rows, if it has one (only a partition of this schema's parent)."""
        if self.attached(value):
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {self.name(value)}")
