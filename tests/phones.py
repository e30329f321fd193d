"""Phone numbers that belong to no one, for tests (see members.demo.fictional_number)."""

from __future__ import annotations

import itertools
import threading

from members.demo import FICTIONAL_LINES, fictional_number

TWILIO_VALID_SENDER = "+15005550006"
_counter = itertools.count()
_lock = threading.Lock()


def unique_phone() -> str:
    """A fictional number not handed out before in this test process."""
    with _lock:
        index = next(_counter)
    # Start past hand-picked numbers like +12025550142 and leaders' numbers (fictional_number(300)).
    index += 1000
    if index >= FICTIONAL_LINES:
        # Past the fictional lines, numbers are no longer valid: say so instead of failing obscurely.
        raise RuntimeError("tests used every fictional number: reuse numbers in rolled-back tests")
    return fictional_number(index)
