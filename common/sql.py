"""Hand-written SQL run the same way everywhere: statements qualified with a schema, prepared on the
server. Used by the hot paths (inbound texts, a newcomer's welcome), where Django's per-query overhead and
`SET search_path` round trips cost more than the work itself."""

from __future__ import annotations

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db import Error as DatabaseError
from psycopg import sql as psycopg_sql

_schema_sql_cache: dict[tuple[str, str], str] = {}


def in_schema(template: str, schema_name: str) -> str:
    """`template` with every `{schema}` replaced by the quoted schema name; built once per schema.

    Only `{schema}` is replaced (no str.format): the statements hold other braces (JSON, arrays)."""
    key = (template, schema_name)
    sql = _schema_sql_cache.get(key)
    if sql is None:
        quoted = psycopg_sql.Identifier(schema_name).as_string(None)
        sql = _schema_sql_cache[key] = template.replace("{schema}", quoted)
    return sql


def prepared_fetchone(sql: str, params: dict) -> tuple:
    """One statement on Django's connection, as a server-side prepared statement: PostgreSQL parses and
    plans it once per connection, then only binds and runs it (Django's cursors bind on the client, so they
    send and parse the whole text every time). It takes part in the current transaction, if any.

    A connection that broke while idle (the server restarted, a proxy closed it) is reopened once: run only
    idempotent statements this way (keyed by Twilio's sid, say), so that running one again is safe.
    """
    database = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the `connection` proxy is a lookup
    for attempt in (1, 2):
        database.ensure_connection()
        try:
            with database.wrap_database_errors, psycopg.Cursor(database.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                row = cursor.fetchone()
            # The connection just answered: Django's `SELECT 1` check before the request's next query
            # (CONN_HEALTH_CHECKS) would only cost a round trip.
            database.health_check_done = True
            return row
        except DatabaseError:
            if attempt == 2 or database.in_atomic_block or database.is_usable():
                raise
            database.close()
    raise AssertionError("unreachable")
