"""Queue tasks for outbound webhooks: ids and a schema name in, schema_context inside, claim before acting.

They run in a django-q cluster of their own (settings.WEBHOOK_CLUSTER, "webhooks": started with
``Q_CLUSTER_NAME=webhooks python manage.py qcluster``), so a leader's receiver that is slow, or trickles its
answer, only ever holds webhook workers: the default cluster's workers, which send one-to-one replies and
signup confirmations, never wait on a leader's systems. Within the webhooks cluster:

* every attempt ends by its deadline (settings.WEBHOOK_ATTEMPT_SECONDS, `api.webhooks.webhook_post`);
* at most settings.WEBHOOK_LEADER_CONCURRENCY attempts of one leader are in flight at once: a delivery found
  over the limit waits its turn (pending, due), and the attempt that ends next queues the oldest waiting
  ones, so one leader's backlog never holds every worker and other leaders' deliveries go through meanwhile;
* `webhooks_sweep`, every minute, puts back deliveries whose worker stopped mid-attempt (killed, restarted):
  still `sending` long after the deadline, they count as a failed attempt and are retried with backoff.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from api.models import WebhookAttempt, WebhookDelivery
from api.webhooks import (
    TASK,
    AttemptResult,
    webhook_body,
    webhook_cluster,
    webhook_deliveries_enqueue,
    webhook_post,
    webhooks_sweep_ensure,
)
from leaders.models import Leader

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# A claim older than the deadline plus this belongs to a worker that stopped: it no longer counts against
# its leader's limit, and the sweep puts the delivery back.
STALE_MARGIN = datetime.timedelta(seconds=60)
# A task queued by a retry's schedule may run a little before the delivery's next_attempt_at (clocks of
# different machines); earlier than this, it is a duplicate of a later attempt's task and does nothing.
EARLY = datetime.timedelta(seconds=5)
# Deliveries due for this long with none of their leader's attempts in flight lost their task (a worker
# died between claiming and queuing the next turn, a broker lost a message): the sweep queues them again.
OVERDUE = datetime.timedelta(minutes=2)

CLAIMED, WAITING = "claimed", "waiting"


def stale_after() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.WEBHOOK_ATTEMPT_SECONDS) + STALE_MARGIN


def _leader_lock() -> None:
    """Serialise, per leader, claiming (which counts what is in flight) and handing out turns, so that two
    workers never both take the last slot and a delivery marked waiting is always seen by the next hand-out."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('community.webhooks.' || current_schema()))")


def _in_flight(now: datetime.datetime) -> int:
    return WebhookDelivery.objects.filter(status=Status.SENDING, claimed_at__gte=now - stale_after()).count()


def _claim(delivery_id: int) -> str:
    """CLAIMED (this worker makes the attempt), WAITING (its leader has its fill in flight: it waits its
    turn), or why nothing is to be done."""
    with transaction.atomic():
        _leader_lock()
        now = timezone.now()
        due = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + EARLY)
        )
        if _in_flight(now) >= settings.WEBHOOK_LEADER_CONCURRENCY:
            # Due from now on (a retry's time is already past): the next hand-out finds it.
            if due.update(next_attempt_at=Coalesce("next_attempt_at", now)):
                return WAITING
        elif due.update(
            status=Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None, claimed_at=now
        ):
            return CLAIMED
    pending = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).exists()
    # A duplicate of a task queued for a later attempt: that one's schedule runs it when due.
    return "not due yet" if pending else "already claimed"


def _turns_hand_out(schema_name: str) -> int:
    """Queue the oldest due deliveries of this leader for the slots free now; how many were queued."""
    with transaction.atomic():
        _leader_lock()
        now = timezone.now()
        free = settings.WEBHOOK_LEADER_CONCURRENCY - _in_flight(now)
        if free <= 0:
            return 0
        waiting = list(
            WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:free]
        )
    webhook_deliveries_enqueue(waiting, schema_name)
    return len(waiting)


def webhook_deliver(delivery_id: int, schema_name: str) -> str:
    """Make one attempt at a pending delivery; on failure, schedule the next one with backoff."""

    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        claim = _claim(delivery_id)
        if claim != CLAIMED:
            return claim
        try:
            return _attempt(delivery_id, schema_name, leader)
        finally:
            # This attempt's slot is free (its delivery no longer `sending`): the next of this leader's
            # deliveries waiting for a turn goes now.
            _turns_hand_out(schema_name)


def _attempt(delivery_id: int, schema_name: str, leader: Leader) -> str:
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _finish(delivery, Status.FAILED)
        return "endpoint disabled"
    try:
        result = webhook_post(
            url=endpoint.url,
            secret=endpoint.secret,
            event=delivery.event,
            body=webhook_body(delivery.event, leader_slug=leader.slug),
            attempt=delivery.attempts,
        )
    except Exception:
        # webhook_post reports every failure of the receiver in its result; this is a bug of ours, and the
        # delivery must not stay `sending`: recorded as a failed attempt, retried like one.
        logger.exception("webhook delivery %s in %s: unexpected error", delivery_id, schema_name)
        result = AttemptResult(None, "error: unexpected failure while sending", "", 0)
    _attempt_record(delivery, result)
    if result.ok:
        _finish(delivery, Status.SUCCEEDED)
        return "delivered"
    return _retry_or_fail(delivery, schema_name, reason=result.status_code or result.error)


def _attempt_record(delivery: WebhookDelivery, result: AttemptResult) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        status_code=result.status_code,
        error=result.error,
        response_excerpt=result.response_excerpt,
        duration_ms=result.duration_ms,
    )


def _retry_or_fail(
    delivery: WebhookDelivery, schema_name: str, *, reason, now: datetime.datetime | None = None
) -> str:
    """After a failed attempt (the delivery is still `sending`): pending again with its retry scheduled, or
    failed for good when that was the last attempt."""
    delay = delivery.retry_delay()
    if delay is None:
        _finish(delivery, Status.FAILED)
        logger.warning("webhook delivery %s in %s failed for good", delivery.pk, schema_name)
        return "failed"
    next_attempt_at = (now or timezone.now()) + delay
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.PENDING, next_attempt_at=next_attempt_at, claimed_at=None
    )
    _retry_at(delivery.pk, schema_name, next_attempt_at, attempt=delivery.attempts + 1)
    logger.info(
        "webhook delivery %s in %s: attempt %s got %s, next at %s",
        delivery.pk,
        schema_name,
        delivery.attempts,
        reason,
        next_attempt_at.isoformat(),
    )
    return "retry"


def _finish(delivery: WebhookDelivery, status: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=status, completed_at=timezone.now(), claimed_at=None
    )


def _retry_at(delivery_id: int, schema_name: str, when, *, attempt: int) -> None:
    # The queue's schedule table is in the public schema; the webhooks cluster's scheduler runs it.
    with schema_context("public"):
        Schedule.objects.update_or_create(
            name=f"webhook-{schema_name}-{delivery_id}-{attempt}",
            defaults={
                "func": TASK,
                "args": f"{delivery_id!r}, {schema_name!r}",
                "schedule_type": Schedule.ONCE,
                "next_run": when,
                "repeats": 1,
                "cluster": webhook_cluster(),
            },
        )


def webhook_deliveries_unstick(*, schema_name: str, now: datetime.datetime | None = None) -> int:
    """Inside a leader's schema: deliveries still `sending` long past the deadline (their worker stopped
    mid-attempt) are a failed attempt, recorded as a timeout, and retried with backoff (or failed after the
    last). How many were put back."""
    now = now or timezone.now()
    cutoff = now - stale_after()
    stuck = list(
        WebhookDelivery.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).select_related("event")
    )
    for delivery in stuck:
        with transaction.atomic():
            # Claimed again, so that two sweeps never both record the attempt.
            if not WebhookDelivery.objects.filter(
                pk=delivery.pk, status=Status.SENDING, claimed_at=delivery.claimed_at
            ).update(claimed_at=now):
                continue
            seconds = int((now - delivery.claimed_at).total_seconds())
            _attempt_record(
                delivery,
                AttemptResult(
                    None, "Timeout: the attempt never finished (its worker stopped)", "", seconds * 1000
                ),
            )
            _retry_or_fail(delivery, schema_name, reason="a stopped worker", now=now)
    return len(stuck)


def webhooks_sweep(now: datetime.datetime | None = None) -> str:
    """Every minute, in every leader's schema: put back deliveries whose worker stopped mid-attempt, and
    queue again those of a leader with nothing in flight that have been due for a while (their task was
    lost), so that no delivery stays `sending`, or waits, forever."""
    webhooks_sweep_ensure()
    cluster = webhook_cluster()
    if cluster:
        # Retries scheduled before webhooks had a cluster of their own would run in the default one.
        Schedule.objects.filter(func=TASK, cluster__isnull=True).update(cluster=cluster)
    now = now or timezone.now()
    cutoff = now - stale_after()
    overdue = Q(next_attempt_at__lt=now - OVERDUE) | Q(
        next_attempt_at__isnull=True, created_at__lt=now - OVERDUE
    )
    unstuck = requeued = 0
    for schema_name in Leader.objects.exclude(schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema_name):
            # One query per leader, on the status index: most have nothing in either state.
            counts = WebhookDelivery.objects.filter(status__in=[Status.SENDING, Status.PENDING]).aggregate(
                stuck=Count("pk", filter=Q(status=Status.SENDING, claimed_at__lt=cutoff)),
                in_flight=Count("pk", filter=Q(status=Status.SENDING, claimed_at__gte=cutoff)),
                lost=Count("pk", filter=Q(status=Status.PENDING) & overdue),
            )
            if counts["stuck"]:
                unstuck += webhook_deliveries_unstick(schema_name=schema_name, now=now)
            if counts["lost"] and not counts["in_flight"]:
                lost = WebhookDelivery.objects.filter(overdue, status=Status.PENDING).order_by("pk")
                ids = list(lost.values_list("pk", flat=True)[: settings.WEBHOOK_LEADER_CONCURRENCY])
                webhook_deliveries_enqueue(ids, schema_name)
                requeued += len(ids)
    return f"put back {unstuck}, queued again {requeued}"
