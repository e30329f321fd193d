"""The template schema that new leaders are cloned from, and migrating every schema.

django-tenants clones TENANT_BASE_SCHEMA for each new leader (tables, indexes, sequences, and the rows of
django_migrations, contenttypes and permissions), so creation time does not grow with the number of
migrations. The template must therefore be migrated before any leader is: `platform_migrate` does both.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connection
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


def platform_migrate(*, parallel: int = 0, verbosity: int = 1) -> None:
    """Public schema, then the template, then every leader (in parallel processes when asked)."""
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
    call_command("createcachetable", verbosity=verbosity)  # settings.CACHES without REDIS_URL
    template_schema_migrate(verbosity=verbosity)
    options: dict = {"tenant": True, "interactive": False, "verbosity": verbosity}
    if parallel > 1:
        options["executor"] = "multiprocessing"
        settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = parallel
    call_command("migrate_schemas", **options)
    connection.set_schema_to_public()
