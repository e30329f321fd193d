"""surveys.editing, the one place that creates and changes surveys (the console's form and the API call it):
what it tidies, what it refuses and where it says the problem is, and how a survey that went to members
keeps the meaning of its questions."""

from __future__ import annotations

import copy

import pytest

from surveys.editing import SurveyInUseError, SurveyInvalidError, survey_data, survey_delete, survey_save
from surveys.models import MAX_CHOICES, MAX_QUESTION_LENGTH, MAX_QUESTIONS, Choice, Question, Survey
from tests import builders
from tests.surveys import survey_ui_builders as build


def _refused(survey: Survey, data: dict, default_language: str = "en") -> dict[str, list[str]]:
    with pytest.raises(SurveyInvalidError) as caught:
        survey_save(survey=survey, data=data, default_language=default_language)
    return caught.value.fields


def test_a_survey_is_saved_with_its_questions_and_choices_in_order_and_tidied(alice_schema):
    topic = builders.topic()
    data = build.survey_data()
    data["name"] = "  Our   issues  "
    data["questions"][0]["choices"][0].update(topic=topic.pk, synonyms=["salud", " Salud ", "", "doctors"])
    data["questions"][0]["choices"][1]["tag"] = "  Housing   First "
    data["intro"] = {"en": "  Three short questions.  ", "fr": ""}
    survey = survey_save(survey=Survey(), data=data, default_language="en")
    survey.refresh_from_db()
    assert survey.name == "Our issues"
    assert survey.intro == {"en": "Three short questions."}
    assert (survey.trigger, survey.window_hours, survey.is_active) == ("manual", 24, True)
    first, second = survey.questions.all()
    assert (first.position, first.kind, second.position, second.kind) == (1, "multiple", 2, "number")
    assert first.text == {"en": "Which issues matter most to you?", "fr": "Quels sujets comptent le plus ?"}
    assert (second.number_min, second.number_max) == (13, 120)
    health, housing, climate = first.choices.all()
    assert [c.position for c in (health, housing, climate)] == [1, 2, 3]
    assert health.label == {"en": "Health", "fr": "Santé"}
    assert (health.synonyms, health.topic_id) == (["salud", "doctors"], topic.pk)
    assert housing.tag == "housing first"
    assert survey_data(survey)["questions"][0]["choices"][0]["topic"] == topic.pk


def test_a_name_is_unique_whatever_its_case(alice_schema):
    first = build.survey()
    assert _refused(Survey(), build.survey_data(name=first.name.upper())) == {
        "name": ["A survey with this name already exists."]
    }
    # Its own name is not a clash when it is changed.
    survey_save(survey=first, data={"name": first.name.lower()}, default_language="en")


def test_every_text_needs_the_leaders_default_language_and_only_known_languages(alice_schema):
    data = build.survey_data()
    data["questions"][0]["text"] = {"fr": "Quels sujets ?"}
    data["questions"][0]["choices"][2]["label"] = {"en": "Climate", "xx": "?"}
    data["thanks"] = {"fr": "Merci !"}
    fields = _refused(Survey(), data)
    assert fields["questions.0.text"] == ["Write it in the default language (en)."]
    assert "“xx” is not one of the languages" in fields["questions.0.choices.2.label"][0]
    assert fields["thanks"] == ["Write it in the default language (en)."]
    # A French leader: French is what every text must have.
    assert "questions.1.text" in _refused(Survey(), build.survey_data(), default_language="fr")


def test_at_most_max_questions_and_max_choices_and_at_least_two_choices(alice_schema):
    question = {"kind": "text", "text": {"en": "Anything else?"}}
    fields = _refused(Survey(), build.survey_data(questions=[question] * (MAX_QUESTIONS + 1)))
    assert fields == {"questions": [f"At most {MAX_QUESTIONS} questions."]}
    choices = [{"label": {"en": f"C{n}"}} for n in range(MAX_CHOICES + 1)]
    fields = _refused(
        Survey(), build.survey_data(questions=[{"kind": "single", "text": {"en": "?"}, "choices": choices}])
    )
    assert fields == {"questions.0.choices": [f"At most {MAX_CHOICES} choices."]}
    one = [{"kind": "single", "text": {"en": "Pick"}, "choices": choices[:1]}]
    assert _refused(Survey(), build.survey_data(questions=one)) == {
        "questions.0.choices": ["Give at least two choices."]
    }
    assert _refused(Survey(), build.survey_data(questions=[])) == {
        "questions": ["Ask at least one question."]
    }
    with_choices = [{"kind": "number", "text": {"en": "Age?"}, "choices": choices[:2]}]
    assert "questions.0.choices" in _refused(Survey(), build.survey_data(questions=with_choices))


def test_the_question_with_its_options_fits_the_limit_in_every_language(alice_schema):
    long_label = "x" * 55
    data = build.survey_data()
    question = data["questions"][0]
    question["kind"] = "single"
    question["text"]["fr"] = "q" * (MAX_QUESTION_LENGTH - 3 * len(" 1 ") - 2 * len("Santé") - len(long_label))
    question["choices"][2]["label"]["fr"] = long_label
    fields = _refused(Survey(), data)
    assert fields["questions.0.text"] == [
        f"In fr the question and its options are {MAX_QUESTION_LENGTH + 3} characters long; "
        f"the limit is {MAX_QUESTION_LENGTH}."
    ]
    question["choices"][2]["label"]["fr"] = long_label[:-3]
    survey_save(survey=Survey(), data=data, default_language="en")


def test_number_ranges_are_sane_and_only_on_number_questions(alice_schema):
    data = build.survey_data()
    data["questions"][1].update(number_min=50, number_max=10)
    assert _refused(Survey(), data) == {"questions.1.number_max": ["The highest number is below the lowest."]}
    data["questions"][1].update(number_min="ten", number_max=10)
    assert _refused(Survey(), data) == {"questions.1.number_min": ["A whole number."]}
    data["questions"][1].update(number_min=0, number_max=10**12)
    assert "questions.1.number_max" in _refused(Survey(), data)
    data = build.survey_data()
    data["questions"][0]["number_min"] = 1
    assert _refused(Survey(), data) == {"questions.0.number_min": ["Only number questions have a range."]}


def test_a_choices_topic_must_exist_and_its_tag_is_one_tag(alice_schema):
    data = build.survey_data()
    data["questions"][0]["choices"][0]["topic"] = 999_999
    data["questions"][0]["choices"][1]["tag"] = "housing, rent"
    fields = _refused(Survey(), data)
    assert fields == {
        "questions.0.choices.0.topic": ["No such topic."],
        "questions.0.choices.1.tag": ["One tag per choice."],
    }


def test_a_tag_with_a_nul_character_is_refused_not_a_server_error(alice_schema):
    data = build.survey_data()
    data["questions"][0]["choices"][0]["tag"] = "x\x00y"
    assert _refused(Survey(), data) == {"questions.0.choices.0.tag": ["Write the tag as text."]}


def test_a_choice_members_would_answer_with_a_stop_word_is_refused(alice_schema):
    """ "1 Alto 2 Bajo": a member answering "alto" would be opted out, not counted (keywords win)."""
    data = build.survey_data()
    data["questions"][0]["choices"][0]["label"] = {"en": "Alto"}
    data["questions"][0]["choices"][1]["synonyms"] = ["rent", "cancel"]
    fields = _refused(Survey(), data)
    assert fields == {
        "questions.0.choices.0.label": ["Alto is reserved (STOP, START, HELP…)."],
        "questions.0.choices.1.synonyms": ["cancel is reserved (STOP, START, HELP…)."],
    }


def test_unknown_fields_and_kinds_are_named(alice_schema):
    data = build.survey_data(colour="blue")
    data["questions"][1]["kind"] = "essay"
    data["questions"][0]["choices"][0]["weight"] = 3
    fields = _refused(Survey(), data)
    assert set(fields) == {"colour", "questions.1.kind", "questions.0.choices.0.weight"}


def test_one_active_survey_greets_new_members(alice_schema):
    greeting = build.survey(trigger="after_signup")
    fields = _refused(Survey(), build.survey_data(trigger="after_signup"))
    assert fields["trigger"][0].startswith(f"“{greeting.name}” already greets new members")
    second = build.survey(trigger="after_signup", is_active=False)
    assert "trigger" in _refused(second, {"is_active": True})
    survey_save(survey=greeting, data={"is_active": False}, default_language="en")
    survey_save(survey=second, data={"is_active": True}, default_language="en")


def test_without_runs_questions_and_choices_may_be_reordered_and_removed(alice_schema):
    survey = build.survey()
    data = survey_data(survey)
    issues, age = data["questions"]
    issues["choices"] = [issues["choices"][2], issues["choices"][0]]  # Housing removed, Climate first
    survey_save(survey=survey, data={"questions": [age, issues]}, default_language="en")
    first, second = survey.questions.all()
    assert (first.pk, second.pk) == (age["id"], issues["id"])
    assert [c.label["en"] for c in second.choices.all()] == ["Climate", "Health"]
    assert Choice.objects.filter(question=second).count() == 2
    survey_save(survey=survey, data={"questions": [issues]}, default_language="en")
    assert list(survey.questions.values_list("pk", "position")) == [(issues["id"], 1)]
    assert not Question.objects.filter(pk=age["id"]).exists()


def test_ids_must_be_this_surveys(alice_schema):
    other = build.survey()
    survey = build.survey()
    data = survey_data(survey)
    data["questions"][0]["id"] = other.questions.first().pk
    data["questions"][1]["choices"] = []
    data["questions"][0]["choices"][0]["id"] = other.questions.first().choices.first().pk
    fields = _refused(survey, {"questions": data["questions"]})
    assert fields == {"questions.0.id": ["Not a question of this survey."]}


def test_a_survey_with_runs_keeps_its_questions_meaning_but_its_texts_may_change(alice_schema):
    survey = build.survey()
    build.run(survey=survey, member=builders.member())
    data = survey_data(survey)
    before = copy.deepcopy(data)
    issues, age = data["questions"]

    # Texts, labels, synonyms, tags, ranges: fine. A question and a choice added after the others: fine.
    issues["text"]["es"] = "¿Qué temas te importan?"
    issues["choices"][1]["label"]["en"] = "Housing and rent"
    issues["choices"].append({"label": {"en": "Jobs"}})
    age["number_max"] = 110
    data["questions"].append({"kind": "yes_no", "text": {"en": "Will you vote?"}})
    survey_save(survey=survey, data={"questions": data["questions"]}, default_language="en")
    assert [q.kind for q in survey.questions.all()] == ["multiple", "number", "yes_no"]
    assert [c.label["en"] for c in survey.questions.first().choices.all()][1:] == [
        "Housing and rent",
        "Climate",
        "Jobs",
    ]

    changed = survey_data(survey)["questions"]
    reordered = _refused(survey, {"questions": [changed[1], changed[0], changed[2]]})
    assert reordered["questions"][0].startswith("This survey went to 1 member: its questions can no longer")
    assert "questions" in _refused(survey, {"questions": changed[:2]})  # one removed
    without_ids = [{k: v for k, v in q.items() if k != "id"} for q in before["questions"]]
    assert "questions" in _refused(survey, {"questions": without_ids})
    kind = copy.deepcopy(changed)
    kind[2]["kind"] = "text"
    assert _refused(survey, {"questions": kind})["questions.2.kind"] == [
        "This survey went to 1 member: a question's kind can no longer change."
    ]
    choices = copy.deepcopy(changed)
    choices[0]["choices"] = choices[0]["choices"][1:]
    assert "questions.0.choices" in _refused(survey, {"questions": choices})
    choices[0]["choices"] = list(reversed(changed[0]["choices"]))
    assert "questions.0.choices" in _refused(survey, {"questions": choices})
    assert [c.label["en"] for c in survey.questions.first().choices.all()][0] == "Health"


def test_only_a_survey_that_never_went_out_is_deleted(alice_schema):
    survey = build.survey()
    build.run(survey=survey, member=builders.member(), state="queued")
    with pytest.raises(SurveyInUseError):
        survey_delete(survey=survey)
    draft = build.survey()
    survey_delete(survey=draft)
    assert not Survey.objects.filter(pk=draft.pk).exists()
    assert Survey.objects.filter(pk=survey.pk).exists()


def test_nothing_is_written_when_anything_is_wrong(alice_schema):
    survey = build.survey()
    data = survey_data(survey)
    data["name"] = "Renamed"
    data["questions"][1]["number_max"] = -5
    _refused(survey, data)
    survey.refresh_from_db()
    assert survey.name != "Renamed"
    assert survey.questions.get(position=2).number_max == 120
