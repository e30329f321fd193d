"""Triage: every inbound text sorted by topic, language and place as it arrives, grouped with its copies,
counted for the topic × region matrix, and routed to a team. These tables live in each leader's schema.

A text is triaged once, off the hot path (triage.tasks, in batches): its Label row says what it is about.
The inbound receiver only marks the leader's triage as wanted (State.pending); see docs/architecture.md,
"Triage".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from messaging.models import Conversation, Message
from topics.models import Topic

# Below this confidence a text stays unsorted rather than guessed (Leader.triage_threshold overrides it).
DEFAULT_THRESHOLD = 0.7


class PlaceSource(models.TextChoices):
    """Where a text's place came from, most trusted first: the order triage tries them in."""

    MEMBER = "member", "The member's city"
    CARRIER = "carrier", "The carrier (Twilio's FromCity/FromState)"
    PHONE = "phone", "The phone number's region"
    TEXT = "text", "A place named in the text"
    NONE = "", "Unknown"


class DuplicateGroup(models.Model):
    """Texts that say the same thing (a copy-paste campaign): one row to read, with a count.

    `fingerprint` is the exact key (the text folded: case, accents, spacing, punctuation, emoji); near
    duplicates join the group of the text they are closest to (triage.duplicates)."""

    fingerprint = models.CharField(max_length=64)
    first_message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="triage_duplicategroup_fingerprint_uniq")
        ]
        indexes = [models.Index(fields=["-count"])]


class Label(models.Model):
    """What one inbound text is: its topic (or none: unsorted), its language, where its sender is, and the
    group of its copies. Written once by triage; a teammate may move it to another topic (corrected_by),
    which makes the text an example for this leader's classifier."""

    message = models.OneToOneField(Message, primary_key=True, on_delete=models.CASCADE, related_name="label")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    member_id = models.BigIntegerField(null=True, blank=True)  # the members.Member, when the sender is one
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField(default=0.0)  # of the classifier's best topic, kept even when unsorted
    language = models.CharField(max_length=8, blank=True)  # ISO 639-1, "" when it can't be told
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=120, blank=True)  # a region's name, as members.Member.region
    city = models.CharField(max_length=120, blank=True)
    place_source = models.CharField(max_length=8, choices=PlaceSource.choices, blank=True)
    duplicates = models.ForeignKey(
        DuplicateGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="labels"
    )
    received_at = models.DateTimeField()  # the message's created_at, copied: the matrix's time axis
    triaged_at = models.DateTimeField(default=timezone.now)
    # Counted among the matrix's open texts until the conversation is answered or marked done.
    open = models.BooleanField(default=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    corrected_at = models.DateTimeField(null=True, blank=True)
    # What the classifier said before the correction (for the accuracy on the team's corrections).
    predicted_topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "open"], name="triage_label_conversation"),
            models.Index(fields=["topic", "-received_at"], name="triage_label_topic"),
            models.Index(fields=["country", "region", "-received_at"], name="triage_label_region"),
            models.Index(
                fields=["-corrected_at"],
                name="triage_label_corrected",
                condition=models.Q(corrected_at__isnull=False),
            ),
        ]


class Count(models.Model):
    """Counter rows for the topic × region × language matrix, per hour of arrival: the matrix sums these,
    never COUNT(*) over the labels. Added to in batches (INSERT … ON CONFLICT DO UPDATE).

    topic_id 0 is "unsorted"; region "" is "unknown place"."""

    hour = models.DateTimeField()
    topic_id = models.IntegerField()
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=120, blank=True)
    language = models.CharField(max_length=8, blank=True)
    texts = models.PositiveIntegerField(default=0)
    open = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "topic_id", "country", "region", "language"], name="triage_count_cell_uniq"
            )
        ]


class State(models.Model):
    """One row per leader schema (id 1): whether a triage run is wanted, and how far triage has gone.

    The receiver sets `pending` (one UPDATE that writes only when it was false) and queues a run; the run
    clears it before reading, so a text stored meanwhile queues the next run."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)
    # Every inbound message up to this id has a label (or needs none).
    cursor = models.BigIntegerField(default=0)
    ran_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="triage_state_single_row")]


class Team(models.Model):
    """A group of teammates that answers some topics or places ("Health", "British Columbia MPs")."""

    name = models.CharField(max_length=80, unique=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="triage_teams", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    """Topic and/or region → team, with a response-time target. The first matching rule (by position)
    routes a conversation."""

    position = models.PositiveSmallIntegerField(default=0)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=120, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rules")
    response_minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]


class Route(models.Model):
    """Which team a conversation went to, by which rule, and when."""

    conversation = models.OneToOneField(
        Conversation, primary_key=True, on_delete=models.CASCADE, related_name="route"
    )
    team = models.ForeignKey(Team, null=True, on_delete=models.SET_NULL, related_name="+")
    rule = models.ForeignKey(Rule, null=True, on_delete=models.SET_NULL, related_name="+")
    routed_at = models.DateTimeField(default=timezone.now)
    # Who routing gave it to (None: it had a teammate already, or the team had no one active). Its latest
    # routed_at per teammate breaks ties between equally loaded teammates (triage.routing).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # Meta.indexes: (assigned_to, -routed_at)
    )

    class Meta:
        indexes = [
            models.Index(fields=["team"]),
            models.Index(
                fields=["assigned_to", "-routed_at"],
                name="triage_route_assignee",
                condition=models.Q(assigned_to__isnull=False),
            ),
        ]
