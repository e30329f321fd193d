"""Events (issue 15): a leader's town hall or rally, the alert that invites members to it, their RSVPs by
reply (with every change of mind), the waitlist, reminders and check-ins.

Invariants the rows keep themselves (database constraints, so no path can break them): an event ends after
it starts, its venue is a gazetteer place or coordinates, its capacity is at least one seat when set, its RSVP
deadline is no later than its end, its code word is unique among events whatever its case; a member has one
RSVP per event, on the waitlist exactly when it has a place in the line (and no two share one); one
reminder per (event, member, offset), which is what makes a reminder go once; one check-in per member and
event. Transitions that involve several rows (a seat freed → the first on the waitlist promoted) are
events.services', under the event's row lock.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from members.models import Member
from messaging.models import Broadcast, DeliveryStatus

# Reminders before the start, in minutes, unless the organiser chooses others: the day before, two hours before.
DEFAULT_REMINDER_OFFSETS = [24 * 60, 2 * 60]
MAX_REMINDERS = 4
# Texting the code word checks a member in from this long before the start until this long after the end.
CHECK_IN_MARGIN = datetime.timedelta(hours=2)
# An alert's deliveries that reached the member's phone, or as far as we know did: who was invited, and whose
# yes or no may answer it.
ALERT_DELIVERED = (DeliveryStatus.WIRED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


def _default_reminder_offsets() -> list[int]:
    return list(DEFAULT_REMINDER_OFFSETS)


class EventQuerySet(models.QuerySet):
    def open_for_rsvp(self, now: datetime.datetime | None = None) -> EventQuerySet:
        """Events a member may still say yes or no to: not cancelled, not over, before their RSVP deadline."""
        now = now or timezone.now()
        return self.filter(cancelled_at__isnull=True, ends_at__gt=now).filter(
            models.Q(rsvp_deadline__isnull=True) | models.Q(rsvp_deadline__gt=now)
        )

    def checking_in(self, now: datetime.datetime | None = None) -> EventQuerySet:
        """Events whose door is open: from CHECK_IN_MARGIN before the start to as long after the end."""
        now = now or timezone.now()
        return self.filter(
            cancelled_at__isnull=True,
            starts_at__lte=now + CHECK_IN_MARGIN,
            ends_at__gte=now - CHECK_IN_MARGIN,
        )


class Event(models.Model):
    """One event: where, when (stored in UTC, shown in the venue's zone), how many seats."""

    title = models.CharField(max_length=120)
    description = models.TextField(max_length=1000, blank=True)
    # The venue: a gazetteer place (GeoNames id), or coordinates with an address; place fields copied from
    # the gazetteer when a place is given, so the event reads without it.
    place_id = models.PositiveIntegerField(null=True, blank=True, help_text="GeoNames id")
    address = models.CharField(max_length=200, blank=True)  # street and number, hall name…
    place_name = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    time_zone = models.CharField(max_length=64)  # the venue's: how start and end are shown and entered
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(null=True, blank=True)  # None: no limit, no waitlist
    rsvp_deadline = models.DateTimeField(null=True, blank=True)  # None: until the event ends
    # Texted during the event (CHECK_IN_MARGIN around it) to check in; compared whatever its case.
    code_word = models.CharField(max_length=40)
    # The languages its fan texts (alert instruction, confirmations, reminders) go out in: a member's own when
    # listed, else the first. Never empty (the service fills in the leader's default language).
    languages = ArrayField(models.CharField(max_length=8), default=list)
    # Minutes before the start each reminder goes to those who said yes (distinct, positive, at most MAX_REMINDERS).
    reminder_offsets = ArrayField(
        models.PositiveIntegerField(), default=_default_reminder_offsets, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="events_event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__isnull=True) | models.Q(capacity__gte=1),
                name="events_event_capacity_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(rsvp_deadline__isnull=True)
                | models.Q(rsvp_deadline__lte=models.F("ends_at")),
                name="events_event_deadline_before_end",
            ),
            # Coordinates come in pairs, on the globe.
            models.CheckConstraint(
                condition=(
                    models.Q(latitude__isnull=True, longitude__isnull=True)
                    | models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180)
                ),
                name="events_event_coordinates",
            ),
            models.CheckConstraint(
                condition=models.Q(place_id__isnull=False) | models.Q(latitude__isnull=False),
                name="events_event_has_venue",
            ),
            models.CheckConstraint(condition=~models.Q(code_word=""), name="events_event_code_word"),
            models.CheckConstraint(condition=~models.Q(languages=[]), name="events_event_languages"),
            # One event per code word: a text at the door names one event, whatever its case.
            models.UniqueConstraint(Upper("code_word"), name="events_event_code_word_ci_uniq"),
        ]
        indexes = [
            # The inbound path's questions: events open now (RSVP), events whose door is open (check-in).
            models.Index(fields=["ends_at"], name="events_event_open", condition=models.Q(cancelled_at=None)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def local_start(self) -> datetime.datetime:
        return self.starts_at.astimezone(self.zone)

    def local_end(self) -> datetime.datetime:
        return self.ends_at.astimezone(self.zone)

    def rsvp_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.is_cancelled or now >= self.ends_at:
            return False
        return self.rsvp_deadline is None or now < self.rsvp_deadline

    def check_in_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            not self.is_cancelled
            and self.starts_at - CHECK_IN_MARGIN <= now <= self.ends_at + CHECK_IN_MARGIN
        )

    def language_for(self, language: str) -> str:
        """The language a member speaking `language` gets this event's texts in."""
        if language in self.languages:
            return language
        return self.languages[0] if self.languages else "en"

    def matches_code_word(self, text: str) -> bool:
        return text.strip().upper() == self.code_word.strip().upper()


class EventAlert(models.Model):
    """An alert of the event: the broadcast that invited an audience (members within N km, in regions,
    following topics...). Its deliveries are who was invited; a reply from one of them may be an RSVP."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="alerts")
    # A broadcast invites to one event at most; the broadcast keeps its own history if the event goes.
    broadcast = models.OneToOneField(Broadcast, on_delete=models.CASCADE, related_name="event_alert")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"alert {self.broadcast_id} of event {self.event_id}"


class Source(models.TextChoices):
    """Where an RSVP or a check-in came from."""

    TEXT = "text", "Text reply"
    CONSOLE = "console", "Console"
    API = "api", "API"
    PROMOTION = "promotion", "Promoted from the waitlist"  # an RSVP change only


class Rsvp(models.Model):
    """A member's answer to an event, as it stands now (the changes are RsvpChange rows)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Yes"  # has a seat
        WAITLISTED = "waitlisted", "Waitlist"  # said yes when it was full: waits in line (waitlist_position)
        DECLINED = "declined", "No"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices)
    # The place in the waitlist's line (smaller goes first), only while waitlisted; given in arrival order.
    waitlist_position = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.TEXT)
    created_at = models.DateTimeField(default=timezone.now)  # first answer
    updated_at = models.DateTimeField(default=timezone.now)  # latest change
    confirmed_at = models.DateTimeField(null=True, blank=True)  # when they got their seat (latest)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="events_rsvp_once_per_member"),
            models.CheckConstraint(
                condition=(
                    models.Q(status="waitlisted", waitlist_position__isnull=False)
                    | (~models.Q(status="waitlisted") & models.Q(waitlist_position__isnull=True))
                ),
                name="events_rsvp_waitlist_position",
            ),
            models.UniqueConstraint(
                fields=["event", "waitlist_position"],
                condition=models.Q(waitlist_position__isnull=False),
                name="events_rsvp_waitlist_position_uniq",
            ),
        ]
        indexes = [models.Index(fields=["event", "status"], name="events_rsvp_by_status")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.status} for event {self.event_id}"


class RsvpChange(models.Model):
    """One answer or change of mind, with its time: the RSVP's history (yes, then no, then yes again)."""

    rsvp = models.ForeignKey(Rsvp, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=16, choices=Rsvp.Status.choices, blank=True)  # "" at first
    to_status = models.CharField(max_length=16, choices=Rsvp.Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    message_id = models.BigIntegerField(null=True, blank=True)  # the member's text, when by text
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class PendingAnswer(models.Model):
    """A member's yes or no after an alert, stored by the inbound webhook (`inbound.statements.RECEIVE`, in
    the statement that stores the text) and not yet read: events' reader (`services.answers_read`, on a
    queue worker) turns it into an RSVP and answers the member, then deletes the row in the same transaction.
    The webhook never waits on an event's lock nor on the reading, so a burst of 100,000 answers after an
    alert is received as fast as any text. A row is the queue, not a record: it lives for a second or two."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    message_id = models.BigIntegerField(null=True, blank=True)  # the member's text
    answer = models.CharField(max_length=3)  # events.replies.YES or NO
    received_at = models.DateTimeField()  # when the member texted: the RSVP's time, whenever it is read

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(answer="yes") | models.Q(answer="no"), name="events_answer_yes_or_no"
            )
        ]


class Reminder(models.Model):
    """One reminder of one event to one member at one offset: the row is the claim that makes it go once.

    A worker inserts it (claimed, with its token) before sending; the unique key stops a second worker. A
    claim that never got its outcome (the worker died between claiming and sending) is taken over once it
    is stale; the outcome is recorded with the message that went."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed"  # a worker is sending it
        SENT = "sent", "Sent"  # Twilio has it (message_id)
        SKIPPED = "skipped", "Not sent"  # no longer yes, opted out, or no time left outside quiet hours
        FAILED = "failed", "Failed"  # refused by Twilio

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="reminders")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    offset_minutes = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CLAIMED)
    claim_token = models.BigIntegerField(null=True, blank=True)
    claimed_at = models.DateTimeField(default=timezone.now)
    message_id = models.BigIntegerField(null=True, blank=True)  # messaging.Message, once recorded
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "member", "offset_minutes"], name="events_reminder_exactly_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["claimed_at"], name="events_reminder_claimed", condition=models.Q(status="claimed")
            )
        ]


class CheckIn(models.Model):
    """A member at the door: by texting the code word, or checked in by a teammate."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="check_ins")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16, choices=Source.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.BigIntegerField(null=True, blank=True)  # the member's text, when by text
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "member"], name="events_checkin_once_per_member"),
        ]
