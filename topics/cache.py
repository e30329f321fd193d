"""The leader's topics as hot paths read them (a member's "STOP HOUSING" on the inbound webhook, the signup
page's "What matters to you?"): a short per-process cache per schema, like the keyword replies'
(messaging.keyword_replies), so an ordinary text or a page view costs no query for them.

A topic saved or deleted in this process is seen at once (TopicsConfig.ready connects the signals); other
processes see it within TOPIC_CACHE_SECONDS.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from django.db import connection

from topics.models import Topic

TOPIC_CACHE_SECONDS = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class TopicRef:
    """What a hot path needs of a topic: its id, name and keywords (lower case, as Topic.clean stores them)."""

    id: int
    name: str
    keywords: tuple[str, ...]


_cache: dict[str, tuple[float, tuple[TopicRef, ...]]] = {}
_lock = threading.Lock()


def topics_cached() -> tuple[TopicRef, ...]:
    """The current schema's topics in the leader's order, from the cache while it is fresh (no query)."""
    schema = connection.schema_name
    now = time.monotonic()
    cached = _cache.get(schema)
    if cached is not None and cached[0] > now:
        return cached[1]
    topics = tuple(
        TopicRef(id=pk, name=name, keywords=tuple(keywords or ()))
        for pk, name, keywords in Topic.objects.order_by("position", "id").values_list(
            "id", "name", "keywords"
        )
    )
    with _lock:
        _cache[schema] = (now + TOPIC_CACHE_SECONDS, topics)
    return topics


def topic_cache_clear(**_signal_kwargs) -> None:
    with _lock:
        _cache.clear()
