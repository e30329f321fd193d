"""The surveys pages' forms: a survey with its questions and choices, the send form (the broadcasts'
audience controls), the results' filter.

The survey form is a Django form for the survey's own fields and, for the questions, named inputs read
into the dict surveys.editing takes (`q-0-kind`, `q-0-text-fr`, `q-0-c-2-label-en`…): a page of question
blocks, each with one more empty choice row than it needs, and an empty question block at the end. Empty
blocks and rows are left out. surveys.editing checks everything and names each problem's place
(`questions.1.choices.0.label`); `SurveyEditor.errors_set` puts it back under the input it is about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from console.broadcasts.forms import BroadcastForm
from console.listening.names import language_name
from surveys.models import (
    DEFAULT_WINDOW_HOURS,
    MAX_CHOICES,
    MAX_QUESTIONS,
    MAX_WINDOW_HOURS,
    Question,
    Survey,
)
from topics.models import Topic

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
KIND_LABELS = {
    "single": _("One choice"),
    "multiple": _("Several choices"),
    "number": _("A number"),
    "yes_no": _("Yes or no"),
    "text": _("Free text"),
}
TRIGGER_LABELS = {"manual": _("Sent to a segment"), "after_signup": _("After signup, to every new member")}
STATE_LABELS = {
    "queued": _("Queued"),
    "active": _("Waiting for an answer"),
    "completed": _("Completed"),
    "expired": _("No answer in time"),
    "stopped": _("Stopped"),
    "skipped": _("Not sent"),
}
SPARE_CHOICES = 1  # empty choice rows under a question's choices
CHOICE_ROWS = 4  # rows a new choice question starts with


def languages_for(default_language: str) -> list[tuple[str, str]]:
    """The platform's languages, the leader's default first: (code, name in the reader's language)."""
    codes = [default_language] + [code for code in LANGUAGE_CODES if code != default_language]
    return [(code, language_name(code)) for code in codes]


class SurveyForm(forms.Form):
    """The survey's own fields; intro and thanks get one box per language (added in __init__)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=Survey._meta.get_field("name").max_length,
        error_messages={"required": _("Give the survey a name.")},
        help_text=_("For the team: members never see it."),
    )
    trigger = forms.ChoiceField(
        label=_("Sent"),
        choices=list(TRIGGER_LABELS.items()),
        initial="manual",
        widget=forms.RadioSelect,
    )
    window_hours = forms.IntegerField(
        label=_("Hours to answer"),
        min_value=1,
        max_value=MAX_WINDOW_HOURS,
        initial=DEFAULT_WINDOW_HOURS,
        help_text=_("Without an answer this long after a question, the survey ends for that member."),
    )
    is_active = forms.BooleanField(
        label=_("Survey open"),
        required=False,
        initial=True,
        help_text=_("A closed survey is sent to no one, and no newcomer gets it."),
    )

    def __init__(self, *args, default_language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages = languages_for(default_language)
        for part, label, help_text in (
            ("intro", _("Before the first question"), _("Optional: a line that opens the survey.")),
            ("thanks", _("After the last answer"), _("Optional: a thank-you.")),
        ):
            for code, name in self.languages:
                self.fields[f"{part}_{code}"] = forms.CharField(
                    label=f"{label} ({name})",
                    required=False,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 2, "lang": code, "dir": "auto"}),
                    help_text=help_text if code == default_language else "",
                )

    def texts(self, part: str) -> dict[str, str]:
        return {code: self.cleaned_data.get(f"{part}_{code}") or "" for code, _name in self.languages}

    def fields_of(self, part: str) -> list:
        return [self[f"{part}_{code}"] for code, _name in self.languages]

    def survey_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "trigger": data["trigger"],
            "window_hours": data["window_hours"],
            "is_active": bool(data.get("is_active")),
            "intro": self.texts("intro"),
            "thanks": self.texts("thanks"),
        }

    @staticmethod
    def initial_for(survey: Survey) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": survey.name,
            "trigger": survey.trigger,
            "window_hours": survey.window_hours,
            "is_active": survey.is_active,
        }
        for part in ("intro", "thanks"):
            for code, text in getattr(survey, part).items():
                initial[f"{part}_{code}"] = text
        return initial


@dataclass
class TextBox:
    name: str  # the input's name
    code: str
    language: str
    value: str


@dataclass
class ChoiceRow:
    index: int
    number: int  # as shown: 1..n
    id: int | None
    labels: list[TextBox]
    synonyms: str
    topic: str
    tag: str
    errors: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"c-{self.index}"


@dataclass
class QuestionBlock:
    index: int
    number: int
    id: int | None
    kind: str
    texts: list[TextBox]
    number_min: str
    number_max: str
    order: str
    remove: bool
    choices: list[ChoiceRow]
    locked: bool  # the survey has runs: the kind stays, the question and its choices cannot be removed
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def has_choices(self) -> bool:
        return self.kind in ("single", "multiple")


def _int(value: str) -> int | None:
    value = (value or "").strip()
    if value.lstrip("-").isdecimal() and len(value) <= 12:
        return int(value)
    return None


class SurveyEditor:
    """The questions part of the survey page: blocks read from a POST (or a saved survey), turned into
    surveys.editing's list, and shown again with each problem under its input."""

    def __init__(self, *, default_language: str, locked: bool = False):
        self.languages = languages_for(default_language)
        self.locked = locked
        self.blocks: list[QuestionBlock] = []
        self.errors: list[str] = []  # about the questions as a whole
        # surveys.editing's place of each question and choice it was given -> (block, row) on the page.
        self._places: dict[int, int] = {}
        self._choice_places: dict[tuple[int, int], tuple[int, int]] = {}

    # -- reading ------------------------------------------------------------------------------------------
    def _texts(self, prefix: str, part: str, values: dict[str, str]) -> list[TextBox]:
        return [
            TextBox(name=f"{prefix}-{part}-{code}", code=code, language=name, value=values.get(code, ""))
            for code, name in self.languages
        ]

    def _choice(self, q: int, c: int, *, id: int | None, labels, synonyms, topic, tag) -> ChoiceRow:
        return ChoiceRow(
            index=c,
            number=c + 1,
            id=id,
            labels=self._texts(f"q-{q}-c-{c}", "label", labels),
            synonyms=synonyms,
            topic=topic,
            tag=tag,
        )

    def _spare(self, block: QuestionBlock, rows: int) -> None:
        while len(block.choices) < min(MAX_CHOICES, rows):
            c = len(block.choices)
            block.choices.append(
                self._choice(block.index, c, id=None, labels={}, synonyms="", topic="", tag="")
            )

    def _empty_block(self, q: int) -> QuestionBlock:
        block = QuestionBlock(
            index=q,
            number=q + 1,
            id=None,
            kind="single",
            texts=self._texts(f"q-{q}", "text", {}),
            number_min="",
            number_max="",
            order=str(q + 1),
            remove=False,
            choices=[],
            locked=False,
        )
        self._spare(block, CHOICE_ROWS)
        return block

    def from_survey(self, survey: Survey) -> SurveyEditor:
        for q, question in enumerate(survey.questions.prefetch_related("choices")):
            block = QuestionBlock(
                index=q,
                number=q + 1,
                id=question.pk,
                kind=question.kind,
                texts=self._texts(f"q-{q}", "text", question.text),
                number_min="" if question.number_min is None else str(question.number_min),
                number_max="" if question.number_max is None else str(question.number_max),
                order=str(q + 1),
                remove=False,
                choices=[
                    self._choice(
                        q,
                        c,
                        id=choice.pk,
                        labels=choice.label,
                        synonyms=", ".join(choice.synonyms),
                        topic=str(choice.topic_id or ""),
                        tag=choice.tag,
                    )
                    for c, choice in enumerate(question.choices.all())
                ],
                locked=self.locked,
            )
            if block.has_choices:
                self._spare(block, len(block.choices) + SPARE_CHOICES)
            self.blocks.append(block)
        self.more_questions()
        return self

    def from_post(self, post: QueryDict) -> SurveyEditor:
        count = min(_int(post.get("question-count", "")) or 0, MAX_QUESTIONS + 1)
        for q in range(count):
            prefix = f"q-{q}"
            kind = post.get(f"{prefix}-kind", "")
            choices = []
            rows = min(_int(post.get(f"{prefix}-choice-count", "")) or 0, MAX_CHOICES)
            for c in range(rows):
                cp = f"{prefix}-c-{c}"
                choices.append(
                    self._choice(
                        q,
                        c,
                        id=_int(post.get(f"{cp}-id", "")),
                        labels={code: post.get(f"{cp}-label-{code}", "") for code in LANGUAGE_CODES},
                        synonyms=post.get(f"{cp}-synonyms", ""),
                        topic=post.get(f"{cp}-topic", ""),
                        tag=post.get(f"{cp}-tag", ""),
                    )
                )
            qid = _int(post.get(f"{prefix}-id", ""))
            self.blocks.append(
                QuestionBlock(
                    index=q,
                    number=q + 1,
                    id=qid,
                    kind=kind,
                    texts=self._texts(
                        prefix,
                        "text",
                        {code: post.get(f"{prefix}-text-{code}", "") for code in LANGUAGE_CODES},
                    ),
                    number_min=post.get(f"{prefix}-min", ""),
                    number_max=post.get(f"{prefix}-max", ""),
                    order=post.get(f"{prefix}-order", str(q + 1)),
                    remove=bool(post.get(f"{prefix}-remove")),
                    choices=choices,
                    locked=self.locked and qid is not None,
                )
            )
        return self

    def more_questions(self) -> None:
        """An empty question block at the end, when there is room."""
        if len(self.blocks) < MAX_QUESTIONS:
            self.blocks.append(self._empty_block(len(self.blocks)))

    def more_choices(self) -> None:
        for block in self.blocks:
            self._spare(block, len(block.choices) + 2)

    # -- to surveys.editing ---------------------------------------------------------------------------------
    @staticmethod
    def _blank(boxes: list[TextBox]) -> bool:
        return not any(box.value.strip() for box in boxes)

    def questions(self) -> list[dict[str, Any]]:
        """The questions as surveys.editing takes them: empty blocks and rows left out, removed blocks left
        out, in the order their "order" boxes say (the page's order when equal)."""
        kept = []
        for block in self.blocks:
            choices_blank = all(self._blank(row.labels) for row in block.choices)
            if block.remove or (block.id is None and self._blank(block.texts) and choices_blank):
                continue
            kept.append(block)
        order = {block.index: _int(block.order) for block in kept}
        kept.sort(key=lambda block: (order[block.index] is None, order[block.index] or 0, block.index))
        questions = []
        self._places = {}
        self._choice_places = {}
        for place, block in enumerate(kept):
            self._places[place] = block.index
            choices = []
            if block.has_choices:
                for row in block.choices:
                    if self._blank(row.labels):
                        continue  # a choice with its labels cleared is removed
                    self._choice_places[(place, len(choices))] = (block.index, row.index)
                    choices.append(
                        {
                            "id": row.id,
                            "label": {box.code: box.value for box in row.labels},
                            "synonyms": row.synonyms,
                            "topic": _int(row.topic),
                            "tag": row.tag,
                        }
                    )
            question: dict[str, Any] = {
                "id": block.id,
                "kind": block.kind,
                "text": {box.code: box.value for box in block.texts},
                "choices": choices,
            }
            if block.kind == Question.Kind.NUMBER:
                for key, raw in (("number_min", block.number_min), ("number_max", block.number_max)):
                    value = raw.strip()
                    question[key] = _int(value) if _int(value) is not None else (value or None)
            questions.append(question)
        return questions

    # -- errors back on the page -----------------------------------------------------------------------------
    def errors_set(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put surveys.editing's errors under their inputs; those about the survey's own fields are given
        back, for its form."""
        rest: dict[str, list[str]] = {}
        for path, messages in errors.items():
            parts = path.split(".")
            if parts[0] != "questions":
                rest[path] = messages
                continue
            if len(parts) == 1:
                self.errors += messages
                continue
            block = self.blocks[self._places.get(int(parts[1]), 0)]
            if len(parts) >= 5 and parts[2] == "choices":
                _q, c = self._choice_places.get((int(parts[1]), int(parts[3])), (block.index, 0))
                block.choices[c].errors += messages
            else:
                key = parts[2] if len(parts) > 2 else "question"
                block.errors.setdefault(key, []).extend(messages)
        return rest

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or any(b.errors or any(r.errors for r in b.choices) for b in self.blocks))

    def context(self) -> dict[str, Any]:
        return {
            "blocks": self.blocks,
            "question_errors": self.errors,
            "kinds": list(KIND_LABELS.items()),
            "topics": list(Topic.objects.values_list("pk", "name")),
            "max_questions": MAX_QUESTIONS,
            "max_choices": MAX_CHOICES,
        }


class SurveySendForm(BroadcastForm):
    """Who gets the survey: the broadcast composer's audience controls (whatever filters it gains), without
    its message and timing (runs are paced by the survey engine)."""

    NOT_AUDIENCE = ("body", "when", "send_at", "quiet_hours")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.NOT_AUDIENCE:
            self.fields.pop(name, None)

    def audience_fields(self) -> list:
        return [self[name] for name in self.fields]


class ResultsFilterForm(forms.Form):
    region = forms.CharField(label=_("Region"), required=False, max_length=120)
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Every language")), *languages_for("en")]
