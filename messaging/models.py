"""Texts in and out of a leader's number. These tables live in each leader's schema."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.partitions import ListPartitions
from common.phones import PhoneField
from members.audience import AudienceError, AudienceFilter
from members.models import Member
from messaging.keywords import keyword_reserved
from messaging.segments import render_template, segment_info_for_template


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

    phone = PhoneField()  # unique: Meta.constraints
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    unread_count = models.PositiveIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # Meta.indexes: (assigned_to, -last_message_at) serves it
    )
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When the fan's oldest unanswered text must be answered by (the routing rule's response-time target);
    # cleared by a teammate's reply or by marking the conversation done. Past it, the conversation is overdue.
    reply_due_at = models.DateTimeField(null=True, blank=True)

    # Every inbound text updates its conversation, and every index here is written each time (the sort key
    # last_message_at is in most of them, so no update is HOT): only the indexes a query needs. The unique
    # phone is a constraint rather than `unique=True`, which would add a LIKE index nothing searches with.
    class Meta:
        constraints = [models.UniqueConstraint(fields=["phone"], name="messaging_conversation_phone_uniq")]
        indexes = [
            models.Index(fields=["-last_message_at"]),
            models.Index(fields=["status", "-last_message_at"]),
            models.Index(fields=["assigned_to", "-last_message_at"]),
            models.Index(
                fields=["reply_due_at"],
                name="messaging_conversation_due",
                condition=models.Q(reply_due_at__isnull=False),
            ),
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
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,  # Meta.indexes: (conversation, created_at) serves it
    )
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phone = PhoneField()
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONVERSATION)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=SmsStatus.choices)
    twilio_sid = models.CharField(max_length=40, null=True, blank=True)  # unique: Meta.constraints
    error_code = models.PositiveIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # Meta.indexes: only the team's replies have one
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What Twilio told us about an inbound text besides its body (FromCountry, FromCity, NumMedia,
    # MediaUrl0…), kept for the inbox; Twilio adds parameters without notice, so this is not a schema.
    details = models.JSONField(null=True, blank=True)

    # Inbound texts are the hot insert (thousands a second in a burst): each index costs every one of them.
    # The sid is unique through a constraint (ON CONFLICT needs it) rather than `unique=True`, which adds a
    # LIKE index no query uses; the team member who sent a reply is indexed only where there is one.
    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["twilio_sid"], name="messaging_message_twilio_sid_uniq")
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"]),
            models.Index(fields=["phone", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(
                fields=["sent_by"],
                name="messaging_message_sent_by",
                condition=models.Q(sent_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.pk}"


# ========================================================================================================
# Broadcasts: one body sent to many members (owned by the broadcasts engine: messaging/broadcast_*.py).
# ========================================================================================================


# A broadcast that cannot be created or cannot make this transition; the message says why. Its audience is
# validated in the members layer, below: an invalid audience is the same error to every caller.
BroadcastError = AudienceError


class Broadcast(models.Model):
    """One text to an audience: the body is stored here once, each recipient is a Delivery row."""

    MAX_BODY_LENGTH = 400  # product limit, in characters (segments.MAX_BODY_LENGTH)

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"  # written, not yet sent or scheduled
        SCHEDULED = "scheduled", "Scheduled"  # will start queueing at send_at
        QUEUEING = "queueing", "Queueing"  # recipients are being materialised as deliveries
        SENDING = "sending", "Sending"  # deliveries exist; workers are sending them
        COMPLETED = "completed", "Completed"  # every delivery reached a final status
        CANCELLED = "cancelled", "Cancelled"  # stopped by the team: what had not gone out stays unsent
        FAILED = "failed", "Failed"  # could not be queued (failure_reason says why)
        # Above the leader's approval_threshold: waits for a second teammate (not its author) to approve.
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        # Another teammate refused it, with a reason the author reads: nothing was sent, nothing will be.
        REJECTED = "rejected", "Rejected"

    body = models.CharField(max_length=MAX_BODY_LENGTH)
    # Appended to the body in each member's language ({language: text}; a member whose language is not
    # here gets English, else the first by code: Broadcast.suffix_for): a feature's instruction a broadcast carries, as an event alert's "Reply YES
    # or NO" (events). Empty for an ordinary broadcast. Counted in `segments` at its longest.
    suffixes = models.JSONField(default=dict, blank=True)
    filters = models.JSONField(default=dict, blank=True, help_text="selectors.AudienceFilter, as JSON")
    encoding = models.CharField(max_length=8)  # GSM-7 or UCS-2, of the body at its longest
    segments = models.PositiveSmallIntegerField()  # per message, personalisation at its longest
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    send_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled start (UTC)")
    ignore_quiet_hours = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)
    # Last time a worker recorded a batch: the sweep restarts a sending broadcast that went quiet.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # Live counters, added to in batches by the workers and the status callbacks (never COUNT(*) per view).
    recipient_count = models.PositiveIntegerField(default=0)  # deliveries materialised
    sent_count = models.PositiveIntegerField(default=0)  # accepted by Twilio
    segments_sent = models.PositiveBigIntegerField(default=0)
    delivered_count = models.PositiveIntegerField(default=0)  # the handset got it (status callback)
    failed_count = models.PositiveIntegerField(default=0)  # refused by Twilio, never sent
    undelivered_count = models.PositiveIntegerField(default=0)  # sent, then failed at the carrier
    skipped_count = models.PositiveIntegerField(default=0)  # opted out/unreachable before their turn
    cancelled_count = models.PositiveIntegerField(default=0)  # never sent because of a cancellation
    capped_count = models.PositiveIntegerField(default=0)  # over the leader's announcement cap: not sent
    opt_out_count = models.PositiveIntegerField(default=0)  # STOP replies and carrier 21610 it caused
    reply_count = models.PositiveIntegerField(default=0)  # members who texted back within a day

    # What the team is told before the deliveries exist: the audience counted when the author submitted it
    # (the count they confirmed, shown as the recipients while it waits for approval, its time or a
    # worker), and when it was sent on its way (a draft with this set is starting: a worker will queue it).
    audience_count = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Deliveries held for their members' quiet hours when it was queued, and when the last of those windows
    # opens: the progress page says how many wait, and until when, instead of looking stuck.
    held_count = models.PositiveIntegerField(default=0)
    held_until = models.DateTimeField(null=True, blank=True)

    # Two-person rule for large audiences (Leader.approval_threshold): who asked, who approved, when.
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "send_at"]),
            # An inbound text looks for the broadcasts queued within the last days it may answer.
            models.Index(fields=["-queued_at"], name="messaging_broadcast_queued"),
        ]

    def __str__(self) -> str:
        return f"broadcast {self.pk}"

    @classmethod
    def create(
        cls,
        *,
        body: str,
        filters: dict | None = None,
        send_at=None,
        ignore_quiet_hours: bool = False,
        created_by=None,
        suffixes: dict[str, str] | None = None,
    ) -> Broadcast:
        """A draft broadcast, checked in one place: body length (with its longest suffix), its cost, the
        audience filter."""

        body = body or ""
        if not body.strip():
            raise BroadcastError("The message is empty.")
        suffixes = {str(language): str(text) for language, text in (suffixes or {}).items() if text}
        longest = max((len(cls.with_suffix(body, text)) for text in suffixes.values()), default=len(body))
        if longest > cls.MAX_BODY_LENGTH:
            raise BroadcastError(
                f"The message is {longest} characters long; the limit is {cls.MAX_BODY_LENGTH}."
            )
        audience = AudienceFilter.from_dict(filters or {})  # raises BroadcastError when invalid
        # The costliest language decides the estimate (an Arabic suffix makes its copies UCS-2).
        info = max(
            (segment_info_for_template(cls.with_suffix(body, text)) for text in suffixes.values()),
            key=lambda item: (item.segments, item.encoding != "GSM-7"),
            default=segment_info_for_template(body),
        )
        broadcast = cls(
            body=body,
            suffixes=suffixes,
            filters=audience.to_dict(),
            encoding=info.encoding,
            segments=info.segments,
            send_at=send_at,
            ignore_quiet_hours=ignore_quiet_hours,
            created_by=created_by,
        )
        broadcast.save()
        return broadcast

    @staticmethod
    def with_suffix(body: str, suffix: str) -> str:
        return f"{body} {suffix}" if suffix else body

    def text_for(self, *, first_name: str, last_name: str, place: str, language: str) -> str:
        """The text one member gets: the body with their placeholders filled, then the suffix in their
        language (after personalisation, never a placeholder itself). What dispatch sends, and what the
        console shows of it in the member's conversation."""
        body = self.body
        if "{" in body:
            body = render_template(
                body,
                values={
                    "first_name": (first_name or "")[:20],
                    "name": f"{first_name or ''} {last_name or ''}".strip()[:40],
                    "city": (place or "")[:30],
                },
            )
        if self.suffixes:
            body = self.with_suffix(body, self.suffix_for(language or ""))
        return body

    def suffix_for(self, language: str) -> str:
        """The suffix a member speaking `language` gets: theirs, else English, else the first by language
        code (jsonb keeps no order of writing), else none."""
        if not self.suffixes:
            return ""
        return self.suffixes.get(language) or self.suffixes.get("en") or self.suffixes[min(self.suffixes)]

    def audience(self) -> AudienceFilter:
        """Who this broadcast goes to, read from its stored filter (checked when it was stored): a region name
        the gazetteer does not know, stored before region names were checked, matches as written rather than
        stopping the broadcast."""
        return AudienceFilter.from_dict(self.filters or {}, stored=True)

    # -- transitions: conditional UPDATEs, so two processes never both make the same one -------------------

    def _move(self, sources: tuple[str, ...], target: str, **fields) -> bool:
        moved = type(self).objects.filter(pk=self.pk, status__in=sources).update(status=target, **fields)
        if moved:
            self.status = target
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(moved)

    def schedule(self, send_at) -> None:
        if not self._move((self.Status.DRAFT,), self.Status.SCHEDULED, send_at=send_at):
            raise BroadcastError(f"A {self.status} broadcast cannot be scheduled.")

    def audience_record(self, count: int) -> None:
        """The audience counted when it was submitted: its recipients until the deliveries exist."""
        type(self).objects.filter(pk=self.pk).update(audience_count=count)
        self.audience_count = count

    def mark_submitted(self, at) -> None:
        """Sent on its way (now, or at its time): a draft with this is starting until a worker queues it, and
        the minute sweep starts it if that worker's task was lost."""
        type(self).objects.filter(pk=self.pk).update(submitted_at=at)
        self.submitted_at = at

    def request_approval(self) -> None:
        if not self._move(
            (self.Status.DRAFT,), self.Status.AWAITING_APPROVAL, approval_requested_at=timezone.now()
        ):
            raise BroadcastError(f"A {self.status} broadcast cannot be submitted for approval.")

    def approve(self, user) -> None:
        """Back to draft, approved: the caller then sends or schedules it. Never by its own author."""
        if user is None or (self.created_by_id is not None and user.pk == self.created_by_id):
            raise BroadcastError("The author of a broadcast cannot approve it; another teammate must.")
        if not self._move(
            (self.Status.AWAITING_APPROVAL,), self.Status.DRAFT, approved_by=user, approved_at=timezone.now()
        ):
            raise BroadcastError(f"A {self.status} broadcast cannot be approved.")

    def start_queueing(self) -> bool:
        """Claim the broadcast for queueing; False when another process already did."""
        return self._move((self.Status.DRAFT, self.Status.SCHEDULED), self.Status.QUEUEING)

    def mark_sending(
        self, *, recipient_count: int, capped_count: int = 0, held_count: int = 0, held_until=None
    ) -> bool:
        return self._move(
            (self.Status.QUEUEING,),
            self.Status.SENDING,
            recipient_count=recipient_count,
            capped_count=capped_count,
            held_count=held_count,
            held_until=held_until,
            queued_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )

    def counters(self) -> dict[str, int]:
        """The stored progress counters, under the names pages and the API show them."""
        return {
            "recipients": self.recipient_count,
            "queued": self.queued_count,
            "sent": self.sent_count,
            "delivered": self.delivered_count,
            "undelivered": self.undelivered_count,
            "failed": self.failed_count,
            "skipped": self.skipped_count,
            "cancelled": self.cancelled_count,
            "capped": self.capped_count,
            "opt_outs": self.opt_out_count,
            "replies": self.reply_count,
            "segments_sent": self.segments_sent,
        }

    def mark_completed(self) -> bool:
        return self._move((self.Status.SENDING,), self.Status.COMPLETED, completed_at=timezone.now())

    def mark_failed(self, reason: str) -> bool:
        return self._move(
            (self.Status.DRAFT, self.Status.SCHEDULED, self.Status.QUEUEING),
            self.Status.FAILED,
            failure_reason=reason[:200],
        )

    def reject(self, user, reason: str) -> None:
        """Another teammate refuses it, saying why (the author reads it). Never by its author, who cancels."""
        reason = (reason or "").strip()
        if user is None or (self.created_by_id is not None and user.pk == self.created_by_id):
            raise BroadcastError("The author of a broadcast cannot reject it; cancel it instead.")
        if not reason:
            raise BroadcastError("Say why it is rejected: its author reads the reason.")
        if not self._move(
            (self.Status.AWAITING_APPROVAL,),
            self.Status.REJECTED,
            rejected_by=user,
            rejected_at=timezone.now(),
            rejection_reason=reason[:300],
        ):
            raise BroadcastError(f"A {self.status} broadcast cannot be rejected.")

    def cancel(self) -> bool:
        """Stop it while scheduled or sending (draft too). False when it is already over."""
        return self._move(
            (
                self.Status.DRAFT,
                self.Status.AWAITING_APPROVAL,
                self.Status.SCHEDULED,
                self.Status.QUEUEING,
                self.Status.SENDING,
            ),
            self.Status.CANCELLED,
            cancelled_at=timezone.now(),
        )

    @property
    def is_over(self) -> bool:
        return self.status in (
            self.Status.COMPLETED,
            self.Status.CANCELLED,
            self.Status.FAILED,
            self.Status.REJECTED,
        )

    @property
    def is_starting(self) -> bool:
        """Sent on its way, not yet queued by a worker (it is a draft until the worker claims it)."""
        return self.status == self.Status.DRAFT and self.submitted_at is not None

    @property
    def recipients_expected(self) -> int:
        """Its recipients as the team should read them: the deliveries once queued, the audience counted
        when it was submitted before that (awaiting approval, scheduled, starting)."""
        if self.queued_at is None and self.status in (
            self.Status.DRAFT,
            self.Status.AWAITING_APPROVAL,
            self.Status.SCHEDULED,
            self.Status.QUEUEING,
        ):
            return self.audience_count
        return self.recipient_count

    def held_waiting(self, now) -> int:
        """How many of its deliveries still wait for their members' quiet hours to end (0 once the last
        window opened, or when it is over)."""
        if self.status != self.Status.SENDING or not self.held_until or self.held_until <= now:
            return 0
        return min(self.held_count, self.queued_count)

    @property
    def queued_count(self) -> int:
        """Deliveries not yet handed to Twilio nor given up (waiting, or in a worker's hands)."""
        done = self.sent_count + self.failed_count + self.skipped_count + self.cancelled_count
        return max(0, self.recipient_count - done)


class DeliveryStatus(models.IntegerChoices):
    """Where one member's copy of a broadcast is. Small integers: there are millions of these rows.

    The order is the rank: a status only replaces a lower one (callbacks come late and twice).
    """

    QUEUED = 0, "Queued"  # waiting for its due time and a worker
    SENDING = 1, "Sending"  # claimed by a worker (claimed_at, claim_token) that is calling Twilio
    WIRED = 2, "Handed to Twilio"  # Twilio accepted it: sid set
    SENT = 3, "Sent"  # the carrier took it
    DELIVERED = 4, "Delivered"
    UNDELIVERED = 5, "Undelivered"
    FAILED = 6, "Failed"  # refused by Twilio, or out of retries
    SKIPPED = 7, "Skipped"  # the member opted out or became unreachable before their turn
    CANCELLED = 8, "Cancelled"  # the broadcast was cancelled before it went out


DELIVERY_FINAL = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.UNDELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.SKIPPED,
    DeliveryStatus.CANCELLED,
)


class Delivery(models.Model):
    """One member's copy of a broadcast: ids, status and Twilio's answer, never the body.

    Kept lean, because a broadcast writes a million of these in one INSERT … SELECT: the key is
    (broadcast, member), which also makes a second copy impossible; there is no surrogate id, no foreign-key
    constraint (each would run a trigger per row; the rows are only written from member and broadcast rows
    that exist at that moment), and one other index, on SIDs, partial. Workers walk the key to claim
    (messaging.broadcasts.dispatch._claim), and the sweeper, which runs once per dispatch task, scans the
    broadcast's rows by key.

    The table is partitioned by broadcast (migration 0005), one partition per broadcast, named by
    `partition_name`: a broadcast's rows are written into a table of their own with no index, which is then
    indexed in one sorted pass and attached (broadcast_queue), rather than maintaining a million-row index
    row by row. The key is each partition's unique index on member_id (`partition_attach`): Django's
    composite primary key below is what it is in each partition. Rows from before the partitioning are in
    one partition for all the broadcasts they belong to, `messaging_delivery_legacy`, keyed by (broadcast,
    member). Queries naming a broadcast touch only its partition; a finished broadcast's rows can be
    detached and archived or dropped as one table.
    """

    pk = models.CompositePrimaryKey("broadcast_id", "member_id")
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="deliveries"
    )
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    status = models.PositiveSmallIntegerField(choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    claim_token = models.IntegerField(null=True, blank=True)  # which worker's claim this is
    due_at = models.DateTimeField()  # not before: the member's sending window (quiet hours), or a backoff
    claimed_at = models.DateTimeField(null=True, blank=True)
    sid = models.CharField(max_length=34, null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Status callbacks find their delivery by Twilio's SID.
            models.Index(
                fields=["sid"], name="messaging_delivery_sid", condition=models.Q(sid__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk}"

    # -- storage: one partition per broadcast (common.partitions) -------------------------------------------
    # Its key is a unique index on member_id: the bound fixes the broadcast, so (broadcast, member) is unique
    # when the member is, and one column builds faster and is smaller than two.

    @staticmethod
    def partition_name(broadcast_id: int) -> str:
        return DELIVERY_PARTITIONS.name(broadcast_id)

    @staticmethod
    def partition_names() -> list[str]:
        """The current schema's delivery partitions (one per queued broadcast, and the legacy one)."""
        return DELIVERY_PARTITIONS.names()

    @staticmethod
    def partition_attached(broadcast_id: int) -> bool:
        """Whether this broadcast's partition is part of the current schema's delivery table."""
        return DELIVERY_PARTITIONS.attached(broadcast_id)

    @staticmethod
    def partition_table_create(broadcast_id: int) -> None:
        """A new, empty, unindexed table for this broadcast's rows (`partition_name`), not yet attached."""
        DELIVERY_PARTITIONS.table_create(broadcast_id)

    @staticmethod
    def partition_attach(broadcast_id: int) -> None:
        """Index the broadcast's table (each index in one sorted pass over the rows) and attach it."""
        DELIVERY_PARTITIONS.attach(broadcast_id)

    @staticmethod
    def partition_ensure(broadcast_id: int) -> None:
        """An empty partition for this broadcast if it has none, for rows written one by one through the
        delivery table (broadcast_queue loads a broadcast's rows before indexing and attaching them)."""
        DELIVERY_PARTITIONS.ensure(broadcast_id)


DELIVERY_PARTITIONS = ListPartitions(
    parent="messaging_delivery",
    key="broadcast_id",
    constraints=(("member", "UNIQUE (member_id)"),),
    indexes=(("sid", "(sid) WHERE sid IS NOT NULL"),),
)


class SendingWindow(models.Model):
    """The rate limiter's log: segments handed to Twilio per grant, kept for a few seconds.

    One table per leader's schema, so one limiter per number (messaging.ratelimit).
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField()  # when the segments were granted
    until = models.DateTimeField()  # when they stop counting against the rate
    segments = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["until"])]


# --- the leader's keywords ----------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = ".,!?¡¿;:'\"«»()[]"


def keyword_normalize(text: str) -> str:
    """How a keyword is compared: trimmed, surrounding punctuation dropped, inner spaces single, upper case."""
    return _SPACES.sub(" ", (text or "").strip().strip(_EDGE_PUNCTUATION).strip()).upper()


class KeywordReply(models.Model):
    """A keyword fans can text (RALLY, VOLUNTEER…): the automatic answer, and a tag given to the member."""

    keyword = models.CharField(_("keyword"), max_length=40, unique=True)
    reply = models.CharField(_("reply"), max_length=400)
    tag = models.CharField(_("tag"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "console_keywordreply"  # created by the console app; moved in state only
        ordering = ["keyword"]

    def __str__(self) -> str:
        return self.keyword

    def clean(self) -> None:
        super().clean()
        self.keyword = keyword_normalize(self.keyword)
        if not self.keyword:
            raise ValidationError({"keyword": _("Enter a keyword.")})
        # Every stop, start and help word in any of our languages, accents and spacing ignored
        # (messaging.keywords), and Community's GO, RESTART and JOIN.
        if keyword_reserved(self.keyword):
            raise ValidationError(
                {"keyword": _("%(keyword)s is reserved (STOP, START, HELP…).") % {"keyword": self.keyword}}
            )
        self.tag = self.tag.strip()
