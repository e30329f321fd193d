"""Queue tasks for surveys: a schema name in, schema_context inside, the work in surveys.services.

They run in the bulk lane, the broadcasts' django-q cluster (``settings.SURVEY_CLUSTER``, by default
``BROADCAST_CLUSTER``): a survey to a hundred thousand members paces itself there for hours and never holds
a worker that sends the team's replies. The answers themselves never wait for the queue: the inbound webhook
answers them at once (inbound.services).

``surveys_sweep`` runs every minute (the schedule is made with the first run queued): it expires runs whose
member stayed silent past the survey's window, and starts a sender for leaders with runs due (quiet hours
over, a member's previous run ended, a sender that died).

Enqueueing them (and the sweep's schedule) is the services' (`senders_enqueue`), which name them by their
dotted path, as django-q stores it.
"""

from __future__ import annotations

import contextlib
import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from surveys import services
from surveys.services import senders, senders_enqueue


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
        senders_enqueue(schema_name)
    # "later" (quiet hours, members busy with another run), "suspended": the minute sweep resumes them.
    return f"{result.outcome}: sent {result.sent}, skipped {result.skipped}, waiting {result.waiting}"


def surveys_sweep(now: datetime.datetime | None = None) -> str:
    """Every minute, for every active leader: expire silent runs, and start a sender when runs are due."""
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
            senders_enqueue(schema_name)
            started += 1
    return f"expired {expired}, senders started {started}"
