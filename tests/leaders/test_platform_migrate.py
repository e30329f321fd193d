"""platform_migrate at platform scale: a new tenant migration reaches every leader by replayed SQL.

Each test adds a throwaway tenant app ("pm_probe") through a settings module in tmp_path and runs
`manage.py platform_migrate` in a subprocess with it, as a release would; afterwards every trace of the app
(tables, migration rows, content types, permissions) is removed from every schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from leaders.migrating import leader_schemas_missing, schema_signature, signature_differences
from leaders.models import Leader, schema_name_for
from leaders.schemas import template_schema_name
from leaders.services import leader_create
from tests import migration_probe
from tests.leaders.test_commands import test_database_url
from tests.migration_probe import CREATE_PROBE
from tests.phones import unique_phone

ROOT = Path(__file__).resolve().parents[2]
PROBE_APP = "pm_probe"
PROBE_TABLE = "pm_probe_probe"

SEED_PROBE = """
from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("pm_probe", "Probe").objects.create(label="seeded")


class Migration(migrations.Migration):
    dependencies = [("pm_probe", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
"""


def probe_app(folder: Path, *, migrations: dict[str, str]) -> Path:
    """The throwaway app with the given migrations, and a settings module adding it to TENANT_APPS."""
    migration_probe.probe_app(folder, app=PROBE_APP, migrations=migrations)
    return folder


def platform_migrate(folder: Path | None, *args: str) -> subprocess.CompletedProcess:
    """`manage.py platform_migrate` on the test database, with the probe app when `folder` holds it."""
    env = {**os.environ, "DATABASE_URL": test_database_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if folder is not None:
        env["DJANGO_SETTINGS_MODULE"] = "pm_probe_settings"
        env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "manage.py", "platform_migrate", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def probe_remove() -> None:
    """Every trace of the probe app, from every schema (public's migration rows and content types too)."""
    migration_probe.probe_remove(app=PROBE_APP)


def leader_schemas() -> list[str]:
    return list(Leader.objects.order_by("pk").values_list("schema_name", flat=True))


def assert_every_leader_is_like_the_template() -> None:
    expected = schema_signature(schema=template_schema_name())
    assert ("migration", PROBE_APP, "0001_initial", "") in expected
    assert ("content type", PROBE_APP, "probe", "") in expected
    for schema in leader_schemas():
        differences = signature_differences(expected=expected, actual=schema_signature(schema=schema))
        assert not differences, f"{schema}: {differences}"


@pytest.fixture
def leaders(live_db, world):
    """Three more leaders than the shared world's, removed afterwards with every trace of the probe."""
    made = [
        leader_create(slug=f"pmr-{unique_phone()[-6:]}", name="Release", phone_number=unique_phone())
        for _ in range(3)
    ]
    yield made
    for leader in made:
        Leader.objects.get(pk=leader.pk).delete(force_drop=True)
    probe_remove()


def test_a_new_migration_reaches_every_leader_by_replayed_sql_and_leaves_each_like_the_template(
    leaders, tmp_path
):
    # A leader whose schema exists but was never migrated: only the full migrate can build it.
    bare = Leader(slug=f"pmr-bare-{unique_phone()[-6:]}", name="Bare", phone_number=unique_phone())
    bare.schema_name = schema_name_for(bare.slug)
    bare.auto_create_schema = False
    bare.save()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{bare.schema_name}"')
    leaders.append(bare)

    result = platform_migrate(
        probe_app(tmp_path, migrations={"0001_initial": CREATE_PROBE}), "--parallel", "2"
    )

    assert result.returncode == 0, result.stderr[-3000:]
    replayed = len(leader_schemas()) - 1
    assert f"({replayed} replayed as SQL, 1 by a full migrate)" in result.stdout
    assert_every_leader_is_like_the_template()
    assert leader_schemas_missing() == {}


def test_a_schema_the_replay_fails_in_is_named_left_as_it_was_and_the_others_still_migrate(leaders, tmp_path):
    broken = leaders[-1].schema_name
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE TABLE "{broken}".{PROBE_TABLE} (note text)')
    before = schema_signature(schema=broken)

    result = platform_migrate(
        probe_app(tmp_path, migrations={"0001_initial": CREATE_PROBE}), "--parallel", "2", "--verbosity", "2"
    )

    assert result.returncode != 0
    failures = [line for line in result.stderr.splitlines() if "failed, left as it was" in line]
    assert len(failures) == 1 and failures[0].startswith(f"{broken}: ")
    assert PROBE_TABLE in failures[0]  # the reason: the table already exists
    assert f"replaying in {broken} failed" in result.stdout
    assert "1 leader schema(s) failed to migrate" in result.stderr
    assert schema_signature(schema=broken) == before
    others = [schema for schema in leader_schemas() if schema != broken]
    assert f"migrated {len(others)} leader schema(s) ({len(others)} replayed as SQL, 0 by" in result.stdout
    expected = schema_signature(schema=template_schema_name())
    for schema in others:
        assert not signature_differences(expected=expected, actual=schema_signature(schema=schema))
    assert list(leader_schemas_missing()) == [broken]


def test_a_runpython_migration_falls_back_to_the_full_migrate_and_still_reaches_every_leader(
    leaders, tmp_path
):
    folder = probe_app(tmp_path, migrations={"0001_initial": CREATE_PROBE, "0002_seed": SEED_PROBE})

    result = platform_migrate(folder, "--parallel", "2", "--verbosity", "2")

    assert result.returncode == 0, result.stderr[-3000:]
    count = len(leader_schemas())
    assert (
        f"migrated {count} leader schema(s) (0 replayed as SQL, {count} by a full migrate)" in result.stdout
    )
    assert "not replayable as SQL: pm_probe.0002_seed (RunPython" in result.stdout
    assert_every_leader_is_like_the_template()
    with connection.cursor() as cursor:
        for schema in leader_schemas():
            cursor.execute(f'SELECT label FROM "{schema}".{PROBE_TABLE}')
            assert cursor.fetchall() == [("seeded",)]


def test_nothing_to_apply_is_quick_and_migrates_nothing(live_db, world):
    assert leader_schemas_missing() == {}
    started = time.perf_counter()
    result = platform_migrate(None)
    seconds = time.perf_counter() - started

    assert result.returncode == 0, result.stderr[-3000:]
    assert "migrated 0 leader schema(s) (0 replayed as SQL, 0 by a full migrate)" in result.stdout
    assert seconds < 30  # a Python start, two migrate passes and one query: a few seconds on a slow runner
