"""What topics does when a topic changes: hot paths' per-process cache of the topics (topics.cache) is
cleared at once. Connected in TopicsConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from topics.cache import topic_cache_clear
from topics.models import Topic


def connect() -> None:
    post_save.connect(topic_cache_clear, sender=Topic, dispatch_uid="topics.cache_save")
    post_delete.connect(topic_cache_clear, sender=Topic, dispatch_uid="topics.cache_delete")
