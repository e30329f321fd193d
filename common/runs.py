"""A bounded run of a background reader (triage's texts, events' answers): batches until nothing is left or
its time is up, with one more look a little after it first finds nothing."""

from __future__ import annotations

import time
from collections.abc import Callable


def batches_run(step: Callable[[], int], *, seconds: float, last_look: float) -> tuple[int, bool]:
    """Call `step` (one batch: how many it did) until it does nothing or `seconds` have passed; (the total
    done, whether more may remain: the run stopped for its time). Finding nothing, it looks once more after
    `last_look` seconds: a text stored meanwhile whose kick was throttled (its process kicked a run a moment
    before, which found this one running and left) is this run's to take."""
    deadline = time.monotonic() + seconds
    done, looked_again = 0, False
    while True:
        count = step()
        done += count
        if count:
            looked_again = False
            if time.monotonic() > deadline:
                return done, True
            continue
        if looked_again or last_look <= 0:
            return done, False
        time.sleep(last_look)
        looked_again = True
