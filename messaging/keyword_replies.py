"""The leader's keywords (RALLY, VOLUNTEER…) as the inbound path reads them: one active keyword reply for a
whole text, from a short per-process cache."""

from __future__ import annotations

import threading
import time

from django.db import connection

from messaging.models import KeywordReply, keyword_normalize


def keyword_reply_find(text: str) -> KeywordReply | None:
    """The active keyword reply a whole inbound text matches ("rally", " Rally! "), or None."""
    keyword = keyword_normalize(text)
    if not keyword or len(keyword) > 40:
        return None
    return KeywordReply.objects.filter(keyword=keyword, is_active=True).first()


# The inbound path asks, for every plain text from a member, whether it is a keyword. The active keywords of
# each schema are kept in the process for a few seconds, so only a text that really is a keyword costs a
# query (its answer and tag come from the cache; adding the tag is one UPDATE). A keyword saved or deleted
# in this process is seen at once (signals connected in MessagingConfig.ready); other processes see it within KEYWORD_CACHE_SECONDS.
KEYWORD_CACHE_SECONDS = 5.0
_keyword_cache: dict[str, tuple[float, dict[str, tuple[str, str]]]] = {}
_keyword_cache_lock = threading.Lock()


def keyword_replies_cached() -> dict[str, tuple[str, str]]:
    """{normalised keyword: (reply, tag)} of the current schema's active keywords, cached briefly."""
    schema = connection.schema_name
    now = time.monotonic()
    cached = _keyword_cache.get(schema)
    if cached is not None and cached[0] > now:
        return cached[1]
    replies = {
        keyword: (reply, tag)
        for keyword, reply, tag in KeywordReply.objects.filter(is_active=True).values_list(
            "keyword", "reply", "tag"
        )
    }
    with _keyword_cache_lock:
        _keyword_cache[schema] = (now + KEYWORD_CACHE_SECONDS, replies)
    return replies


def keyword_reply_match(text: str) -> tuple[str, str] | None:
    """(reply, tag) of the active keyword this whole text is, or None; no query while the cache is fresh.

    Texts longer than any keyword could be are conversation: they are not even normalised.
    """
    if not text or len(text) > 80:
        return None
    keyword = keyword_normalize(text)
    if not keyword or len(keyword) > 40:
        return None
    return keyword_replies_cached().get(keyword)


def keyword_cache_clear(**_signal_kwargs) -> None:
    with _keyword_cache_lock:
        _keyword_cache.clear()
