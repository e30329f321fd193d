"""The interests tests' shared pieces: the topics cache starts empty in each test (a rolled-back test's
topics must not linger in the process's cache), and a leader's topics are made by name."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from tests.console.conftest import in_alice, mark, olivia, rita  # noqa: F401 - the console's fixtures
from topics.cache import topic_cache_clear
from topics.models import Topic


@pytest.fixture(autouse=True)
def _fresh_caches():
    topic_cache_clear()
    leader_cache_clear()
    yield
    topic_cache_clear()
    leader_cache_clear()


def topic_named(leader, name: str, keywords: tuple[str, ...] = ()) -> Topic:
    """The leader's topic of that name, made (with these keywords) when it is not there yet."""
    with schema_context(leader.schema_name):
        topic, _created = Topic.objects.get_or_create(
            name=name, defaults={"keywords": list(keywords), "position": Topic.objects.count() + 1}
        )
        if keywords and list(topic.keywords) != list(keywords):
            topic.keywords = list(keywords)
            topic.save(update_fields=["keywords"])
        return topic
