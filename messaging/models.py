"""Texts in and out of a leader's number. These tables live in each leader's schema."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from signup.models import Member, PhoneField


class SmsStatus(models.TextChoices):
    """The life of an outbound text, ours then Twilio's. It only moves forward (see STATUS_RANK)."""

    QUEUED = "queued", "Queued"  # stored, waiting for a worker
    SENDING = "sending", "Sending"  # claimed by a worker, which is calling Twilio
    WIRED = "wired", "Handed to Twilio"  # Twilio accepted it (its own "queued"/"accepted")
    SENT = "sent", "Sent"  # the carrier took it
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"  # refused by Twilio, out of retries, or never sent (suspended, opted out)
    RECEIVED = "received", "Received"  # inbound texts


# Callbacks arrive out of order and twice: a status only replaces one of lower rank, so a message never
# goes back from delivered to sent. The three final statuses share the top rank.
STATUS_RANK = {
    SmsStatus.QUEUED: 0,
    SmsStatus.SENDING: 1,
    SmsStatus.WIRED: 2,
    SmsStatus.SENT: 3,
    SmsStatus.DELIVERED: 4,
    SmsStatus.UNDELIVERED: 4,
    SmsStatus.FAILED: 4,
    SmsStatus.RECEIVED: 4,
}
FINAL_STATUSES = frozenset(status for status, rank in STATUS_RANK.items() if rank == 4)

# Twilio's MessageStatus values in callbacks and API answers, in our terms.
TWILIO_STATUS_MAP = {
    "accepted": SmsStatus.WIRED,
    "queued": SmsStatus.WIRED,
    "scheduled": SmsStatus.WIRED,
    "sending": SmsStatus.WIRED,
    "sent": SmsStatus.SENT,
    "delivered": SmsStatus.DELIVERED,
    "read": SmsStatus.DELIVERED,
    "undelivered": SmsStatus.UNDELIVERED,
    "failed": SmsStatus.FAILED,
    "canceled": SmsStatus.FAILED,
}


def statuses_below(status: str) -> list[str]:
    """The statuses a message may move from to reach `status`."""
    rank = STATUS_RANK[status]
    return [s for s, r in STATUS_RANK.items() if r < rank]


class Conversation(models.Model):
    """Everything one phone and the leader's team said to each other: the inbox's unit."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    phone = PhoneField(unique=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    unread_count = models.PositiveIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["-last_message_at"]),
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(fields=["assigned_to", "-last_message_at"]),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"


class Message(models.Model):
    """One text in a conversation: a fan's text, a teammate's reply or an automatic answer.

    Broadcast texts are not here: a broadcast stores its body once and one delivery row per member.
    """

    class Direction(models.TextChoices):
        INBOUND = "in", "From the fan"
        OUTBOUND = "out", "To the fan"

    class Kind(models.TextChoices):
        CONVERSATION = "conversation", "Conversation"  # a fan's text or a teammate's reply
        WELCOME = "welcome", "Welcome and signup link"
        CONFIRMATION = "confirmation", "Signup confirmation"
        KEYWORD = "keyword", "Keyword answer"  # STOP/START/HELP confirmations and keyword replies
        NOTICE = "notice", "Other automatic text"

    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phone = PhoneField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONVERSATION)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=SmsStatus.choices)
    twilio_sid = models.CharField(max_length=40, unique=True, null=True, blank=True)
    error_code = models.PositiveIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What Twilio told us about an inbound text besides its body (FromCountry, FromCity, NumMedia,
    # MediaUrl0…), kept for the inbox; Twilio adds parameters without notice, so this is not a schema.
    details = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["phone", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.pk}"
