"""A leader's surveys as the console and the API create and change them: one set of rules, so both refuse
the same things in the same words (as triage.topics is for topics).

A survey is written as one JSON-like dict (the API's body, and what the console's form builds):

    {"name": "Issues", "trigger": "manual" | "after_signup", "window_hours": 24, "is_active": true,
     "intro": {"en": "..."}, "thanks": {"en": "..."},
     "questions": [
         {"id": 7,            # an existing question of this survey; left out: a new question
          "kind": "single",   # surveys.models.Question.Kind
          "text": {"en": "Which issues matter most to you?", "fr": "..."},
          "number_min": null, "number_max": null,        # number questions only
          "choices": [{"id": 3, "label": {"en": "Health"}, "synonyms": ["salud"], "topic": 5, "tag": "health"}]}
     ]}

The questions' order in the list is their order in the survey (positions 1..n), the choices' order is the
number members reply with. Every key is optional when changing a survey (PATCH: what is left out stays);
`questions`, when given, is the whole list: a question or choice left out is removed.

A survey that has runs (it went to members) keeps the meaning of its questions: their texts, labels,
synonyms, topics, tags and number ranges may change, new questions and choices may come after the others,
but none is removed, reordered or changes kind, or the answers already given would read as answers to
something else. Errors name their place as a dotted path (`questions.1.choices.0.label`), the API's
convention for nested fields, which the console's form maps back to its inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from messaging.keywords import keyword_reserved
from surveys.models import (
    MAX_CHOICES,
    MAX_QUESTION_LENGTH,
    MAX_QUESTIONS,
    MAX_WINDOW_HOURS,
    PENDING_PARTITIONS,
    Choice,
    Question,
    Survey,
)
from surveys.selectors import survey_reach
from surveys.texts import QuestionView, question_text
from topics.models import Topic

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
MAX_NAME_LENGTH = Survey._meta.get_field("name").max_length
MAX_LABEL_LENGTH = 60
MAX_SYNONYMS = 20
MAX_SYNONYM_LENGTH = Choice._meta.get_field("synonyms").base_field.max_length
MAX_TAG_LENGTH = Choice._meta.get_field("tag").max_length
MAX_AROUND_LENGTH = 320  # an intro or a thanks, in any one language
NUMBER_LIMIT = 1_000_000_000  # a number question's bounds stay well inside PostgreSQL's integer
CHOICE_KINDS = (Question.Kind.SINGLE, Question.Kind.MULTIPLE)
SURVEY_KEYS = ("name", "trigger", "window_hours", "is_active", "intro", "thanks", "questions")
QUESTION_KEYS = ("id", "kind", "text", "number_min", "number_max", "choices")
CHOICE_KEYS = ("id", "label", "synonyms", "topic", "tag")


class SurveyInvalidError(Exception):
    """What is wrong with a survey: {dotted path: [messages]}; "" for the survey as a whole."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k or 'survey'}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


class SurveyInUseError(Exception):
    """The survey went to members: it cannot be deleted (its answers would go with it)."""


def question_sent_length(
    *, kind: str, text: dict[str, str], labels: list[dict[str, str]], language: str, default_language: str
) -> int:
    """How long the question is in `language` as members get it, its options listed after it ("Which
    issues matter most?\n1 Health\n2 Housing", as surveys.texts.question_text builds it): the limit
    MAX_QUESTION_LENGTH holds for that."""
    options = list(enumerate(labels, start=1)) if kind in CHOICE_KINDS else ()
    view = QuestionView(kind=kind, text=text, options=options)
    return len(question_text(view, language=language, default_language=default_language))


@dataclass
class _Checked:
    """A survey's fields once checked, ready to write."""

    fields: dict[str, Any]
    questions: list[dict[str, Any]] | None  # None: leave the questions as they are


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(str(message))


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _texts(
    errors: _Errors,
    path: str,
    value: Any,
    *,
    default_language: str,
    max_length: int,
    required: bool,
    multiline: bool = False,
) -> dict[str, str]:
    """A {language: text} dict: known languages only, blanks dropped, the leader's default language
    present when anything is (always, when `required`)."""
    if value in (None, ""):
        value = {}
    if not isinstance(value, dict):
        errors.add(path, _('Give the text per language, like {"en": "…"}.'))
        return {}
    texts: dict[str, str] = {}
    for language, text in value.items():
        if language not in LANGUAGE_CODES:
            errors.add(
                path,
                _("“%(code)s” is not one of the languages: %(codes)s.")
                % {"code": str(language)[:20], "codes": ", ".join(LANGUAGE_CODES)},
            )
            continue
        if text is None:
            continue
        if not isinstance(text, str) or "\x00" in text:
            errors.add(path, _("Write the text as text."))
            continue
        text = "\n".join(_tidy(line) for line in text.strip().splitlines()) if multiline else _tidy(text)
        if not text:
            continue
        if len(text) > max_length:
            errors.add(
                path,
                _("In %(language)s it is %(count)d characters long; the limit is %(limit)d.")
                % {"language": language, "count": len(text), "limit": max_length},
            )
        texts[language] = text
    if (required or texts) and not texts.get(default_language):
        errors.add(
            path, _("Write it in the default language (%(language)s).") % {"language": default_language}
        )
    return texts


def _integer(errors: _Errors, path: str, value: Any, *, low: int, high: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, _("A whole number."))
        return None
    if not low <= value <= high:
        errors.add(path, _("Between %(low)d and %(high)d.") % {"low": low, "high": high})
        return None
    return value


def _id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return -1  # never a row's id: reported as unknown
    return value


def _unknown_keys(errors: _Errors, path: str, data: dict, known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            errors.add(
                f"{path}.{key}" if path else str(key)[:60],
                _("Unknown field; known: %(known)s.") % {"known": ", ".join(known)},
            )


def _tag(errors: _Errors, path: str, value: Any) -> str:
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or "\x00" in value:  # PostgreSQL refuses NUL in text
        errors.add(path, _("Write the tag as text."))
        return ""
    if "," in value or ";" in value:
        errors.add(path, _("One tag per choice."))
        return ""
    tag = _tidy(value)
    if len(tag) > MAX_TAG_LENGTH:
        errors.add(path, _("A tag is at most %(n)d characters long.") % {"n": MAX_TAG_LENGTH})
    return tag.lower()[:MAX_TAG_LENGTH]  # a few letters grow when lower-cased (İ): cut, not refused


def _synonyms(errors: _Errors, path: str, value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):  # the console's box: separated by commas
        value = value.replace(";", ",").split(",")
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        errors.add(path, _("A list of words."))
        return []
    seen: dict[str, str] = {}
    for word in value:
        word = _tidy(word.replace("\x00", ""))
        if not word:
            continue
        if len(word) > MAX_SYNONYM_LENGTH:
            errors.add(path, _("A synonym is at most %(n)d characters long.") % {"n": MAX_SYNONYM_LENGTH})
            continue
        seen.setdefault(word.casefold(), word)
    if len(seen) > MAX_SYNONYMS:
        errors.add(path, _("At most %(n)d synonyms.") % {"n": MAX_SYNONYMS})
    return list(seen.values())


def _choices(
    errors: _Errors, path: str, value: Any, *, kind: str, default_language: str, topic_ids: set[int]
) -> list[dict[str, Any]]:
    if value in (None, ""):
        value = []
    if not isinstance(value, list):
        errors.add(path, _("A list of choices."))
        return []
    if kind not in CHOICE_KINDS:
        if value and kind:  # an unknown kind ("") is the error to fix first
            errors.add(path, _("Only questions with one or several choices list choices."))
        return []
    if len(value) < 2:
        errors.add(path, _("Give at least two choices."))
    if len(value) > MAX_CHOICES:
        errors.add(path, _("At most %(n)d choices.") % {"n": MAX_CHOICES})
    choices = []
    for index, raw in enumerate(value[:MAX_CHOICES]):
        here = f"{path}.{index}"
        if not isinstance(raw, dict):
            errors.add(here, _("A choice is an object with its label."))
            continue
        _unknown_keys(errors, here, raw, CHOICE_KEYS)
        topic = raw.get("topic")
        topic_id = topic.pk if isinstance(topic, Topic) else _id(topic)
        if topic_id is not None and topic_id not in topic_ids:
            errors.add(f"{here}.topic", _("No such topic."))
            topic_id = None
        choices.append(
            {
                "id": _id(raw.get("id")),
                "label": _texts(
                    errors,
                    f"{here}.label",
                    raw.get("label"),
                    default_language=default_language,
                    max_length=MAX_LABEL_LENGTH,
                    required=True,
                ),
                "synonyms": _synonyms(errors, f"{here}.synonyms", raw.get("synonyms")),
                "topic_id": topic_id,
                "tag": _tag(errors, f"{here}.tag", raw.get("tag")),
            }
        )
        _reserved_refuse(errors, here, choices[-1])
    return choices


def _reserved_refuse(errors: _Errors, here: str, choice: dict) -> None:
    """A choice a member would answer with a carrier's or the platform's keyword ("Alto", "Cancel", "End")
    would opt them out instead of answering: keywords always win, so such a label or synonym is refused."""
    for field, words in (("label", (choice["label"] or {}).values()), ("synonyms", choice["synonyms"])):
        for word in words:
            if keyword_reserved(word):
                errors.add(
                    f"{here}.{field}", _("%(keyword)s is reserved (STOP, START, HELP…).") % {"keyword": word}
                )
                break


def _questions(errors: _Errors, value: Any, *, default_language: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        errors.add("questions", _("A list of questions."))
        return []
    if not value:
        errors.add("questions", _("Ask at least one question."))
    if len(value) > MAX_QUESTIONS:
        errors.add("questions", _("At most %(n)d questions.") % {"n": MAX_QUESTIONS})
    topic_ids = set(Topic.objects.values_list("pk", flat=True))
    questions = []
    for index, raw in enumerate(value[:MAX_QUESTIONS]):
        here = f"questions.{index}"
        if not isinstance(raw, dict):
            errors.add(here, _("A question is an object with its kind and text."))
            continue
        _unknown_keys(errors, here, raw, QUESTION_KEYS)
        kind = raw.get("kind")
        if kind not in Question.Kind.values:
            errors.add(f"{here}.kind", _("One of: %(kinds)s.") % {"kinds": ", ".join(Question.Kind.values)})
            kind = ""  # what depends on the kind is not checked: the kind is what to fix
            known_kind = False
        else:
            known_kind = True
        text = _texts(
            errors,
            f"{here}.text",
            raw.get("text"),
            default_language=default_language,
            max_length=MAX_QUESTION_LENGTH,
            required=True,
        )
        number_min = _integer(
            errors, f"{here}.number_min", raw.get("number_min"), low=-NUMBER_LIMIT, high=NUMBER_LIMIT
        )
        number_max = _integer(
            errors, f"{here}.number_max", raw.get("number_max"), low=-NUMBER_LIMIT, high=NUMBER_LIMIT
        )
        if known_kind and kind != Question.Kind.NUMBER and (number_min is not None or number_max is not None):
            errors.add(f"{here}.number_min", _("Only number questions have a range."))
            number_min = number_max = None
        if number_min is not None and number_max is not None and number_min > number_max:
            errors.add(f"{here}.number_max", _("The highest number is below the lowest."))
        choices = _choices(
            errors,
            f"{here}.choices",
            raw.get("choices"),
            kind=kind,
            default_language=default_language,
            topic_ids=topic_ids,
        )
        if known_kind and text.get(default_language):
            labels = [choice["label"] for choice in choices]
            for language in LANGUAGE_CODES:
                length = question_sent_length(
                    kind=kind, text=text, labels=labels, language=language, default_language=default_language
                )
                if length > MAX_QUESTION_LENGTH:
                    errors.add(
                        f"{here}.text",
                        _(
                            "In %(language)s the question and its options are %(count)d characters "
                            "long; the limit is %(limit)d."
                        )
                        % {"language": language, "count": length, "limit": MAX_QUESTION_LENGTH},
                    )
                    break
        questions.append(
            {
                "id": _id(raw.get("id")),
                "kind": kind,
                "text": text,
                "number_min": number_min,
                "number_max": number_max,
                "choices": choices,
            }
        )
    return questions


def _check(survey: Survey, data: dict[str, Any], *, default_language: str) -> _Checked:
    errors = _Errors()
    if not isinstance(data, dict):
        raise SurveyInvalidError({"": [_("A survey is an object with its name and questions.")]})
    _unknown_keys(errors, "", data, SURVEY_KEYS)
    adding = survey._state.adding
    fields: dict[str, Any] = {}
    if "name" in data or adding:
        name = data.get("name")
        name = _tidy(name) if isinstance(name, str) else ""
        if not name:
            errors.add("name", _("Give the survey a name."))
        elif len(name) > MAX_NAME_LENGTH:
            errors.add("name", _("At most %(n)d characters.") % {"n": MAX_NAME_LENGTH})
        elif Survey.objects.filter(name__iexact=name).exclude(pk=survey.pk).exists():
            errors.add("name", _("A survey with this name already exists."))
        fields["name"] = name
    if "trigger" in data:
        if data["trigger"] not in Survey.Trigger.values:
            errors.add("trigger", _("One of: %(values)s.") % {"values": ", ".join(Survey.Trigger.values)})
        else:
            fields["trigger"] = data["trigger"]
    if "window_hours" in data:
        hours = _integer(errors, "window_hours", data["window_hours"], low=1, high=MAX_WINDOW_HOURS)
        if hours is None and "window_hours" not in errors:
            errors.add("window_hours", _("How many hours members have to answer."))
        fields["window_hours"] = hours
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.add("is_active", _("True or false."))
        else:
            fields["is_active"] = data["is_active"]
    for name in ("intro", "thanks"):
        if name in data:
            fields[name] = _texts(
                errors,
                name,
                data[name],
                default_language=default_language,
                max_length=MAX_AROUND_LENGTH,
                required=False,
                multiline=True,
            )
    trigger = fields.get("trigger", survey.trigger)
    is_active = fields.get("is_active", survey.is_active)
    if trigger == Survey.Trigger.AFTER_SIGNUP and is_active:
        other = (
            Survey.objects.filter(trigger=Survey.Trigger.AFTER_SIGNUP, is_active=True)
            .exclude(pk=survey.pk)
            .first()
        )
        if other is not None:
            errors.add(
                "trigger",
                _("“%(name)s” already greets new members: one survey at a time does. Make it inactive first.")
                % {"name": other.name},
            )
    questions = None
    if "questions" in data or adding:
        questions = _questions(errors, data.get("questions", []), default_language=default_language)
        if not errors:
            _structure_check(errors, survey, questions)
    if errors:
        raise SurveyInvalidError(dict(errors))
    return _Checked(fields=fields, questions=questions)


def _structure_check(errors: _Errors, survey: Survey, questions: list[dict[str, Any]]) -> None:
    """Questions and choices named by id are this survey's; once it has runs, the ones it had stay, in
    their order and kind (new ones may only come after them)."""
    if survey._state.adding:
        for index, question in enumerate(questions):
            if question["id"] is not None:
                errors.add(f"questions.{index}.id", _("Not a question of this survey."))
            for position, choice in enumerate(question["choices"]):
                if choice["id"] is not None:
                    errors.add(
                        f"questions.{index}.choices.{position}.id", _("Not a choice of this question.")
                    )
        return
    existing = {q.pk: q for q in survey.questions.prefetch_related("choices")}
    seen: set[int] = set()
    for index, question in enumerate(questions):
        qid = question["id"]
        if qid is None:
            continue
        if qid not in existing or qid in seen:
            errors.add(f"questions.{index}.id", _("Not a question of this survey."))
            continue
        seen.add(qid)
        choice_ids = {c.pk for c in existing[qid].choices.all()}
        seen_choices: set[int] = set()
        for position, choice in enumerate(question["choices"]):
            cid = choice["id"]
            if cid is not None and (cid not in choice_ids or cid in seen_choices):
                errors.add(f"questions.{index}.choices.{position}.id", _("Not a choice of this question."))
            elif cid is not None:
                seen_choices.add(cid)
    if errors:
        return
    runs = survey_reach(survey=survey)
    if not runs:
        return
    reason = ngettext(
        "This survey went to %(n)d member: ",
        "This survey went to %(n)d members: ",
        runs,
    ) % {"n": runs}
    old = sorted(existing.values(), key=lambda q: q.position)
    given = [question["id"] for question in questions[: len(old)]]
    if given != [q.pk for q in old]:
        errors.add(
            "questions",
            reason
            + _(
                "its questions can no longer be removed or reordered (the answers given would read as "
                "answers to another question). Change their texts, add questions after them, or make a "
                "new survey."
            ),
        )
        return
    for index, (question, before) in enumerate(zip(questions, old, strict=False)):
        if question["kind"] != before.kind:
            errors.add(f"questions.{index}.kind", reason + _("a question's kind can no longer change."))
        old_choices = [c.pk for c in sorted(before.choices.all(), key=lambda c: c.position)]
        given_choices = [choice["id"] for choice in question["choices"][: len(old_choices)]]
        if given_choices != old_choices:
            errors.add(
                f"questions.{index}.choices",
                reason
                + _(
                    "its choices can no longer be removed or reordered (members answered with their "
                    "numbers). Change their labels, or add choices after them."
                ),
            )


def survey_check(*, survey: Survey, data: dict[str, Any], default_language: str) -> None:
    """What survey_save would refuse, without writing anything: SurveyInvalidError or nothing."""
    _check(survey, data, default_language=default_language)


@transaction.atomic
def survey_save(*, survey: Survey, data: dict[str, Any], default_language: str) -> Survey:
    """Create `survey` (unsaved) or change it with `data` (the dict described above), through every rule of
    this module. `default_language` is the leader's: every text must have it. SurveyInvalidError, naming
    each problem's place, when anything is wrong; nothing is written then."""
    if not survey._state.adding:
        # Changes to one survey one at a time: two teammates' edits (or an edit and a send) never interleave.
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
    checked = _check(survey, data, default_language=default_language)
    for field, value in checked.fields.items():
        setattr(survey, field, value)
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError as exc:  # the same name, or a second greeting survey, saved a moment ago
        if "after_signup" in str(exc):
            raise SurveyInvalidError(
                {"trigger": [_("Another survey already greets new members: one survey at a time does.")]}
            ) from None
        raise SurveyInvalidError({"name": [_("A survey with this name already exists.")]}) from None
    if checked.questions is not None:
        _questions_write(survey, checked.questions)
    return survey


def _questions_write(survey: Survey, questions: list[dict[str, Any]]) -> None:
    """The questions (and their choices) as given, in this order. Positions move through a range no row
    uses first, so swapping two never trips the (survey, position) unique constraint."""
    kept = [q["id"] for q in questions if q["id"] is not None]
    survey.questions.exclude(pk__in=kept).delete()  # only a survey without runs loses questions
    survey.questions.update(position=F("position") + 1000)
    for position, data in enumerate(questions, start=1):
        fields = {
            "position": position,
            "kind": data["kind"],
            "text": data["text"],
            "number_min": data["number_min"],
            "number_max": data["number_max"],
        }
        if data["id"] is None:
            question = Question.objects.create(survey=survey, **fields)
        else:
            question = Question(pk=data["id"], survey=survey, **fields)
            question.save(update_fields=list(fields))
        _choices_write(question, data["choices"])


def _choices_write(question: Question, choices: list[dict[str, Any]]) -> None:
    kept = [c["id"] for c in choices if c["id"] is not None]
    question.choices.exclude(pk__in=kept).delete()
    question.choices.update(position=F("position") + 1000)
    for position, data in enumerate(choices, start=1):
        fields = {
            "position": position,
            "label": data["label"],
            "synonyms": data["synonyms"],
            "topic_id": data["topic_id"],
            "tag": data["tag"],
        }
        if data["id"] is None:
            Choice.objects.create(question=question, **fields)
        else:
            Choice(pk=data["id"], question=question, **fields).save(update_fields=list(fields))


@transaction.atomic
def survey_delete(*, survey: Survey) -> None:
    """Delete a survey that never went to anyone. One with runs keeps its answers: make it inactive."""
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    if survey_reach(survey=survey):
        raise SurveyInUseError(
            _("This survey went to members: its answers are kept. Make it inactive instead of deleting it.")
        )
    PENDING_PARTITIONS.drop(survey.pk)  # its queue's partition, empty (an after-signup survey's, say)
    survey.delete()


def survey_data(survey: Survey) -> dict[str, Any]:
    """A saved survey as the dict survey_save takes: what an edit starts from."""
    return {
        "name": survey.name,
        "trigger": survey.trigger,
        "window_hours": survey.window_hours,
        "is_active": survey.is_active,
        "intro": dict(survey.intro),
        "thanks": dict(survey.thanks),
        "questions": [
            {
                "id": question.pk,
                "kind": question.kind,
                "text": dict(question.text),
                "number_min": question.number_min,
                "number_max": question.number_max,
                "choices": [
                    {
                        "id": choice.pk,
                        "label": dict(choice.label),
                        "synonyms": list(choice.synonyms),
                        "topic": choice.topic_id,
                        "tag": choice.tag,
                    }
                    for choice in question.choices.all()
                ],
            }
            for question in survey.questions.prefetch_related("choices")
        ],
    }
