"""API tokens, idempotency records and outbound webhooks. These tables live in each leader's schema, so a
token, a stored response or a webhook of one leader does not exist on another leader's host."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "cmt_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class ApiToken(models.Model):
    """A secret that acts as one teammate in the API, with that teammate's role at request time.

    Only the SHA-256 of the token is stored: the raw token is shown once, when it is created.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the raw token ("cmt_AbC1"), so a teammate can tell their tokens apart.
    display_prefix = models.CharField(max_length=12)
    # The owner who created it in the console; empty for tokens made by the command line.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Written by the API's authentication at most once a minute per token (api/authentication.py).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(models.Model):
    """The first answer to a POST made with an `Idempotency-Key`, replayed when the client retries."""

    LIFETIME = datetime.timedelta(hours=24)

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="api_idempotency_token_key")]


class WebhookEvent(models.Model):
    """Something that happened, as sent to every endpoint subscribed to it. The id is what receivers use
    to drop duplicates: a retried delivery carries the same event id."""

    class Name(models.TextChoices):
        MEMBER_CREATED = "member.created", "Member created"
        MEMBER_UPDATED = "member.updated", "Member updated"
        MEMBER_OPTED_OUT = "member.opted_out", "Member opted out"
        MESSAGE_RECEIVED = "message.received", "Message received"
        MESSAGE_TRIAGED = "message.triaged", "Message triaged"
        BROADCAST_COMPLETED = "broadcast.completed", "Broadcast completed"
        EVENT_RSVP = "event.rsvp", "Event RSVP"  # a member's answer to an event recorded or changed
        EVENT_CHECKED_IN = "event.checked_in", "Event check-in"

    event_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=40, choices=Name.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class WebhookEndpoint(models.Model):
    """A URL an owner registered to receive some events, signed with this endpoint's own secret."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40, choices=WebhookEvent.Name.choices))
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: retried with backoff for about a day."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # waiting for its first try or a retry
        SENDING = "sending", "Sending"  # claimed by a worker, which is calling the receiver
        SUCCEEDED = "succeeded", "Succeeded"  # the receiver answered 2xx
        FAILED = "failed", "Failed"  # out of retries, or the endpoint was refused or deleted

    # Delay before each retry; with the first try that is 7 attempts over about 21 hours.
    RETRY_DELAYS = (
        datetime.timedelta(minutes=1),
        datetime.timedelta(minutes=5),
        datetime.timedelta(minutes=30),
        datetime.timedelta(hours=2),
        datetime.timedelta(hours=6),
        datetime.timedelta(hours=12),
    )

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When pending: not to be tried before this (a retry's backoff); past, it is due and waits for a worker
    # or its leader's turn (api.tasks). None: its first attempt, queued when the event was stored.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it (status sending): a claim older than the attempt's deadline belongs to a worker
    # that stopped, and the sweep (api.tasks.webhooks_sweep) puts it back.
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["endpoint", "-created_at"]), models.Index(fields=["status"])]

    def retry_delay(self) -> datetime.timedelta | None:
        """How long to wait after the attempt just made, or None when it was the last one."""
        if self.attempts > len(self.RETRY_DELAYS):
            return None
        return self.RETRY_DELAYS[self.attempts - 1]


class WebhookAttempt(models.Model):
    """One HTTP request to a receiver and what came back, for the console's delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no answer
    error = models.CharField(max_length=200, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
