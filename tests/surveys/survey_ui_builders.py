"""Surveys as the console and the API make them (through surveys.editing), and the runs and answers the
survey engine would have written, for the tests of the surveys' pages, API and results."""

from __future__ import annotations

import uuid

from django.utils import timezone

from members.models import Member
from surveys.editing import survey_save
from surveys.models import PENDING_PARTITIONS, Answer, PendingRun, Question, Run, Survey


def survey_data(**overrides) -> dict:
    """Two questions: which issues (several choices: Health, Housing, Climate) and the member's age."""
    data = {
        "name": "Issues " + uuid.uuid4().hex[:8],
        "questions": [
            {
                "kind": "multiple",
                "text": {"en": "Which issues matter most to you?", "fr": "Quels sujets comptent le plus ?"},
                "choices": [
                    {"label": {"en": "Health", "fr": "Santé"}, "synonyms": ["salud", "doctors"]},
                    {"label": {"en": "Housing", "fr": "Logement"}, "tag": "Housing"},
                    {"label": {"en": "Climate", "fr": "Climat"}},
                ],
            },
            {"kind": "number", "text": {"en": "How old are you?"}, "number_min": 13, "number_max": 120},
        ],
    }
    data.update(overrides)
    return data


def survey(**overrides) -> Survey:
    return survey_save(survey=Survey(), data=survey_data(**overrides), default_language="en")


def run(*, survey: Survey, member: Member, state: str = Run.State.COMPLETED, **fields) -> Run | PendingRun:
    """A run in `state`; "queued" (Run.QUEUED): the member's place in the survey's queue instead."""
    now = timezone.now()
    fields.setdefault("created_at", now)
    if state == Run.QUEUED:
        PENDING_PARTITIONS.ensure(survey.pk)
        fields.setdefault("due_at", now)
        return PendingRun.objects.create(survey=survey, member=member, **fields)
    fields.setdefault("started_at", now)
    fields.setdefault("asked_at", now)
    if state in Run.FINAL and state != Run.State.SKIPPED:
        fields.setdefault("finished_at", now)
    return Run.objects.create(survey=survey, member=member, state=state, **fields)


def answer(
    *, run: Run, question: Question, choices=(), value: str = "", raw: str | None = None, language: str = "en"
) -> Answer:
    return Answer.objects.create(
        run=run,
        question=question,
        member_id=run.member_id,
        choices=list(choices),
        value=value,
        raw=raw if raw is not None else (value or ",".join(map(str, choices))),
        language=language,
    )
