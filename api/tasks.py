"""Queue tasks for outbound webhooks: ids and a schema name in, schema_context inside, claim before acting."""

from __future__ import annotations

import logging

from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from api.models import WebhookAttempt, WebhookDelivery
from api.webhooks import webhook_body, webhook_post
from leaders.models import Leader

logger = logging.getLogger(__name__)


def webhook_deliver(delivery_id: int, schema_name: str) -> str:
    """Make one attempt at a pending delivery; on failure, schedule the next one with backoff."""

    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        # Two workers given the same delivery (a retried task, a duplicate schedule): only one claims it.
        claimed = WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDelivery.Status.PENDING
        ).update(status=WebhookDelivery.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=None)
        if not claimed:
            return "already claimed"
        delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
        endpoint = delivery.endpoint
        if not endpoint.is_active:
            _finish(delivery, WebhookDelivery.Status.FAILED)
            return "endpoint disabled"
        result = webhook_post(
            url=endpoint.url,
            secret=endpoint.secret,
            event=delivery.event,
            body=webhook_body(delivery.event, leader_slug=leader.slug),
            attempt=delivery.attempts,
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.response_excerpt,
            duration_ms=result.duration_ms,
        )
        if result.ok:
            _finish(delivery, WebhookDelivery.Status.SUCCEEDED)
            return "delivered"
        delay = delivery.retry_delay()
        if delay is None:
            _finish(delivery, WebhookDelivery.Status.FAILED)
            logger.warning("webhook delivery %s in %s failed for good", delivery_id, schema_name)
            return "failed"
        next_attempt_at = timezone.now() + delay
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.SENDING).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=next_attempt_at
        )
        _retry_at(delivery_id, schema_name, next_attempt_at, attempt=delivery.attempts + 1)
        logger.info(
            "webhook delivery %s in %s: attempt %s got %s, next at %s",
            delivery_id,
            schema_name,
            delivery.attempts,
            result.status_code or result.error,
            next_attempt_at.isoformat(),
        )
        return "retry"


def _finish(delivery: WebhookDelivery, status: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status, completed_at=timezone.now())


def _retry_at(delivery_id: int, schema_name: str, when, *, attempt: int) -> None:
    # The queue's schedule table is in the public schema; django-q runs it there.
    with schema_context("public"):
        Schedule.objects.create(
            func="api.tasks.webhook_deliver",
            args=f"{delivery_id!r}, {schema_name!r}",
            schedule_type=Schedule.ONCE,
            next_run=when,
            repeats=1,
            name=f"webhook-{schema_name}-{delivery_id}-{attempt}",
        )
