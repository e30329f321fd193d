"""Builders and steps for the survey engine's tests: surveys written as a team writes them, the bulk lane's
sender run as a worker runs it, and a leader whose sending window is open all day (quiet hours would
otherwise hold a run depending on when the suite runs)."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from surveys.models import Choice, Question, Survey
from tests.queue import run_queued

SENDER = "surveys.tasks.runs_dispatch"


def bulk_cluster() -> str:
    return settings.BROADCAST_CLUSTER


def open_all_day(leader) -> Leader:
    """No quiet hours for this test (its transaction is rolled back): the window opens when it closes."""
    Leader.objects.filter(pk=leader.pk).update(
        quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(0, 0)
    )
    leader.refresh_from_db()
    return leader


def survey(
    *,
    leader,
    questions: list[dict],
    trigger: str = Survey.Trigger.MANUAL,
    intro: dict | None = None,
    thanks: dict | None = None,
    **fields,
) -> Survey:
    """A survey with its questions in order: each {"kind", "text": {lang: ...}, "choices": [{"label":
    {lang: ...}, "topic": Topic, "tag": str, "synonyms": [...]}, ...], "number_min", "number_max"}."""
    with schema_context(leader.schema_name):
        row = Survey.objects.create(
            name=fields.pop("name", "survey " + uuid.uuid4().hex[:8]),
            trigger=trigger,
            intro=intro or {},
            thanks=thanks or {},
            **fields,
        )
        for position, spec in enumerate(questions, start=1):
            question = Question.objects.create(
                survey=row,
                position=position,
                kind=spec["kind"],
                text=spec["text"],
                number_min=spec.get("number_min"),
                number_max=spec.get("number_max"),
            )
            for index, choice in enumerate(spec.get("choices", []), start=1):
                Choice.objects.create(
                    question=question,
                    position=index,
                    label=choice["label"],
                    topic=choice.get("topic"),
                    tag=choice.get("tag", ""),
                    synonyms=choice.get("synonyms", []),
                )
    return row


def senders_run() -> list[str]:
    """Run the queued survey senders, as a bulk-lane worker would."""
    return run_queued(SENDER, bulk_cluster())


def sent_to(twilio, phone: str) -> list[str]:
    """The bodies the fake Twilio accepted for this phone, in order."""
    return [message["body"] for message in twilio.messages if message["to"] == phone]


def later(**delta) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(**delta)
