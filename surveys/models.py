"""Surveys (issue 14): a leader's questions, sent to members one at a time as a conversation, and their
answers. A choice may make the member follow a topic (members.MemberInterest) or carry a tag; each answer is
also kept as members.MemberAnswer, which is what audiences read ("answered 2 to question 7").

A member is sent a survey at most once, ever (exactly once, whatever triggers it twice: one PendingRun, then
one Run, per survey and member), and has at most one active run at a time (their next reply answers it). Texts are per language: {"en": "...", "fr": "..."}; the
member's language, else the leader's default language, else the first one written."""

from __future__ import annotations

import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from common.partitions import ListPartitions
from members.models import Member
from topics.models import Topic

DEFAULT_WINDOW_HOURS = 24
MAX_WINDOW_HOURS = 7 * 24
MAX_QUESTIONS = 10
MAX_CHOICES = 12
MAX_QUESTION_LENGTH = 320  # characters, options listed after it included, in any one language


class Survey(models.Model):
    class Trigger(models.TextChoices):
        MANUAL = "manual", "Sent to a segment"
        AFTER_SIGNUP = "after_signup", "After signup"

    name = models.CharField(max_length=80)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    # Without an answer within this many hours after a question went, the run ends (expired).
    window_hours = models.PositiveSmallIntegerField(default=DEFAULT_WINDOW_HOURS)
    # Optional texts around the questions, per language: before the first question, after the last answer.
    intro = models.JSONField(default=dict, blank=True)
    thanks = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="surveys_survey_name_ci_uniq"),
            # One survey greets new members: two would race for their first reply.
            models.UniqueConstraint(
                fields=["trigger"],
                condition=models.Q(trigger="after_signup", is_active=True),
                name="surveys_one_active_after_signup",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def window(self) -> datetime.timedelta:
        return datetime.timedelta(hours=self.window_hours)


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "One choice"
        MULTIPLE = "multiple", "Several choices"
        NUMBER = "number", "A number"
        YES_NO = "yes_no", "Yes or no"
        TEXT = "text", "Free text"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()  # 1..n, the order they are asked in
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.JSONField(default=dict)  # {language: question}
    number_min = models.IntegerField(null=True, blank=True)
    number_max = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["survey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="surveys_question_position_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}.{self.position}"


class Choice(models.Model):
    """One option of a single- or multiple-choice question; members answer with its position ("1,3")."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField()  # 1..n, the number members reply with
    label = models.JSONField(default=dict)  # {language: label}
    # Other words members may answer with, in any language ("vivienda", "logement", "rent").
    synonyms = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tag = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "position"], name="surveys_choice_position_uniq"),
        ]


class PendingRun(models.Model):
    """A member a survey is still to be sent to: queued, due at `due_at` (pacing, quiet hours, another
    active run of theirs). The sender (surveys.services.runs_claim) takes it off this queue when the survey's
    first question goes to them, or when it cannot (a Run, active or skipped, takes its place).

    Kept apart from runs, and lean like messaging.Delivery, because sending a survey to a segment writes a
    hundred thousand of these at once: the table is partitioned by survey (migration 0003), and a survey's
    first send writes its members into a table of their own with no index, indexes it in one sorted pass and
    attaches it (common.partitions), where runs keep every index a conversation needs. The key is each
    partition's unique index on member_id (the bound fixes the survey); no foreign-key constraint (rows are
    only written from members and surveys that exist; erasure and survey deletion remove them)."""

    pk = models.CompositePrimaryKey("survey_id", "member_id")
    survey = models.ForeignKey(
        Survey, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    member = models.ForeignKey(
        Member, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    due_at = models.DateTimeField()  # not before: quiet hours where the member lives, or their other run
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["due_at"], name="surveys_pendingrun_due")]

    def __str__(self) -> str:
        return f"survey {self.survey_id} for member {self.member_id}"


PENDING_PARTITIONS = ListPartitions(
    parent="surveys_pendingrun",
    key="survey_id",
    constraints=(("member", "UNIQUE (member_id)"),),
    indexes=(("due", "(due_at)"),),
)


class Run(models.Model):
    """One member's pass through one survey, from the moment its first question went (or could not go):
    active (a question awaits their answer), then completed, expired (no answer in the window) or stopped
    (they opted out); skipped when they could not be texted when their turn came, or opted out while it was
    still queued. Before that, the member is a PendingRun."""

    class State(models.TextChoices):
        ACTIVE = "active", "Waiting for an answer"
        COMPLETED = "completed", "Completed"
        EXPIRED = "expired", "No answer in time"
        STOPPED = "stopped", "Stopped"
        SKIPPED = "skipped", "Not sent"

    FINAL = frozenset({State.COMPLETED, State.EXPIRED, State.STOPPED, State.SKIPPED})
    # How results and the API name the members still queued (PendingRun rows), beside the runs' states.
    QUEUED = "queued"

    # Runs are written one at a time as questions go out (a batch per second at most), but each holds a
    # member's conversation: no database foreign keys all the same (surveys/0002), Django's on_delete
    # cascades, and no index the unique (survey, member) key already serves.
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="runs", db_constraint=False, db_index=False
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    question = models.ForeignKey(
        Question,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # Meta.indexes: only runs that have a question
    )
    reasked = models.BooleanField(
        default=False
    )  # the current question was asked again after an unclear answer
    due_at = models.DateTimeField(default=timezone.now)  # when it was due in the queue (PendingRun.due_at)
    started_at = models.DateTimeField(null=True, blank=True)
    asked_at = models.DateTimeField(null=True, blank=True)  # the current question went
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)  # when the member was queued

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "member"], name="surveys_run_once_per_member"),
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(state="active"),
                name="surveys_one_active_run_per_member",
            ),
        ]
        indexes = [
            models.Index(
                fields=["state", "expires_at"], name="surveys_run_active", condition=models.Q(state="active")
            ),
            models.Index(fields=["survey", "state"], name="surveys_run_by_survey_state"),  # counts by state
            models.Index(
                fields=["question"], name="surveys_run_question", condition=models.Q(question__isnull=False)
            ),
        ]


class Answer(models.Model):
    """A member's answer to one question, as given and as understood."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+", db_index=False)
    choices = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)  # positions
    value = models.CharField(max_length=200, blank=True)  # number, "yes"/"no", free text; normalised
    raw = models.CharField(max_length=1600)  # the member's text as it came
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "question"], name="surveys_answer_once_per_question"),
        ]
        indexes = [models.Index(fields=["question", "created_at"])]
