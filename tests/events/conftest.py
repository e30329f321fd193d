"""The events tests' fixtures: alice open all day (no quiet hours) with fresh leader caches, and the API's
token clients (tests/api/conftest.py's, shared)."""

import pytest

from leaders.routing import leader_cache_clear
from tests.api.conftest import manager_api, owner_api, responder_api  # noqa: F401 - fixtures
from tests.surveys.helpers import open_all_day


@pytest.fixture(autouse=True)
def _no_last_look(monkeypatch):
    """A reader's run looks once more a second after it finds nothing (events.services.answers_read): the
    tests run the reader right after each answer, and wait for no answer still on its way."""
    monkeypatch.setattr("events.services.ANSWERS_LAST_LOOK", 0)


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


@pytest.fixture
def alice(world, settings):
    """Alice's leader texting at any hour (test_reminders.py has its own, with quiet hours)."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    leader = open_all_day(world.alice)
    leader_cache_clear()
    return leader
