"""What a queue worker process does about itself: giving the CPU to the web server first."""

from __future__ import annotations

import os

from django.conf import settings

_niced = False


def cpu_yield(*, cluster: str | None) -> None:
    """Lower this worker process's CPU priority, once (settings.TRIAGE_NICE), when it is one of `cluster`'s
    own workers: on a machine shared with the web server, a webhook's request always goes before a batch of
    background reading (triage, RSVPs), which only waits a little longer. Never a process that also sends
    the team's replies (the cluster's work queued to the default cluster) or one that runs a task inline
    (tests): a lower priority cannot be raised again."""
    global _niced
    if _niced:
        return
    from django_q.conf import Conf

    increment = int(getattr(settings, "TRIAGE_NICE", 19))
    if cluster and cluster == Conf.CLUSTER_NAME and increment > 0 and hasattr(os, "nice"):
        _niced = True
        os.nice(increment)
