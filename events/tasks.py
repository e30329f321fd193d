"""Queue tasks for events: a schema name in, schema_context inside, the work in events.services.

They run in the bulk lane (events.services.cluster(): the surveys' and broadcasts' cluster), so a leader's
reminders, paced at the number's rate, never hold a worker that sends the team's replies. The alert itself
is a broadcast, sent by the broadcasts' tasks.

``answers_read`` reads the members' yes and no texts off the webhook's path, on the answers' cluster
(events.services.answers_cluster: triage's, at a lower CPU priority, by default).

``reminders_sweep`` runs every minute (its schedule is made with the first event that has reminders): for
every active leader with an event close to its start, one sender, behind a per-leader advisory lock so two
workers' sweeps never send side by side (each reminder is also claimed on its own key, which is what makes
it go once even when the lock is lost with its connection).
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_q.tasks import async_task
from django_tenants.utils import schema_context

from common.sql import advisory_lock_try
from common.workers import cpu_yield
from events import services
from leaders.models import Leader


def reminders_dispatch(schema_name: str, now: datetime.datetime | None = None) -> str:
    """Send one leader's due reminders."""
    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    with advisory_lock_try(f"community.events.reminders.{schema_name}") as taken:
        if not taken:
            return "busy: another worker is sending this leader's reminders"
        with schema_context(schema_name):
            result = services.reminders_send(leader=leader, now=now)
    return f"sent {result.sent}, skipped {result.skipped}, failed {result.failed}, taken over {result.taken_over}"


def answers_read(schema_name: str) -> str:
    """Read one leader's waiting yes and no answers (a bounded run: it queues itself again if more remain),
    at the answers' cluster's lower CPU priority."""
    cpu_yield(cluster=services.answers_cluster())
    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        return f"read {services.answers_read(leader=leader)}"


def reminders_sweep(now: datetime.datetime | None = None) -> str:
    """Every minute, for every active leader: a sender queued in the bulk lane when an event is about to start
    (one leader's reminders never wait for another's), and a reader when answers have waited too long (their
    run was lost: a broker restart, a worker killed)."""
    now = now or timezone.now()
    started = 0
    for schema_name in (
        Leader.objects.filter(status=Leader.Status.ACTIVE)
        .exclude(schema_name="public")
        .values_list("schema_name", flat=True)
    ):
        with schema_context(schema_name):
            due = services.reminders_due_exist(now=now)
            lost = services.answers_waiting(now=now)
        if lost:
            services.answers_kick(schema_name=schema_name, force=True)
        if due:
            async_task(
                f"{services.TASKS}.reminders_dispatch",
                schema_name,
                task_name=f"event-reminders-{schema_name}-{now.timestamp():.0f}"[:100],
                cluster=services.cluster(),
            )
            started += 1
    return f"senders started {started}"
