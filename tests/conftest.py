"""The shared test world, built once per test session.

- leader alice (US/CA members only) and leader bob, each with its own schema, so isolation can be asserted;
- staff carol in the public schema (the Django admin);
- alice's team: owner "olivia", manager "mark", responder "rita" (password "pass-word-123").

Tests that need committed data (HTTP to a live server, subprocess workers) use `live_db`, which does not
wrap the test in a transaction; such tests create their own rows with unique phone numbers. TransactionTestCase
style flushing is never used: it would truncate the public schema's leaders under every other test.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from leaders.models import Leader
from leaders.schemas import template_schema_migrate
from leaders.services import leader_create, leader_user_create

TEAM_PASSWORD = "pass-word-123"


@dataclasses.dataclass
class World:
    alice: Leader
    bob: Leader
    carol: User


def _build_world() -> World:
    template_schema_migrate()
    alice = leader_create(
        slug="alice", name="Alice Martin", phone_number="+12025550142", countries=["US", "CA"]
    )
    bob = leader_create(slug="bob", name="Bob Tremblay", phone_number="+15145550199")
    for username, role in (("olivia", "owner"), ("mark", "manager"), ("rita", "responder")):
        leader_user_create(leader=alice, username=username, role=role, password=TEAM_PASSWORD)
    leader_user_create(leader=bob, username="bruno", role="owner", password=TEAM_PASSWORD)
    carol = User.objects.create_superuser("carol", "carol@example.org", TEAM_PASSWORD)
    return World(alice=alice, bob=bob, carol=carol)


_world: World | None = None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    global _world
    with django_db_blocker.unblock():
        _world = _build_world()
    yield


@pytest.fixture(scope="session")
def world(django_db_setup) -> World:
    assert _world is not None
    return _world


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    """A test that switched schemas never leaks that into the next one."""
    yield
    if connection.connection is not None or connection.schema_name != "public":
        connection.set_schema_to_public()


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Database access without a wrapping transaction: what a test writes is committed."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture
def alice_schema(db, world):
    with schema_context(world.alice.schema_name):
        yield world.alice


@pytest.fixture
def bob_schema(db, world):
    with schema_context(world.bob.schema_name):
        yield world.bob
