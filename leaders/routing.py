"""Number → leader routing: which leader a phone number belongs to, from a short per-process cache.

Every webhook Twilio posts (texts, calls, delivery statuses) names the leader only by a number: `To` for
what fans send, `From` for the statuses of what we sent. A burst of texts to one number must not read the
public table once per text, so answers (misses included) are kept in the process for LEADER_CACHE_SECONDS.
A leader saved in this process (suspended in the admin, settings changed in a test) is seen at once: the
cache is cleared on `post_save` of `Leader` (connected in LeadersConfig.ready); other processes see the
change within LEADER_CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_save

from leaders.models import Leader

LEADER_CACHE_SECONDS = 5.0  # how stale a leader's settings (suspension included) may be in a web process
_LEADER_CACHE_MAX = 10_000

_leader_cache: dict[str, tuple[float, Leader | None]] = {}
_leader_cache_lock = threading.Lock()


def leader_for_number(number: str) -> Leader | None:
    """The active or suspended leader whose published number is `number` (E.164), or None.

    Cached in the process for a few seconds, misses included: a burst of texts to one number does not
    read the public table once per text. A leader's change of settings is seen within LEADER_CACHE_SECONDS.
    """
    now = time.monotonic()
    cached = _leader_cache.get(number)
    if cached is not None and cached[0] > now:
        return cached[1]
    leader = Leader.objects.filter(phone_number=number).first()
    with _leader_cache_lock:
        if len(_leader_cache) >= _LEADER_CACHE_MAX:
            _leader_cache.clear()
        _leader_cache[number] = (now + LEADER_CACHE_SECONDS, leader)
    return leader


def leader_cache_clear(**_signal_kwargs) -> None:
    """Forget every cached answer (a `post_save` receiver for `Leader`, and a helper for tests)."""
    with _leader_cache_lock:
        _leader_cache.clear()


def connect() -> None:
    """A leader saved in this process is routed with its new settings at once (LeadersConfig.ready)."""
    post_save.connect(leader_cache_clear, sender=Leader, dispatch_uid="leaders.leader_cache_clear")
