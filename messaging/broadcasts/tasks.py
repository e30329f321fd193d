"""Queue tasks for broadcasts, in their own lane: ids and a schema name in, schema_context inside.

Broadcast work runs in a separate django-q cluster (``settings.BROADCAST_CLUSTER``, "broadcasts": started
with ``Q_CLUSTER_NAME=broadcasts python manage.py qcluster``), with its own queue and workers. One-to-one
replies and automatic texts (``messaging.tasks.message_send``) stay in the default cluster, so a
million-member broadcast, pacing itself for hours, never holds a worker or a queue slot they need.

django-q stores these functions' dotted paths (``messaging.broadcasts.tasks.…``) in queued tasks and
``Schedule`` rows. Rows stored before the move name ``messaging.broadcast_tasks.…``, a re-export kept for
that; ``sweep_schedule_ensure`` (run by every sweep) rewrites them to the paths here.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Q, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from django_tenants.utils import schema_context

from leaders.models import Leader
from messaging.broadcasts import dispatch, feedback, queueing
from messaging.models import Broadcast, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

TASKS = "messaging.broadcasts.tasks"  # the dotted path django-q stores for the functions below
OLD_TASKS = "messaging.broadcast_tasks"  # where they were before 2026-12: see messaging/broadcast_tasks.py
SWEEP_SCHEDULE_NAME = "broadcasts-sweep"
IDLE_AFTER = datetime.timedelta(minutes=2)  # a sending broadcast with no batch recorded for this long
# A broadcast sent on its way this long ago and still not claimed by a worker: its start task was lost.
STARTING_LOST_AFTER = datetime.timedelta(minutes=1)


def cluster() -> str | None:
    return getattr(settings, "BROADCAST_CLUSTER", "broadcasts") or None


def dispatchers() -> int:
    return max(1, int(getattr(settings, "BROADCAST_DISPATCHERS", 2)))


def _async(func: str, *args, task_name: str) -> None:
    async_task(f"{TASKS}.{func}", *args, task_name=task_name, cluster=cluster())


def enqueue_start(broadcast_id: int, schema_name: str) -> None:
    sweep_schedule_ensure()
    _async(
        "broadcast_start",
        broadcast_id,
        schema_name,
        task_name=f"broadcast-start-{schema_name}-{broadcast_id}",
    )


def enqueue_dispatch(broadcast_id: int, schema_name: str, count: int = 1) -> None:
    for index in range(count):
        _async(
            "broadcast_dispatch",
            broadcast_id,
            schema_name,
            task_name=f"broadcast-dispatch-{schema_name}-{broadcast_id}-{index}",
        )


def schedule_start(broadcast_id: int, schema_name: str, at: datetime.datetime) -> None:
    sweep_schedule_ensure()
    Schedule.objects.update_or_create(
        name=f"broadcast-start-{schema_name}-{broadcast_id}",
        defaults={
            "func": f"{TASKS}.broadcast_start",
            "args": f"{broadcast_id!r}, {schema_name!r}",
            "schedule_type": Schedule.ONCE,
            "next_run": at,
            "repeats": 1,
            "cluster": cluster(),
        },
    )


def sweep_schedule_ensure() -> None:
    """The minute-by-minute sweep: starts due scheduled broadcasts, resumes ones whose workers died or
    that waited for quiet hours to end.

    Also moves schedules stored before the tasks moved here (the sweep itself, scheduled starts) from
    ``messaging.broadcast_tasks.…`` to this module's paths: the sweep calls this, so the first sweep after
    a deployment moves them all, the sweep's own row included.
    """
    Schedule.objects.filter(func__startswith=f"{OLD_TASKS}.").update(
        func=Concat(Value(f"{TASKS}."), Substr("func", len(OLD_TASKS) + 2))
    )
    if not Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).exists():
        Schedule.objects.create(
            name=SWEEP_SCHEDULE_NAME,
            func=f"{TASKS}.broadcasts_sweep",
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
            cluster=cluster(),
        )


def _leader(schema_name: str):
    return Leader.objects.filter(schema_name=schema_name).first()


def broadcast_start(broadcast_id: int, schema_name: str) -> str:
    """Queue the recipients (one INSERT … SELECT), then start the dispatchers."""
    leader = _leader(schema_name)
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
        if broadcast is None:
            return "no such broadcast"
        count = queueing.broadcast_queue(leader=leader, broadcast=broadcast)
        broadcast.refresh_from_db(fields=["status"])
        if broadcast.status != Broadcast.Status.SENDING:
            return f"not started ({broadcast.status})"
    enqueue_dispatch(broadcast_id, schema_name, count=min(dispatchers(), max(1, count // 1000 + 1)))
    return f"queued {count}"


def broadcast_dispatch(broadcast_id: int, schema_name: str) -> str:
    """Send what is due for a few minutes, then hand over to a fresh task if there is more."""
    leader = _leader(schema_name)
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        budget = float(getattr(settings, "BROADCAST_TIME_BUDGET", 240))
        result = dispatch.broadcast_dispatch(leader=leader, broadcast_id=broadcast_id, time_budget=budget)
    if result.outcome == "budget":
        enqueue_dispatch(broadcast_id, schema_name)
    # "later" (quiet hours, retries), "suspended": the minute sweep resumes it when due.
    return f"{result.outcome}: sent {result.sent}, failed {result.failed}, skipped {result.skipped}"


def broadcasts_sweep(now: datetime.datetime | None = None) -> str:
    """Every minute: start scheduled broadcasts that are due, and restart sending broadcasts that have
    deliveries due (or stale claims) but no worker (none recorded a batch for IDLE_AFTER)."""
    sweep_schedule_ensure()
    now = now or timezone.now()
    started = restarted = 0
    for leader in Leader.objects.filter(status=Leader.Status.ACTIVE).exclude(schema_name="public"):
        schema_name = leader.schema_name
        with schema_context(schema_name):
            # Due scheduled broadcasts, and broadcasts sent on their way a minute ago whose start task was
            # lost (still a draft: no worker claimed them).
            due = Q(status=Broadcast.Status.SCHEDULED, send_at__lte=now) | Q(
                status=Broadcast.Status.DRAFT, submitted_at__lte=now - STARTING_LOST_AFTER
            )
            for broadcast_id in Broadcast.objects.filter(due).values_list("pk", flat=True):
                _async(
                    "broadcast_start", broadcast_id, schema_name, task_name=f"broadcast-start-{broadcast_id}"
                )
                started += 1
            for broadcast in Broadcast.objects.filter(status=Broadcast.Status.SENDING):
                if broadcast.heartbeat_at and broadcast.heartbeat_at > now - IDLE_AFTER:
                    continue
                dispatch.deliveries_sweep(broadcast_id=broadcast.pk)
                due = Delivery.objects.filter(
                    broadcast_id=broadcast.pk, status=DeliveryStatus.QUEUED, due_at__lte=now
                ).exists()
                if due:
                    Broadcast.objects.filter(pk=broadcast.pk).update(heartbeat_at=now)
                    enqueue_dispatch(broadcast.pk, schema_name, count=dispatchers())
                    restarted += 1
                else:
                    feedback.broadcast_complete_if_done(broadcast_id=broadcast.pk)
    return f"started {started}, restarted {restarted}"
