"""Queue tasks for surveys: a schema name in, schema_context inside, the work in surveys.services.

They run in the bulk lane, the broadcasts' django-q cluster (``settings.SURVEY_CLUSTER``, by default
``BROADCAST_CLUSTER``): a survey to a hundred thousand members paces itself there for hours and never holds
a worker that sends the team's replies. The answers themselves never wait for the queue: the inbound webhook
answers them at once (inbound.services).

``surveys_sweep`` runs every minute (the schedule is made with the first run queued): it expires runs whose
member stayed silent past the survey's window, and starts a sender for leaders with runs due (quiet hours
over, a member's previous run ended, a sender that died).

The services are imported inside the tasks (the one accepted deferred import: services enqueue these).
"""

from __future__ import annotations

import contextlib
import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from django_tenants.utils import schema_context

from leaders.models import Leader

TASKS = "surveys.tasks"
SWEEP_SCHEDULE_NAME = "surveys-sweep"


def cluster() -> str | None:
    return getattr(settings, "SURVEY_CLUSTER", None) or getattr(settings, "BROADCAST_CLUSTER", None) or None


def senders() -> int:
    """Senders started at most for one survey: as many as a broadcast's dispatchers."""
    return max(1, int(getattr(settings, "BROADCAST_DISPATCHERS", 2)))


def enqueue_dispatch(schema_name: str, count: int = 1) -> None:
    sweep_schedule_ensure()
    for index in range(count):
        async_task(
            f"{TASKS}.runs_dispatch",
            schema_name,
            task_name=f"survey-runs-{schema_name}-{index}-{timezone.now().timestamp():.6f}"[:100],
            cluster=cluster(),
        )


def sweep_schedule_ensure() -> None:
    if not Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).exists():
        Schedule.objects.get_or_create(
            name=SWEEP_SCHEDULE_NAME,
            defaults={
                "func": f"{TASKS}.surveys_sweep",
                "schedule_type": Schedule.MINUTES,
                "minutes": 1,
                "repeats": -1,
                "cluster": cluster(),
            },
        )


@contextlib.contextmanager
def _sender_slot(schema_name: str):
    """One of the leader's `senders()` slots (a session advisory lock on this worker's connection, freed when
    it ends or dies), or None when all are taken: the sweep and every queued run may start a sender, and
    this keeps them to a few per leader, however many were enqueued."""
    key = f"community.surveys.sender.{schema_name}"
    with connection.cursor() as cursor:
        for slot in range(senders()):
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", [key, slot])
            if cursor.fetchone()[0]:
                try:
                    yield slot
                finally:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [key, slot])
                return
    yield None


def runs_dispatch(schema_name: str) -> str:
    """Send the first questions that are due, paced, for a few minutes; then hand over to a fresh task if
    there is more."""
    from surveys import services

    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    budget = float(getattr(settings, "BROADCAST_TIME_BUDGET", 240))
    with schema_context(schema_name):
        for _look in range(2):
            with _sender_slot(schema_name) as slot:
                if slot is None:
                    return "busy: the leader's senders are all at work"
                result = services.runs_dispatch(leader=leader, time_budget=budget)
            # A run queued while this sender was finishing found every slot taken: look once more, slot free.
            if result.outcome != "done" or not services.runs_due_exist():
                break
    if result.outcome == "budget":
        enqueue_dispatch(schema_name)
    # "later" (quiet hours, members busy with another run), "suspended": the minute sweep resumes them.
    return f"{result.outcome}: sent {result.sent}, skipped {result.skipped}, waiting {result.waiting}"


def surveys_sweep(now: datetime.datetime | None = None) -> str:
    """Every minute, for every active leader: expire silent runs, and start a sender when runs are due."""
    from surveys import services

    now = now or timezone.now()
    expired = started = 0
    for schema_name in (
        Leader.objects.filter(status=Leader.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    ):
        with schema_context(schema_name):
            expired += services.runs_expire(now=now)
            due = services.runs_due_exist(now=now)
        if due:
            enqueue_dispatch(schema_name)
            started += 1
    return f"expired {expired}, senders started {started}"
