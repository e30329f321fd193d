"""Queue tasks of triage, on its own cluster (settings.TRIAGE_CLUSTER, "triage": started with
``Q_CLUSTER_NAME=triage python manage.py qcluster``), so that classifying a burst of texts never holds the
workers that send replies and confirmations, nor the broadcasts'. A schema name in; triage.services inside."""

from __future__ import annotations

from common.workers import cpu_yield
from triage import services


def triage_run(schema_name: str) -> int:
    """Triage what this leader has not yet triaged (a bounded run; it queues itself again if more remains)."""
    cpu_yield(cluster=services.triage_cluster())
    return services.triage_run(schema_name=schema_name)


def triage_sweep() -> int:
    """Every minute: a run for each leader whose run was wanted long ago and never came."""
    return services.triage_sweep()
