"""The template schema that new leaders are cloned from, and migrating every schema.

django-tenants clones TENANT_BASE_SCHEMA for each new leader (tables, indexes, sequences, and the rows of
django_migrations, contenttypes and permissions), so creation time does not grow with the number of
migrations. The template must therefore be migrated before any leader is: `platform_migrate` does both.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django_tenants.clone import CloneSchema
from django_tenants.management.commands import SyncCommon
from django_tenants.management.commands.migrate_schemas import GET_EXECUTOR_FUNCTION, MigrateSchemasCommand
from django_tenants.utils import schema_exists


def template_schema_name() -> str:
    return settings.TENANT_BASE_SCHEMA


def template_schema_migrate(*, verbosity: int = 0) -> None:
    """Create the template schema if needed and bring it to the latest tenant migrations."""
    name = template_schema_name()
    if not schema_exists(name):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


class _MigrateSomeSchemas:
    """django-tenants' migrate_schemas for a given list of leader schemas (it knows all or one)."""

    @staticmethod
    def command(schemas: list[str]):
        class Command(MigrateSchemasCommand):
            def handle(self, *args, **options):
                SyncCommon.handle(self, *args, **options)
                executor = GET_EXECUTOR_FUNCTION(codename=self.executor)(self.args, self.options)
                executor.run_migrations(tenants=list(schemas))

        return Command()


# --- cloning the template -----------------------------------------------------------------------------------
# django-tenants' clone_schema is a general PL/pgSQL clone (4,600 lines, re-created with CREATE OR REPLACE
# FUNCTION on every call) whose catalog queries go through information_schema and slow down as schemas
# accumulate: about 0.35 s for the 1st leader and several times that by the 30th. The template only ever
# holds what tenant migrations create (tables, partitioned tables without partitions, their identity
# sequences, indexes, constraints, rows of django_migrations/contenttypes/permissions), so a clone built from
# the template's own catalog rows, sent as one batch of statements, is enough and stays flat. Anything else
# in the template (partitions, views, functions, triggers, standalone sequences, serial defaults) falls back
# to django-tenants' general clone.

# Catalog reads go through indexed columns only (relation oids, pg_depend's classid/objid): with a thousand
# leaders the catalogs hold a hundred thousand relations, and a scan of pg_depend per sequence took ~0.5 s.
_TEMPLATE_RELATIONS = """
WITH rel AS (
  SELECT c.oid, c.relname, c.relkind, c.relispartition FROM pg_class c
  WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
)
"""

_UNSUPPORTED_OBJECTS_SQL = (
    _TEMPLATE_RELATIONS
    + """
SELECT
  (SELECT count(*) FROM rel WHERE relkind NOT IN ('r', 'p', 'i', 'I', 'S') OR relispartition)
  + (SELECT count(*) FROM rel WHERE relkind = 'S' AND NOT EXISTS (
       SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = rel.oid
       AND d.objsubid = 0 AND d.deptype = 'i'))
  + (SELECT count(*) FROM pg_proc p
       WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s))
  + (SELECT count(*) FROM pg_type t
       WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
       AND t.typrelid = 0 AND t.typelem = 0)
  + (SELECT count(*) FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid WHERE NOT t.tgisinternal)
  + (SELECT count(*) FROM rel JOIN pg_attrdef d ON d.adrelid = rel.oid
       WHERE pg_get_expr(d.adbin, d.adrelid) LIKE '%%nextval(%%')
"""
)

_TABLES_SQL = (
    _TEMPLATE_RELATIONS
    + """
SELECT rel.relname,
       (SELECT array_agg(quote_ident(a.attname) ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
       (SELECT array_agg(a.attname::text) FROM pg_attribute a
         WHERE a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''),
       CASE WHEN rel.relkind = 'p' THEN pg_get_partkeydef(rel.oid) END
FROM rel WHERE rel.relkind IN ('r', 'p')
ORDER BY rel.relname
"""
)

# Primary keys, unique, check and exclusion constraints before foreign keys, which need them.
_CONSTRAINTS_SQL = (
    _TEMPLATE_RELATIONS
    + """
SELECT rel.relname, quote_ident(k.conname), pg_get_constraintdef(k.oid), k.contype
FROM rel JOIN pg_constraint k ON k.conrelid = rel.oid
WHERE rel.relkind IN ('r', 'p') AND k.contype IN ('p', 'u', 'c', 'x', 'f')
ORDER BY k.contype = 'f', rel.relname, k.conname
"""
)

# Indexes that no constraint owns (constraints create their own).
_INDEXES_SQL = (
    _TEMPLATE_RELATIONS
    + """
SELECT pg_get_indexdef(i.indexrelid)
FROM rel JOIN pg_index i ON i.indrelid = rel.oid
WHERE rel.relkind IN ('r', 'p') AND NOT EXISTS (
  SELECT 1 FROM pg_constraint k WHERE k.conrelid = rel.oid AND k.conindid = i.indexrelid)
ORDER BY i.indexrelid
"""
)

# The template only changes through migrations, so its catalog is read once per process and migration state.
_catalog_cache: dict[tuple[str, str], tuple[tuple, tuple | None]] = {}


def _template_signature(cursor, source: str) -> tuple:
    cursor.execute("SELECT to_regclass(%s)", [f"{_quote(source)}.django_migrations"])
    if cursor.fetchone()[0] is None:
        return ()
    cursor.execute(f"SELECT count(*), max(id), max(applied) FROM {_quote(source)}.django_migrations")
    return tuple(cursor.fetchone())


def _template_catalog(source: str) -> tuple | None:
    """(tables, constraints, indexes) of the template, or None when it holds what the fast path can't copy."""
    with connection.cursor() as cursor:
        signature = _template_signature(cursor, source)
        key = (connection.settings_dict["NAME"], source)
        cached = _catalog_cache.get(key)
        if cached and signature and cached[0] == signature:
            return cached[1]
        params = {"schema": source}
        cursor.execute(_UNSUPPORTED_OBJECTS_SQL, params)
        row = cursor.fetchone()
        if row is None or row[0] is None or row[0]:
            catalog = None
        else:
            cursor.execute(_TABLES_SQL, params)
            tables = cursor.fetchall()
            cursor.execute(_CONSTRAINTS_SQL, params)
            constraints = cursor.fetchall()
            cursor.execute(_INDEXES_SQL, params)
            indexes = [r[0] for r in cursor.fetchall()]
            catalog = (tables, constraints, indexes)
    if signature:
        _catalog_cache[key] = (signature, catalog)
    return catalog


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def template_clone_statements(source: str, target: str) -> list[str] | None:
    """The DDL and data copies that make `target` a clone of `source`; None when the fast path can't."""
    src, dst = _quote(source), _quote(target)
    catalog = _template_catalog(source)
    if catalog is None:
        return None
    tables, constraints, indexes = catalog

    def retarget(definition: str) -> str:
        # pg_get_*def qualify relations of the source schema; point them at the clone.
        for prefix in (f"{source}.", f"{src}."):
            # A partitioned table's index reads "ON ONLY": the clone has no partitions, so none to skip.
            definition = definition.replace(f" ON ONLY {prefix}", f" ON {dst}.")
            definition = definition.replace(f" ON {prefix}", f" ON {dst}.")
            definition = definition.replace(f"REFERENCES {prefix}", f"REFERENCES {dst}.")
        return definition

    statements = [f"CREATE SCHEMA {dst}"]
    for name, _, _, partition_key in tables:
        # Defaults, identity columns (with sequences of their own), storage, comments; not indexes or
        # constraints, which LIKE would rename: they are added below under their migration-given names.
        statements.append(
            f"CREATE TABLE {dst}.{_quote(name)} (LIKE {src}.{_quote(name)} INCLUDING DEFAULTS "
            "INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMMENTS "
            "INCLUDING COMPRESSION INCLUDING STATISTICS)"
            + (f" PARTITION BY {partition_key}" if partition_key else "")
        )
    for name, columns, identities, partition_key in tables:
        if partition_key:
            continue  # partitioned: its rows are its partitions', and the template has no partitions
        column_list = ", ".join(columns or [])
        statements.append(
            f"INSERT INTO {dst}.{_quote(name)} ({column_list}) OVERRIDING SYSTEM VALUE "
            f"SELECT {column_list} FROM {src}.{_quote(name)}"
        )
        for column in identities or []:
            # The clone's own identity sequence continues after the copied rows.
            table = f"{dst}.{_quote(name)}"
            statements.append(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"COALESCE((SELECT max({_quote(column)}) FROM {table}), 0) + 1, false)"
            )
    for table, constraint, definition, _ in constraints:
        statements.append(
            f"ALTER TABLE {dst}.{_quote(table)} ADD CONSTRAINT {constraint} {retarget(definition)}"
        )
    statements.extend(retarget(definition) for definition in indexes)
    return statements


def template_clone(target: str) -> None:
    """Create schema `target` as a copy of the template, structure and rows, in the current transaction."""
    source = template_schema_name()
    statements = template_clone_statements(source, target)
    if statements is None:
        CloneSchema().clone_schema(source, target, "DATA")
        return
    with connection.cursor() as cursor:
        # One round trip: psycopg sends a parameterless multi-statement string as a simple query.
        cursor.execute(";\n".join(statements))
