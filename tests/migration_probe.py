"""A throwaway tenant app whose migrations the caller chooses, to exercise `platform_migrate` against a real
new migration: the tests (tests/leaders/test_platform_migrate.py) and the bench (bench/leaders.py) use it.

The app lives in a temporary folder with a settings module that adds it to TENANT_APPS; a `manage.py`
started with `DJANGO_SETTINGS_MODULE=<app>_settings` and the folder on PYTHONPATH sees it. Import this
module only once Django is set up.
"""

from __future__ import annotations

from pathlib import Path

from django.db import connection, transaction

CREATE_PROBE = """
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Probe",
            fields=[
                ("id", models.BigAutoField(primary_key=True)),
                ("label", models.CharField(max_length=40, db_index=True)),
            ],
        ),
    ]
"""


def probe_app(folder: Path, *, app: str, migrations: dict[str, str]) -> str:
    """Write app `app` (one model, Probe, and `migrations` by name) and its settings module into `folder`;
    returns the settings module's name."""
    package = folder / app
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(
        "from django.db import models\n\n\nclass Probe(models.Model):\n"
        "    label = models.CharField(max_length=40, db_index=True)\n"
    )
    (package / "migrations" / "__init__.py").write_text("")
    for name, source in migrations.items():
        (package / "migrations" / f"{name}.py").write_text(source)
    settings_module = f"{app}_settings"
    (folder / f"{settings_module}.py").write_text(
        "from community.settings import *  # noqa: F403\n\n"
        f"TENANT_APPS = [*TENANT_APPS, {app!r}]  # noqa: F405\n"
        f"INSTALLED_APPS = [*INSTALLED_APPS, {app!r}]  # noqa: F405\n"
    )
    return settings_module


def probe_schemas(*, app: str) -> int:
    """How many schemas hold the app's table (leaders' and the template's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = %s", [f"{app}_probe"]
        )
        return cursor.fetchone()[0]


def probe_remove(*, app: str, schemas: list[str] | None = None) -> None:
    """Every trace of the app (its table, migration rows, content types and permissions) from `schemas`, by
    default from every schema, public included (also what an interrupted run left behind).

    One transaction per schema: dropping a table in a thousand schemas at once would need more locks than
    PostgreSQL's default lock table holds.
    """
    if schemas is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'django_migrations'"
            )
            schemas = [row[0] for row in cursor.fetchall()]
    for schema in schemas:
        with transaction.atomic(), connection.cursor() as cursor:
            q = f'"{schema}"'
            cursor.execute(f"DROP TABLE IF EXISTS {q}.{app}_probe")
            cursor.execute(f"DELETE FROM {q}.django_migrations WHERE app = %s", [app])
            cursor.execute(
                f"DELETE FROM {q}.auth_permission WHERE content_type_id IN "
                f"(SELECT id FROM {q}.django_content_type WHERE app_label = %s)",
                [app],
            )
            cursor.execute(f"DELETE FROM {q}.django_content_type WHERE app_label = %s", [app])
    connection.set_schema_to_public()
