"""Helpers for the console's tests: logged-in clients on a leader's host (members: tests.builders)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TEAM_PASSWORD


def host_of(leader) -> str:
    return leader.get_primary_domain().domain


def client_for(leader, username: str | None = None) -> Client:
    """A test client on the leader's host, logged in as `username` (through the login page) when given."""
    client = Client(HTTP_HOST=host_of(leader))
    if username:
        response = client.post("/login/", {"username": username, "password": TEAM_PASSWORD})
        assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def olivia(db, world):
    return client_for(world.alice, "olivia")


@pytest.fixture
def mark(db, world):
    return client_for(world.alice, "mark")


@pytest.fixture
def rita(db, world):
    return client_for(world.alice, "rita")


@pytest.fixture
def in_alice(db, world):
    with schema_context(world.alice.schema_name):
        yield world.alice


@pytest.fixture
def dana(db):
    """A leader of its own, created inside the test's transaction: exact figures, nothing shared."""
    from leaders.services import leader_create, leader_user_create
    from members.demo import fictional_number

    leader = leader_create(
        slug="dana", name="Dana Okafor", phone_number=fictional_number(300), countries=["US", "CA"]
    )
    leader.time_zone = "America/Toronto"
    leader.save(update_fields=["time_zone"])
    leader_user_create(leader=leader, username="dora", role="owner", password=TEAM_PASSWORD)
    leader_user_create(leader=leader, username="dmitri", role="manager", password=TEAM_PASSWORD)
    return leader
