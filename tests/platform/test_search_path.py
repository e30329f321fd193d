"""TENANT_LIMIT_SET_CALLS: `SET search_path` once per change of schema, and every query still in the right one."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from members.models import Member
from tests import builders
from tests.phones import unique_phone

pytestmark = pytest.mark.django_db


def sets(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lower().startswith("set search_path")]


def test_each_change_of_schema_sets_the_path_once_and_queries_stay_in_their_schema(world):
    alice_phone, bob_phone = unique_phone(), unique_phone()
    with schema_context(world.alice.schema_name):
        builders.member(phone=alice_phone)
    with schema_context(world.bob.schema_name):
        builders.member(phone=bob_phone)

    with CaptureQueriesContext(connection) as queries:
        seen = []
        for leader in (world.alice, world.bob, world.alice):
            with schema_context(leader.schema_name):
                seen.append(
                    set(
                        Member.objects.filter(phone__in=[alice_phone, bob_phone]).values_list(
                            "phone", flat=True
                        )
                    )
                )
                Member.objects.filter(phone=alice_phone).exists()  # a second query: no second SET

    assert seen == [{alice_phone}, {bob_phone}, {alice_phone}]
    assert len(sets(queries)) == 3


def test_after_a_rolled_back_savepoint_the_path_is_set_again(world):
    phone = unique_phone()
    with schema_context(world.bob.schema_name):
        builders.member(phone=phone)
    with schema_context(world.alice.schema_name):
        Member.objects.exists()
        try:
            with transaction.atomic():
                with schema_context(world.bob.schema_name):
                    Member.objects.exists()  # SET to bob inside the savepoint, undone by its rollback
                raise RuntimeError
        except RuntimeError:
            pass
        assert not Member.objects.filter(phone=phone).exists()  # alice's schema, not bob's
    with schema_context(world.bob.schema_name):
        assert Member.objects.filter(phone=phone).exists()
