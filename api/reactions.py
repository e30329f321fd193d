"""What the API does when something happens below it (common.events): webhook events for the leader's
receivers, and scrubbing its stored copies of an erased member; and its own upkeep on Django's signals.
Connected in ApiConfig.ready()."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.models import Q
from django.db.models.signals import post_delete, post_migrate, post_save

from api import schema  # noqa: F401 - registers the token scheme with drf-spectacular
from api.event_serializers import check_in_payload, rsvp_payload
from api.models import IdempotencyKey, WebhookAttempt, WebhookEndpoint, WebhookEvent
from api.selectors import messages_with_triage
from api.services import member_payload, message_payload
from api.webhooks import webhook_event_emit, webhook_events_emit, webhook_listeners_clear
from common import events
from messaging.broadcasts.selectors import broadcast_progress


def member_saved(*, member, created: bool) -> None:
    name = WebhookEvent.Name.MEMBER_CREATED if created else WebhookEvent.Name.MEMBER_UPDATED
    webhook_event_emit(name=name, payload=lambda: member_payload(member))


def member_opted_out(*, member, erasing: bool) -> None:
    if erasing:  # the payload would be scrubbed at once: say only that it happened
        payload = {"id": member.pk, "status": "opted_out", "erased": True}
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_OPTED_OUT, payload=payload)
    else:
        webhook_event_emit(name=WebhookEvent.Name.MEMBER_OPTED_OUT, payload=lambda: member_payload(member))


def member_erased(*, member_id: int, phone: str) -> None:
    IdempotencyKey.objects.filter(response_body__phone=phone).delete()
    about_member = WebhookEvent.objects.filter(name__startswith="member.", payload__id=member_id)
    # Their RSVPs and check-ins: which political events someone went to is theirs to take back.
    WebhookEvent.objects.filter(name__startswith="event.", payload__member__id=member_id).update(
        payload={"member": {"id": member_id}, "erased": True}
    )
    their_texts = WebhookEvent.objects.filter(
        name__in=[WebhookEvent.Name.MESSAGE_RECEIVED, WebhookEvent.Name.MESSAGE_TRIAGED], payload__phone=phone
    )
    # What a receiver answered may echo the payload: the delivery log keeps the status and timing only.
    WebhookAttempt.objects.filter(
        Q(delivery__event__in=about_member) | Q(delivery__event__in=their_texts)
    ).exclude(response_excerpt="").update(response_excerpt="")
    about_member.update(payload={"id": member_id, "erased": True})
    their_texts.update(payload={"erased": True})


def message_received(*, message_id: int) -> None:
    # A function, not the payload: the inbound hot path pays no query while no receiver listens.
    webhook_event_emit(
        name=WebhookEvent.Name.MESSAGE_RECEIVED,
        payload=lambda: message_payload(messages_with_triage().get(pk=message_id)),
    )


def messages_triaged(*, message_ids: list[int]) -> None:
    """One `message.triaged` event per text of a triage batch, with its label: every text read in one query,
    and none at all while no receiver listens (the batch's transaction pays only the listeners' cache)."""

    def payloads() -> list[dict]:
        texts = messages_with_triage().filter(pk__in=list(message_ids)).order_by("pk")
        return [message_payload(message) for message in texts]

    if message_ids:
        webhook_events_emit(name=WebhookEvent.Name.MESSAGE_TRIAGED, payloads=payloads)


def broadcast_completed(*, broadcast) -> None:
    webhook_event_emit(
        name=WebhookEvent.Name.BROADCAST_COMPLETED, payload=lambda: broadcast_progress(broadcast)
    )


def event_rsvp(*, rsvp) -> None:
    webhook_event_emit(name=WebhookEvent.Name.EVENT_RSVP, payload=lambda: rsvp_payload(rsvp))


def event_checked_in(*, check_in) -> None:
    webhook_event_emit(name=WebhookEvent.Name.EVENT_CHECKED_IN, payload=lambda: check_in_payload(check_in))


def cache_table_create(using: str = "default", **kwargs) -> None:
    """The database cache (API throttling without Redis) needs its table in the public schema: create it
    whenever the public schema is migrated, so no deployment step can forget it. Idempotent."""
    uses_database_cache = any(
        cache["BACKEND"].endswith("DatabaseCache") for cache in settings.CACHES.values()
    )
    if uses_database_cache and getattr(connections[using], "schema_name", "public") == "public":
        call_command("createcachetable", database=using, verbosity=0)


def connect(app_config) -> None:
    post_migrate.connect(cache_table_create, sender=app_config)
    # Inbound texts read the schema's webhook listeners from a cache (api.webhooks._events_listened).
    for signal in (post_save, post_delete):
        signal.connect(
            webhook_listeners_clear, sender=WebhookEndpoint, dispatch_uid=f"api.listeners.{signal}"
        )
    events.subscribe(events.MEMBER_SAVED, member_saved)
    events.subscribe(events.MEMBER_OPTED_OUT, member_opted_out)
    events.subscribe(events.MEMBER_ERASED, member_erased)
    events.subscribe(events.MESSAGE_RECEIVED, message_received)
    events.subscribe(events.BROADCAST_COMPLETED, broadcast_completed)
    events.subscribe(events.MESSAGES_TRIAGED, messages_triaged)
    events.subscribe(events.EVENT_RSVP, event_rsvp)
    events.subscribe(events.EVENT_CHECKED_IN, event_checked_in)
