"""Phone numbers that belong to no one, for tests (see signup.demo.fictional_number)."""

from __future__ import annotations

import itertools
import threading

from signup.demo import fictional_number

TWILIO_VALID_SENDER = "+15005550006"
_counter = itertools.count()
_lock = threading.Lock()


def unique_phone() -> str:
    """A fictional number not handed out before in this test process."""
    with _lock:
        index = next(_counter)
    # Start past the demo seed's first numbers and hand-picked ones like +12025550142.
    return fictional_number(20_000 + index)
