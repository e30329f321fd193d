"""Queue tasks of triage, on its own cluster (settings.TRIAGE_CLUSTER, "triage": started with
``Q_CLUSTER_NAME=triage python manage.py qcluster``), so that classifying a burst of texts never holds the
workers that send replies and confirmations, nor the broadcasts'. A schema name in; triage.services inside."""

from __future__ import annotations

import os

from django.conf import settings

from triage import services

_niced = False


def _yield_the_cpu() -> None:
    """Lower this worker process's CPU priority, once (settings.TRIAGE_NICE): on a machine shared with the web
    server, a webhook's request always goes before a batch of triage, which only waits a little longer."""
    global _niced
    if _niced:
        return
    _niced = True
    from django_q.conf import Conf

    # Only in the triage cluster's own workers: never a process that also sends replies (triage queued to the
    # default cluster, TRIAGE_CLUSTER empty) or one that runs a task inline (tests).
    cluster = getattr(settings, "TRIAGE_CLUSTER", "")
    increment = int(getattr(settings, "TRIAGE_NICE", 19))
    if cluster and cluster == Conf.CLUSTER_NAME and increment > 0 and hasattr(os, "nice"):
        os.nice(increment)


def triage_run(schema_name: str) -> int:
    """Triage what this leader has not yet triaged (a bounded run; it queues itself again if more remains)."""
    _yield_the_cpu()
    return services.triage_run(schema_name=schema_name)


def triage_sweep() -> int:
    """Every minute: a run for each leader whose run was wanted long ago and never came."""
    return services.triage_sweep()
