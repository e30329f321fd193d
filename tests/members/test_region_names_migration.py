"""members 0004: members stored when the gazetteer gave a bare GeoNames code as their region ("40" for Tokyo)
get the region's name in every leader's schema, brought by `manage.py platform_migrate` as a release brings it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import schema_context

from leaders.migrating import leader_schemas_missing
from leaders.models import Leader
from leaders.services import leader_create
from members.models import Member
from tests import builders
from tests.leaders.test_platform_migrate import platform_migrate
from tests.phones import unique_phone

MIGRATION = ("members", "0004_region_names")
BEFORE = ("members", "0003_exportrecord")

# (country, region as stored before) -> region after the migration
STORED = {
    ("JP", "40"): "Tokyo",
    ("IN", "16"): "Maharashtra",
    ("BR", "27"): "São Paulo",
    ("AU", "02"): "New South Wales",
    ("IN", "40"): "Telangana",  # a code means a region only within its country
    ("MC", "00"): "Municipality of Monaco",
    ("SG", "00"): "",  # GeoNames' "no first-level region"
    ("JP", "Tokyo"): "Tokyo",  # already a name: untouched
    ("MX", "Jalisco"): "Jalisco",
    ("CA", "Quebec"): "Quebec",
    ("DE", "Berlin"): "Berlin",
    ("FR", "Centre"): "Centre",
    ("CA", "40"): "40",  # no such code in Canada: left as it is
    ("US", ""): "",
}


@pytest.fixture
def leaders(live_db, world):
    made = [
        leader_create(slug=f"rgn-{unique_phone()[-6:]}", name="Regions", phone_number=unique_phone())
        for _ in range(2)
    ]
    yield made
    for leader in made:
        Leader.objects.get(pk=leader.pk).delete(force_drop=True)


def test_members_stored_with_a_region_code_get_its_name_in_every_leader_by_replayed_sql(leaders):
    members: dict[str, dict[int, str]] = {}
    for leader in leaders:
        with schema_context(leader.schema_name):
            members[leader.schema_name] = {
                builders.member(country=country, region=region).pk: expected
                for (country, region), expected in STORED.items()
            }
        # The leader as it was before this release: without the migration, nor any that came after it.
        with schema_context(leader.schema_name):
            MigrationExecutor(connection).migrate([BEFORE])
            assert MIGRATION not in MigrationRecorder(connection).applied_migrations()
    assert set(leader_schemas_missing()) == {leader.schema_name for leader in leaders}

    result = platform_migrate(None, "--parallel", "2", "--verbosity", "2")

    assert result.returncode == 0, result.stderr[-3000:]
    assert "migrated 2 leader schema(s) (2 replayed as SQL, 0 by a full migrate)" in result.stdout
    for schema, expected in members.items():
        with schema_context(schema):
            assert dict(Member.objects.filter(pk__in=expected).values_list("pk", "region")) == expected
    assert leader_schemas_missing() == {}
