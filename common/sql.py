"""Hand-written SQL, built and run one way everywhere: for the hot paths (inbound texts, a newcomer's
welcome), where Django's per-query overhead and `SET search_path` round trips cost more than the work.

A `Statement` is written once, with `{schema}` wherever a table of the tenant's schema is named
(`{schema}.messaging_message`), and is composed with `psycopg.sql`: the schema goes in as an `Identifier`
(quoted by psycopg, never pasted), other named parts (a statement of another app embedded as a CTE) as
`SQL`. It is rendered to text once per schema and cached, so PostgreSQL sees the same text for a schema on
every run and the statement needs no search path. `{` and `}` that are SQL (JSON, arrays) are written
`{{` and `}}`, as `str.format` wants. `prepared_fetchone` / `prepared_execute` run the rendered text as a
server-side prepared statement on Django's connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError
from psycopg import sql as psycopg_sql


class Statement:
    """One hand-written statement, qualified with a schema's name when rendered (see the module)."""

    __slots__ = ("name", "_composable", "_parts", "_rendered")

    def __init__(self, name: str, text: str, **parts: str) -> None:
        self.name = name
        self._composable = psycopg_sql.SQL(text)
        self._parts = {key: psycopg_sql.SQL(value) for key, value in parts.items()}
        self._rendered: dict[str, str] = {}

    def in_schema(self, schema_name: str) -> str:
        """The statement's text with `{schema}` as the quoted schema name; composed once per schema."""
        text = self._rendered.get(schema_name)
        if text is None:
            composed = self._composable.format(schema=psycopg_sql.Identifier(schema_name), **self._parts)
            text = self._rendered[schema_name] = composed.as_string(None)
        return text

    def __repr__(self) -> str:
        return f"<Statement {self.name}>"


def prepared_fetchone(sql: str, params: dict) -> tuple | None:
    """One statement on Django's connection, as a server-side prepared statement, and its first row.

    PostgreSQL parses and plans it once per connection, then only binds and runs it (Django's cursors bind
    on the client, so they send and parse the whole text every time). It takes part in the current
    transaction, if any. A connection that broke while idle (the server restarted, a proxy closed it) is
    reopened once, outside a transaction: run only idempotent statements this way (keyed by Twilio's sid,
    say), so that running one again is safe.
    """
    return _prepared(sql, params, fetch=True, reconnect=True)


def prepared_execute(sql: str, params: dict) -> int:
    """As `prepared_fetchone`, for a statement that returns no row: the number of rows it changed. Never
    run twice: a statement that need not be idempotent."""
    return _prepared(sql, params, fetch=False, reconnect=False)


def _prepared(sql: str, params: dict, *, fetch: bool, reconnect: bool):
    database = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the `connection` proxy is a lookup
    for attempt in (1, 2):
        database.ensure_connection()
        try:
            with database.wrap_database_errors, psycopg.Cursor(database.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                result = cursor.fetchone() if fetch else cursor.rowcount
            # The connection just answered: Django's `SELECT 1` check before the request's next query
            # (CONN_HEALTH_CHECKS) would only cost a round trip.
            database.health_check_done = True
            return result
        except DatabaseError:
            if not reconnect or attempt == 2 or database.in_atomic_block or database.is_usable():
                raise
            database.close()
    raise AssertionError("unreachable")


@contextlib.contextmanager
def advisory_lock_try(key: str) -> Iterator[bool]:
    """PostgreSQL's session advisory lock on `key` (a string, hashed), if no other session holds it: yields
    whether it was taken, and releases it on leaving when it was. What keeps a background run (a leader's
    triage, reminders, answers) to one at a time across workers; a worker that dies loses it with its
    connection."""
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
