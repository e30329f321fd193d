"""Bringing every leader's schema to the template's migrations, at the scale of a thousand leaders.

django-tenants' `migrate` in one schema loads the migration graph, renders the project state and runs the
post_migrate handlers: a quarter to half a second even when the migration itself is one CREATE TABLE, so
a release that adds one tenant migration took minutes. Every leader is a clone of the template, migrated by
the same code, so a leader missing migrations M is in the state the template was in before M: the SQL those
migrations emit is the same in every such schema. It is generated once (one graph, one project state) and
replayed in each schema, in a transaction of its own, with the migration rows and the content types and
permissions that post_migrate would have created copied from the template.

What can't be replayed as SQL (RunPython, non-atomic or squashed migrations, custom operations, a schema that
was never migrated or holds migration rows the template lacks) goes through django-tenants' full migrate,
one schema at a time and each in one transaction, so a failure leaves that schema as it was and the others
still migrate.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import RunPython, SeparateDatabaseAndState

from leaders.models import Leader
from leaders.schemas import _MigrateSomeSchemas, _quote, template_schema_migrate, template_schema_name

# A replay that fails in the first schemas it is tried in (or leaves one unlike the template) is not
# trusted for the rest of its group: they get the full migrate instead.
PILOT_ATTEMPTS = 3


@dataclasses.dataclass
class PlatformMigration:
    """What platform_migrate did to the leaders' schemas."""

    replayed: list[str] = dataclasses.field(default_factory=list)  # brought up to date by replayed SQL
    migrated_fully: list[str] = dataclasses.field(default_factory=list)  # by django-tenants' full migrate
    failed: dict[str, str] = dataclasses.field(default_factory=dict)  # schema -> why, left as it was

    @property
    def migrated(self) -> list[str]:
        return [*self.replayed, *self.migrated_fully]


def leader_schemas_missing(*, chunk: int = 200) -> dict[str, tuple[tuple[str, str], ...] | None]:
    """Leaders' schemas behind the (migrated) template, in creation order, with the migrations each lacks.

    None instead of the migrations for a schema only a full migrate can bring up to date: missing, never
    migrated (no django_migrations table), or holding migration rows the template doesn't. A schema holding
    every row the template holds is in the template's state and is left out: `migrate` would only load the
    graph there to find nothing to do. One query per `chunk` schemas.
    """
    template = _quote(template_schema_name())
    names = list(Leader.objects.order_by("pk").values_list("schema_name", flat=True))
    missing: dict[str, tuple[tuple[str, str], ...] | None] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, app, name FROM {template}.django_migrations")
        rows = {row_id: (app, name) for row_id, app, name in cursor.fetchall()}
        cursor.execute(
            "SELECT n.nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
            "AND c.relname = 'django_migrations' AND c.relkind = 'r' WHERE n.nspname = ANY(%s)",
            [names],
        )
        existing = {row[0] for row in cursor.fetchall()}
        migrated = [n for n in names if n in existing]
        for start in range(0, len(migrated), chunk):
            part = migrated[start : start + chunk]
            # The template's ids of the rows the schema lacks (in the order the template applied them, which
            # the dependencies allow), and whether it has rows the template lacks.
            checks = " UNION ALL ".join(
                f"SELECT %s, ARRAY(SELECT t.id FROM {template}.django_migrations t WHERE NOT EXISTS ("
                f"SELECT 1 FROM {_quote(n)}.django_migrations m WHERE m.app = t.app AND m.name = t.name) "
                "ORDER BY t.id), "
                f"EXISTS (SELECT 1 FROM {_quote(n)}.django_migrations m WHERE NOT EXISTS ("
                f"SELECT 1 FROM {template}.django_migrations t WHERE t.app = m.app AND t.name = m.name))"
                for n in part
            )
            cursor.execute(checks, part)
            for name, lacking, extra in cursor.fetchall():
                if lacking:
                    missing[name] = None if extra else tuple(rows[row_id] for row_id in lacking)
    order = {name: index for index, name in enumerate(names)}
    for name in names:
        if name not in existing:
            missing[name] = None
    return dict(sorted(missing.items(), key=lambda item: order[item[0]]))


def leader_schemas_update(
    *,
    missing: dict[str, tuple[tuple[str, str], ...] | None],
    parallel: int = 0,
    verbosity: int = 1,
    write: Callable[[str], None] = print,
) -> PlatformMigration:
    """Bring the given schemas to the template's migrations: replayed SQL where it can, else a full migrate.

    Schemas lacking the same migrations form a group sharing one generated batch of SQL. The batch is tried
    first in one schema and checked against the template inside that schema's transaction (its tables,
    columns, constraints, indexes and rows) before it is committed; then it runs in the group's other schemas
    over `parallel` connections.
    """
    result = PlatformMigration()
    full: list[str] = [name for name, lacking in missing.items() if lacking is None]
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for name, lacking in missing.items():
        if lacking is not None:
            groups.setdefault(lacking, []).append(name)

    template = template_schema_name()
    loader = None
    for lacking, schemas in groups.items():
        if loader is None:
            loader = _migration_loader(template)
        batch = _replay_sql(
            loader=loader, lacking=lacking, schema=schemas[0], verbosity=verbosity, write=write
        )
        if batch is None:
            full.extend(schemas)
            continue
        expected = schema_signature(schema=template)
        pending = list(schemas)
        for _ in range(min(PILOT_ATTEMPTS, len(pending))):
            pilot = pending.pop(0)
            problem = _replay(schema=pilot, batch=batch, expected=expected)
            if problem is None:
                result.replayed.append(pilot)
                break
            if verbosity >= 2:
                write(f"replaying in {pilot} failed ({problem}): it gets a full migrate")
            full.append(pilot)
        else:
            full.extend(pending)  # no pilot took the batch: the others don't try it
            continue
        replayed, failed = _replay_in_parallel(schemas=pending, batch=batch, parallel=parallel)
        result.replayed.extend(replayed)
        if failed and verbosity >= 2:
            for schema, problem in failed.items():
                write(f"replaying in {schema} failed ({problem}): it gets a full migrate")
        # A schema the replay failed in may differ from its group in a way migrate handles: migrate tells.
        full.extend(failed)

    connection.set_schema_to_public()
    order = {name: index for index, name in enumerate(missing)}
    result.replayed.sort(key=order.__getitem__)
    migrated, failed = leader_schemas_migrate_fully(
        schemas=sorted(full, key=order.__getitem__), parallel=parallel, verbosity=verbosity
    )
    result.migrated_fully = migrated
    result.failed = failed
    return result


# --- generating the SQL once ---------------------------------------------------------------------------------


def _migration_loader(template: str):
    """The migration graph as seen from the migrated template (squashed migrations resolved as it has them)."""

    connection.set_schema(template)
    try:
        return MigrationLoader(connection, ignore_no_migrations=True)
    finally:
        connection.set_schema_to_public()


def _replayable(operation) -> bool:
    """An operation whose database effect is the SQL it emits: Django's own, except RunPython."""
    if isinstance(operation, RunPython):
        return False
    if isinstance(operation, SeparateDatabaseAndState):
        return all(_replayable(op) for op in operation.database_operations)
    return type(operation).__module__.startswith("django.db.migrations.operations.")


def _replay_sql(
    *, loader, lacking: tuple[tuple[str, str], ...], schema: str, verbosity: int, write: Callable[[str], None]
) -> str | None:
    """The SQL that brings a schema lacking `lacking` to the template, or None when it can't be replayed.

    Generated with `schema` (one of the schemas lacking them) as the connection's schema: django-tenants'
    router then treats the shared apps' operations as it does in a leader's schema (no SQL, only their
    migration rows), and what the schema editor introspects (constraint names to drop) is a schema in the
    state the SQL starts from. Names are unqualified: each replay sets its own search_path.
    """
    graph = loader.graph
    plan = []
    lacking_set = set(lacking)
    for key in lacking:
        migration = graph.nodes.get(key)
        if migration is None or migration.replaces or not migration.atomic:
            return _not_replayable(f"{key[0]}.{key[1]}", verbosity, write)
        if not all(_replayable(op) for op in migration.operations):
            return _not_replayable(f"{key[0]}.{key[1]} (RunPython or a custom operation)", verbosity, write)
        # A later migration the schema has while lacking this one: an inconsistent history, migrate's to judge.
        if any(child.key not in lacking_set for child in graph.node_map[key].children):
            return _not_replayable(f"{key[0]}.{key[1]} (a later migration is applied)", verbosity, write)
        plan.append(migration)

    applied = {key for key in loader.applied_migrations if key in graph.nodes and key not in lacking_set}
    # The state after what the schema has: from the latest of those, whose ancestors make the rest.
    latest = [
        key for key in applied if not any(child.key in applied for child in graph.node_map[key].children)
    ]
    statements: list[str] = []
    connection.set_schema(schema)
    try:
        state = graph.make_state(nodes=sorted(latest), at_end=True, real_apps=loader.unmigrated_apps)
        for migration in plan:
            # One schema editor per migration, as migrate has: its deferred SQL (indexes, foreign keys) runs
            # at the end of that migration.
            with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
                state = migration.apply(state, editor, collect_sql=True)
            statements.extend(editor.collected_sql)
    except Exception as exc:  # noqa: BLE001 - whatever stops the generation, migrate can still try
        return _not_replayable(f"generating its SQL failed: {exc}", verbosity, write)
    finally:
        connection.set_schema_to_public()

    template = _quote(template_schema_name())
    statements.extend(
        f"INSERT INTO django_migrations (app, name, applied) VALUES ({_literal(app)}, {_literal(name)}, now());"
        for app, name in lacking
    )
    statements.append(_CONTENT_TYPES_COPY.format(template=template))
    statements.append(_PERMISSIONS_COPY.format(template=template))
    return "\n".join(statements)


def _not_replayable(why: str, verbosity: int, write: Callable[[str], None]) -> None:
    if verbosity >= 2:
        write(f"not replayable as SQL: {why}; a full migrate instead")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# What post_migrate's create_contenttypes and create_permissions would add, copied from the template: its
# rows that the schema lacks, under the template's id where that id is free in the schema (a clone's ids
# match the template's), else a new one (the identity sequence is first moved past the copied ids).
_SEQUENCE_PAST_MAX = (
    "SELECT setval(s, GREATEST(COALESCE((SELECT max(id) FROM {table}), 0), "
    "COALESCE(pg_sequence_last_value(s), 0), 1)) "
    "FROM (SELECT pg_get_serial_sequence('{table}', 'id')::regclass AS s) seq;"
)
_CONTENT_TYPES_COPY = (
    """
INSERT INTO django_content_type (id, app_label, model)
SELECT t.id, t.app_label, t.model FROM {template}.django_content_type t
WHERE NOT EXISTS (SELECT 1 FROM django_content_type c WHERE c.app_label = t.app_label AND c.model = t.model)
  AND NOT EXISTS (SELECT 1 FROM django_content_type c WHERE c.id = t.id);
"""
    + _SEQUENCE_PAST_MAX.replace("{table}", "django_content_type")
    + """
INSERT INTO django_content_type (app_label, model)
SELECT t.app_label, t.model FROM {template}.django_content_type t
WHERE NOT EXISTS (SELECT 1 FROM django_content_type c WHERE c.app_label = t.app_label AND c.model = t.model);
"""
)
_PERMISSIONS_COPY = (
    """
INSERT INTO auth_permission (id, name, content_type_id, codename)
SELECT tp.id, tp.name, c.id, tp.codename FROM {template}.auth_permission tp
JOIN {template}.django_content_type tc ON tc.id = tp.content_type_id
JOIN django_content_type c ON c.app_label = tc.app_label AND c.model = tc.model
WHERE NOT EXISTS (SELECT 1 FROM auth_permission p WHERE p.content_type_id = c.id AND p.codename = tp.codename)
  AND NOT EXISTS (SELECT 1 FROM auth_permission p WHERE p.id = tp.id);
"""
    + _SEQUENCE_PAST_MAX.replace("{table}", "auth_permission")
    + """
INSERT INTO auth_permission (name, content_type_id, codename)
SELECT tp.name, c.id, tp.codename FROM {template}.auth_permission tp
JOIN {template}.django_content_type tc ON tc.id = tp.content_type_id
JOIN django_content_type c ON c.app_label = tc.app_label AND c.model = tc.model
WHERE NOT EXISTS (SELECT 1 FROM auth_permission p WHERE p.content_type_id = c.id AND p.codename = tp.codename);
"""
)


# --- replaying it in each schema -----------------------------------------------------------------------------


def _search_path(schema: str) -> str:
    """What django-tenants sets for a leader's schema: the schema, then public (and any extra ones)."""
    return ", ".join(_quote(s) for s in [schema, "public", *getattr(settings, "PG_EXTRA_SEARCH_PATHS", [])])


def _replay(*, schema: str, batch: str, expected: set[tuple] | None = None) -> str | None:
    """Run `batch` in `schema`, in one transaction sent in one round trip; None when it committed, else why.

    With `expected` (the template's signature), the schema is compared with it before the commit, and the
    transaction rolled back when they differ. One transaction per schema: the locks DDL takes are held until
    the commit, and a thousand schemas' worth would overflow PostgreSQL's lock table.
    """
    head = f"BEGIN;\nSET LOCAL search_path = {_search_path(schema)};\n{batch}\n"
    try:
        with connection.cursor() as cursor:
            # Without parameters psycopg sends the string as one simple query: one round trip.
            if expected is None:
                cursor.execute(head + "COMMIT;")
                return None
            cursor.execute(head)
            actual = schema_signature(schema=schema, cursor=cursor)
            differences = signature_differences(expected=expected, actual=actual)
            cursor.execute("ROLLBACK" if differences else "COMMIT")
            return f"unlike the template afterwards: {differences}" if differences else None
    except DatabaseError as exc:
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
        return _one_line(exc)


def _replay_in_parallel(*, schemas: list[str], batch: str, parallel: int) -> tuple[list[str], dict[str, str]]:
    """`_replay` in every schema over `parallel` connections (threads: the work is the server's)."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for schema in schemas:
        todo.put(schema)
    replayed: list[str] = []
    failed: dict[str, str] = {}

    def work() -> None:
        try:
            while True:
                try:
                    schema = todo.get_nowait()
                except queue.Empty:
                    return
                problem = _replay(schema=schema, batch=batch)
                if problem is None:
                    replayed.append(schema)
                else:
                    failed[schema] = problem
        finally:
            connections.close_all()  # this thread's connection

    threads = [threading.Thread(target=work) for _ in range(max(1, min(parallel, len(schemas))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replayed, failed


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the full migrate, one schema at a time ------------------------------------------------------------------


def schema_migrate_fully(schema: str, verbosity: int = 0) -> str | None:
    """django-tenants' migrate in `schema`; None when it succeeded, else why (the schema left as it was).

    The whole migrate, post_migrate included, runs in one transaction, unless a migration of the project is
    non-atomic (CREATE INDEX CONCURRENTLY can't run in a transaction): then each migration has its own, as
    migrate gives it.
    """

    command = _MigrateSomeSchemas.command([schema])
    try:
        if _all_migrations_atomic():
            with transaction.atomic():
                call_command(command, tenant=True, interactive=False, verbosity=verbosity)
        else:
            call_command(command, tenant=True, interactive=False, verbosity=verbosity)
    except Exception as exc:  # noqa: BLE001 - reported by name; the other schemas go on
        return _one_line(exc)
    finally:
        connection.set_schema_to_public()
    return None


_atomic: bool | None = None


def _all_migrations_atomic() -> bool:
    global _atomic
    if _atomic is None:
        loader = MigrationLoader(None, ignore_no_migrations=True)
        _atomic = all(migration.atomic for migration in loader.disk_migrations.values())
    return _atomic


def _schema_migrate_fully_in_child(args: tuple[str, int]) -> tuple[str, str | None]:
    schema, verbosity = args
    try:
        return schema, schema_migrate_fully(schema, verbosity)
    finally:
        connections.close_all()


def leader_schemas_migrate_fully(
    *, schemas: list[str], parallel: int = 0, verbosity: int = 1
) -> tuple[list[str], dict[str, str]]:
    """The full migrate in each schema, one transaction each, in `parallel` forked processes when asked
    (the graph loading it repeats in each schema is Python's work). Returns (migrated, failed: why)."""
    if not schemas:
        return [], {}
    _all_migrations_atomic()  # once, before the processes fork
    jobs = [(schema, verbosity) for schema in schemas]
    if parallel > 1 and len(schemas) > 1:
        # The children inherit the loaded apps (fork) but must not share this process's connection.
        connections.close_all()
        with multiprocessing.get_context("fork").Pool(min(parallel, len(schemas))) as pool:
            outcomes = pool.map(_schema_migrate_fully_in_child, jobs, chunksize=1)
    else:
        outcomes = [(schema, schema_migrate_fully(schema, verbosity)) for schema in schemas]
    migrated = [schema for schema, problem in outcomes if problem is None]
    failed = {schema: problem for schema, problem in outcomes if problem is not None}
    return migrated, failed


# --- comparing a schema with the template --------------------------------------------------------------------

# Tables, columns, constraints and indexes by name, with PostgreSQL's own rendering of each definition.
# Partitions (a leader's broadcasts' deliveries) are left out: the template has none.
_SIGNATURE_SQL = """
WITH rel AS (
  SELECT c.oid, c.relname, c.relkind FROM pg_class c
  WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
    AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
)
SELECT 'table', rel.relname, '', rel.relkind::text FROM rel
UNION ALL
SELECT 'column', rel.relname, a.attname::text, concat_ws(' ', format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN 'NOT NULL' END, 'identity ' || nullif(a.attidentity::text, ''),
       'generated ' || nullif(a.attgenerated::text, ''), 'default ' || pg_get_expr(d.adbin, d.adrelid),
       'collate ' || nullif(a.attcollation, 0)::regcollation::text)
FROM rel JOIN pg_attribute a ON a.attrelid = rel.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = rel.oid AND d.adnum = a.attnum
UNION ALL
SELECT 'constraint', rel.relname, k.conname::text, pg_get_constraintdef(k.oid)
FROM rel JOIN pg_constraint k ON k.conrelid = rel.oid AND k.conparentid = 0
UNION ALL
SELECT 'index', rel.relname, i.relname::text, pg_get_indexdef(x.indexrelid)
FROM rel JOIN pg_index x ON x.indrelid = rel.oid JOIN pg_class i ON i.oid = x.indexrelid
"""


def schema_signature(*, schema: str, cursor=None) -> set[tuple]:
    """What must be equal between a leader's schema and the template: tables, columns, constraints, indexes,
    and the rows of django_migrations, content types and permissions (by name, not id)."""
    if cursor is None:
        with connection.cursor() as own:
            return schema_signature(schema=schema, cursor=own)
    q = _quote(schema)
    cursor.execute(_SIGNATURE_SQL, {"schema": schema})
    # PostgreSQL qualifies names with the schema in definitions (ON "x".table, REFERENCES x.table).
    prefixes = (f"{q}.", f"{schema}.")

    def bare(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    signature = {(kind, table, name, bare(definition)) for kind, table, name, definition in cursor.fetchall()}
    cursor.execute(f"SELECT 'migration', app, name, '' FROM {q}.django_migrations")
    signature.update(cursor.fetchall())
    cursor.execute(f"SELECT 'content type', app_label, model, '' FROM {q}.django_content_type")
    signature.update(cursor.fetchall())
    cursor.execute(
        f"SELECT 'permission', c.app_label || '.' || c.model, p.codename, p.name FROM {q}.auth_permission p "
        f"JOIN {q}.django_content_type c ON c.id = p.content_type_id"
    )
    signature.update(cursor.fetchall())
    return signature


def signature_differences(*, expected: set[tuple], actual: set[tuple]) -> str:
    """'' when a schema matches the template, else the first few differences. Tables the template lacks
    (a broadcast's delivery table not yet attached) are the leader's own and not compared."""
    tables = {row[1] for row in expected if row[0] == "table"}
    actual = {
        row for row in actual if row[0] in ("migration", "content type", "permission") or row[1] in tables
    }
    lacking, extra = sorted(expected - actual), sorted(actual - expected)
    if not lacking and not extra:
        return ""
    return "; ".join([*(f"lacks {row}" for row in lacking[:3]), *(f"has {row}" for row in extra[:3])])


def platform_migrate(
    *,
    parallel: int = 0,
    verbosity: int = 1,
    everything: bool = False,
    full: bool = False,
    write: Callable[[str], None] = print,
) -> PlatformMigration:
    """Public schema, then the template, then every leader's schema behind the template.

    The template is migrated by Django's own path; the leaders get the SQL that did it, replayed in each
    schema (`leaders.migrating`), or the full migrate where that can't be done. Each leader's schema is
    migrated in a transaction of its own: one that fails is left as it was, reported in the returned
    PlatformMigration, and the others go on. `everything` runs the full migrate in every leader's schema
    even when its migration rows match the template's. `full` is the path before the replay existed:
    django-tenants' migrate in each schema behind, stopping at the first failure (the bench's baseline).
    """
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    template_schema_migrate(verbosity=verbosity)
    if everything:
        schemas = list(Leader.objects.order_by("pk").values_list("schema_name", flat=True))
    else:
        missing = leader_schemas_missing()
        schemas = list(missing)
    if full:
        if schemas:
            options: dict = {"tenant": True, "interactive": False, "verbosity": verbosity}
            if parallel > 1 and len(schemas) > 1:
                options["executor"] = "multiprocessing"
                settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = parallel
            call_command(_MigrateSomeSchemas.command(schemas), **options)
        connection.set_schema_to_public()
        return PlatformMigration(migrated_fully=schemas)
    if everything:
        migrated, failed = leader_schemas_migrate_fully(
            schemas=schemas, parallel=parallel, verbosity=verbosity
        )
        result = PlatformMigration(migrated_fully=migrated, failed=failed)
    else:
        result = leader_schemas_update(missing=missing, parallel=parallel, verbosity=verbosity, write=write)
    connection.set_schema_to_public()
    return result
