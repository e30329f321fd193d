"""A new leader's schema is an exact copy of the template: structure under the same names, and rows."""

from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from leaders.schemas import template_clone_statements, template_schema_name
from leaders.services import leader_create
from tests import builders
from tests.phones import unique_phone

SHAPE_SQL = """
SELECT 'column', c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || ' identity=' || a.attidentity::text
       || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'partitioned', c.relname || ' ' || pg_get_partkeydef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %(schema)s AND c.relkind = 'p'
UNION ALL
SELECT 'constraint', c.relname || ' ' || k.conname || ' ' || replace(pg_get_constraintdef(k.oid), %(schema)s || '.', '')
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
UNION ALL
SELECT 'index', replace(indexdef, %(schema)s || '.', '') FROM pg_indexes WHERE schemaname = %(schema)s
UNION ALL
SELECT 'relation', relkind::text || ' ' || relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND relkind <> 'i'
"""


def shape(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(SHAPE_SQL, {"schema": schema})
        return set(cursor.fetchall())


def rows(schema: str, table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY 1')
        return cursor.fetchall()


def test_the_template_is_cloned_by_the_fast_path_not_the_general_fallback(db):
    assert template_clone_statements(template_schema_name(), "leader_never_made") is not None


def test_a_cloned_schema_has_the_templates_tables_indexes_and_constraints_under_the_same_names(db):
    leader = leader_create(slug="clone-shape", name="Clone Shape", phone_number=unique_phone())
    template = shape(template_schema_name())
    assert len([kind for kind, _ in template if kind == "index"]) > 10
    assert ("partitioned", "messaging_delivery LIST (broadcast_id)") in template
    assert shape(leader.schema_name) == template
    for table in ("django_migrations", "django_content_type", "auth_permission"):
        assert rows(leader.schema_name, table) == rows(template_schema_name(), table)


def test_a_cloned_schema_enforces_constraints_and_numbers_new_rows_after_the_copied_ones(db):
    leader = leader_create(slug="clone-rows", name="Clone Rows", phone_number=unique_phone())
    with schema_context(leader.schema_name):
        from django.contrib.contenttypes.models import ContentType
        from django.db import IntegrityError, transaction

        # The identity sequences continue after the copied rows instead of colliding with them.
        highest = max(ContentType.objects.values_list("id", flat=True))
        created = ContentType.objects.create(app_label="probe", model="probe")
        assert created.id > highest
        phone = unique_phone()
        builders.member(phone=phone, first_name="Ana")
        with transaction.atomic(), connection.cursor() as cursor:
            try:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                builders.member(phone=phone, first_name="Twin")
                raise AssertionError("the unique phone constraint was not cloned")
            except IntegrityError:
                pass
        User.objects.create_user("clone-owner", password="x-y-z-123", role="owner")
        assert User.objects.filter(username="clone-owner").exists()
