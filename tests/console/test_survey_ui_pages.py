"""The console's surveys pages: who may see what, a survey created and changed through the form (with the
rules of surveys.editing shown under the inputs they are about), the results page and its live part, the
CSV of the answers (masked numbers, recorded for the owners), sending to a segment."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.models import ExportRecord
from surveys.models import PendingRun, Run, Survey
from tests import builders
from tests.console.conftest import client_for
from tests.surveys import survey_ui_builders as build


def _post_data(name: str, **extra) -> dict:
    """The form as a teammate fills it: a question with three choices, a number question, an empty block."""
    data = {
        "name": name,
        "trigger": "manual",
        "window_hours": "24",
        "is_active": "on",
        "intro_en": "Three quick questions.",
        "question-count": "3",
        "q-0-kind": "multiple",
        "q-0-text-en": "Which issues matter most to you?",
        "q-0-text-fr": "Quels sujets comptent le plus pour vous ?",
        "q-0-order": "1",
        "q-0-choice-count": "4",
        "q-0-c-0-label-en": "Health",
        "q-0-c-0-label-fr": "Santé",
        "q-0-c-0-synonyms": "salud, doctors",
        "q-0-c-1-label-en": "Housing",
        "q-0-c-1-label-fr": "Logement",
        "q-0-c-1-tag": "Housing",
        "q-0-c-2-label-en": "Climate",
        "q-1-kind": "number",
        "q-1-text-en": "How old are you?",
        "q-1-min": "13",
        "q-1-max": "120",
        "q-1-order": "2",
        "q-1-choice-count": "0",
        "q-2-kind": "single",
        "q-2-order": "3",
        "q-2-choice-count": "2",
    }
    data.update(extra)
    return data


def test_who_sees_the_surveys_pages(world, olivia, mark, rita):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
    for client in (olivia, mark, rita):
        assert client.get("/surveys/").status_code == 200
        assert client.get(f"/surveys/{survey.pk}/").status_code == 200
    for path in (
        "/surveys/new/",
        f"/surveys/{survey.pk}/edit/",
        f"/surveys/{survey.pk}/send/",
        f"/surveys/{survey.pk}/answers.csv",
        f"/surveys/{survey.pk}/delete/",
    ):
        assert rita.get(path).status_code == 403, path
        assert mark.get(path).status_code == 200, path
    assert 'href="/surveys/"' in rita.get("/").content.decode()  # in the menu for every role
    assert "/surveys/new/" not in rita.get("/surveys/").content.decode()
    anonymous = client_for(world.alice)
    assert anonymous.get("/surveys/").status_code == 302


def test_a_manager_creates_a_survey_with_two_questions(world, mark):
    response = mark.post("/surveys/new/", _post_data("Issues 2027"))
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(world.alice.schema_name):
        survey = Survey.objects.get(name="Issues 2027")
        issues, age = survey.questions.all()
        assert (issues.kind, age.kind) == ("multiple", "number")
        assert issues.text["fr"] == "Quels sujets comptent le plus pour vous ?"
        assert [c.label for c in issues.choices.all()] == [
            {"en": "Health", "fr": "Santé"},
            {"en": "Housing", "fr": "Logement"},
            {"en": "Climate"},
        ]
        assert issues.choices.get(position=1).synonyms == ["salud", "doctors"]
        assert issues.choices.get(position=2).tag == "housing"
        assert (age.number_min, age.number_max) == (13, 120)
        assert survey.intro == {"en": "Three quick questions."}
    assert response["Location"] == f"/surveys/{survey.pk}/"
    page = mark.get(response["Location"]).content.decode()
    assert "Survey “Issues 2027” saved." in page
    assert "1. <bdi>Which issues matter most to you?</bdi>" in page


def test_problems_are_shown_under_the_inputs_they_are_about_and_nothing_is_saved(world, mark):
    data = _post_data("Broken survey", **{"q-0-text-en": "", "q-1-min": "200", "q-0-c-1-tag": "a, b"})
    response = mark.post("/surveys/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Write it in the default language (en)." in html
    assert "The highest number is below the lowest." in html
    assert "Choice 2: One tag per choice." in html
    # What was typed is still there.
    assert 'value="Santé"' in html and "Quels sujets comptent le plus pour vous ?" in html
    with schema_context(world.alice.schema_name):
        assert not Survey.objects.filter(name="Broken survey").exists()
    # The survey's own field and the questions' problems at once.
    response = mark.post("/surveys/new/", {**data, "name": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the survey a name." in html and "One tag per choice." in html


def test_add_a_question_and_more_choices_save_nothing(world, mark):
    data = _post_data("Not yet", action="more-questions")
    response = mark.post("/surveys/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="question-count" value="4"' in html and "Question 4" in html
    response = mark.post("/surveys/new/", {**data, "action": "more-choices"})
    assert 'name="q-0-choice-count" value="6"' in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert not Survey.objects.filter(name="Not yet").exists()


def test_a_survey_that_went_out_shows_its_kinds_fixed_and_refuses_a_new_order(world, mark):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        build.run(survey=survey, member=builders.member())
        issues, age = survey.questions.all()
    page = mark.get(f"/surveys/{survey.pk}/edit/").content.decode()
    assert "This survey went to members (1)" in page
    assert 'name="q-0-kind" value="multiple"' in page and 'name="q-0-remove"' not in page
    # Its texts change; the page posts what it shows.
    data = _edit_post(survey)
    data["q-0-text-en"] = "Which issues matter most to you now?"
    assert mark.post(f"/surveys/{survey.pk}/edit/", data).status_code == 302
    with schema_context(world.alice.schema_name):
        assert survey.questions.get(pk=issues.pk).text["en"] == "Which issues matter most to you now?"
    # Hand-made order inputs (the page shows none) are refused all the same, with the reason.
    data.update({"q-0-order": "2", "q-1-order": "1"})
    response = mark.post(f"/surveys/{survey.pk}/edit/", data)
    assert response.status_code == 400
    assert "its questions can no longer be removed or reordered" in response.content.decode()


def _edit_post(survey) -> dict:
    """What the edit page posts as it is shown."""
    data = {
        "name": survey.name,
        "trigger": survey.trigger,
        "window_hours": str(survey.window_hours),
        "is_active": "on",
    }
    questions = list(survey.questions.prefetch_related("choices"))
    data["question-count"] = str(len(questions))
    for q, question in enumerate(questions):
        data[f"q-{q}-id"] = str(question.pk)
        data[f"q-{q}-kind"] = question.kind
        data[f"q-{q}-order"] = str(q + 1)
        for code, text in question.text.items():
            data[f"q-{q}-text-{code}"] = text
        if question.number_min is not None:
            data[f"q-{q}-min"] = str(question.number_min)
        if question.number_max is not None:
            data[f"q-{q}-max"] = str(question.number_max)
        choices = list(question.choices.all())
        data[f"q-{q}-choice-count"] = str(len(choices))
        for c, choice in enumerate(choices):
            data[f"q-{q}-c-{c}-id"] = str(choice.pk)
            for code, label in choice.label.items():
                data[f"q-{q}-c-{c}-label-{code}"] = label
            data[f"q-{q}-c-{c}-synonyms"] = ", ".join(choice.synonyms)
            data[f"q-{q}-c-{c}-tag"] = choice.tag
    return data


def test_without_runs_a_question_is_removed_and_the_order_changed(world, mark):
    with schema_context(world.alice.schema_name):
        survey = build.survey(
            questions=[*build.survey_data()["questions"], {"kind": "text", "text": {"en": "Anything else?"}}]
        )
        issues, age, other = survey.questions.all()
    data = _edit_post(survey)
    data.update({"q-0-order": "3", "q-2-order": "1", "q-1-remove": "on"})
    assert mark.post(f"/surveys/{survey.pk}/edit/", data).status_code == 302
    with schema_context(world.alice.schema_name):
        assert list(survey.questions.values_list("pk", "position")) == [(other.pk, 1), (issues.pk, 2)]


def _answered(world):
    """A survey two members answered (one in Quebec in French, one in Ontario), a third one asked."""
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        issues, age = survey.questions.all()
        fans = []
        for region, language, picked, years in (("Quebec", "fr", [1, 2], "34"), ("Ontario", "en", [2], "19")):
            fan = builders.member(region=region, language=language, country="CA")
            run = build.run(survey=survey, member=fan)
            build.answer(
                run=run,
                question=issues,
                choices=picked,
                value=",".join(map(str, picked)),
                raw="1 et 2" if language == "fr" else "2",
                language=language,
            )
            build.answer(run=run, question=age, value=years, language=language)
            fans.append(fan)
        build.run(survey=survey, member=builders.member(), state=Run.State.ACTIVE)
    return survey, fans


def test_the_results_page_shows_counts_and_shares_and_refreshes_its_part(world, rita):
    survey, _fans = _answered(world)
    page = rita.get(f"/surveys/{survey.pk}/").content.decode()
    assert '<span class="figure" id="answered-count">2</span>' in page
    assert "66.7%" in page  # two of the three asked answered
    assert (
        "1 <bdi>Health</bdi>" in page
        and "2 <bdi>Housing</bdi>" in page
        and "100.0%" in page
        and "50.0%" in page
    )
    assert "Quebec" in page and "Ontario" in page
    assert 'data-poll="5"' in page and "console/surveys.js" in page
    partial = rita.get(f"/surveys/{survey.pk}/", {"partial": "1"}).content.decode()
    assert "<html" not in partial and "1 <bdi>Health</bdi>" in partial
    french = rita.get(
        f"/surveys/{survey.pk}/", {"language": "fr"}, HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert '<span class="figure" id="answered-count">1</span>' in french
    assert "1 <bdi>Santé</bdi>" in french
    quebec = rita.get(f"/surveys/{survey.pk}/", {"region": "Ontario"}).content.decode()
    assert '<span class="figure" id="answered-count">1</span>' in quebec


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_the_csv_has_a_row_per_member_who_answered_and_is_recorded(world, olivia, mark):
    survey, fans = _answered(world)
    response = mark.get(f"/surveys/{survey.pk}/answers.csv")
    assert response.status_code == 200 and response.streaming
    assert 'filename="alice-survey-' in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert [row["phone"] for row in rows] == [fan.phone for fan in fans]  # a manager sees numbers by default
    first = rows[0]
    assert first["Q1. Which issues matter most to you?"] == "Health; Housing"
    assert (first["Q1 value"], first["Q1 raw"], first["Q2 value"]) == ("1,2", "1 et 2", "34")
    with schema_context(world.alice.schema_name):
        record = ExportRecord.objects.get()
    assert (record.kind, record.username, record.row_count) == ("survey_answers", "mark", 2)
    assert record.filters == {"survey": survey.pk, "survey_name": survey.name}
    exports = olivia.get("/members/exports/").content.decode()
    assert f"Answers to the survey “{survey.name}”" in exports


def test_the_csv_masks_numbers_for_a_manager_when_the_owner_hid_them(world, mark):
    survey, fans = _answered(world)
    Leader.objects.filter(pk=world.alice.pk).update(managers_see_phones=False)
    rows = _csv_rows(mark.get(f"/surveys/{survey.pk}/answers.csv"))
    assert [row["phone"] for row in rows] == [f"•••• {fan.phone[-4:]}" for fan in fans]


def test_the_send_page_counts_the_audience_without_those_who_had_the_survey(world, mark):
    tag = builders.new_tag()
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        fans = [builders.fan(tag=tag) for _ in range(3)]
        build.run(survey=survey, member=fans[0])
    page = mark.get(f"/surveys/{survey.pk}/send/").content.decode()
    assert "Has any of the tags" in page and 'name="body"' not in page
    response = mark.post(f"/surveys/{survey.pk}/send/", {"tags_any": tag, "step": "count"})
    assert response.status_code == 200
    assert "Members who would get it: 2" in response.content.decode()
    counted = mark.get(f"/surveys/{survey.pk}/send/count.json", {"tags_any": tag})
    assert counted.json() == {"count": 2}
    bad = mark.get(f"/surveys/{survey.pk}/send/count.json", {"age_min": "200"})
    assert bad.status_code == 400 and "age_min" in bad.json()["fields"]
    nobody = mark.post(f"/surveys/{survey.pk}/send/", {"tags_any": builders.new_tag(), "step": "send"})
    assert nobody.status_code == 400
    assert "No member matches this audience" in nobody.content.decode()


def test_sending_queues_the_survey_for_the_audience(world, mark):
    """Through surveys.services.survey_send: the members go into the survey's queue."""
    tag = builders.new_tag()
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        fans = [builders.fan(tag=tag) for _ in range(2)]
    response = mark.post(f"/surveys/{survey.pk}/send/", {"tags_any": tag, "step": "send"}, follow=True)
    assert response.status_code == 200
    assert "The survey is on its way to 2 members." in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert set(PendingRun.objects.filter(survey=survey).values_list("member_id", flat=True)) == {
            f.pk for f in fans
        }


def test_only_a_survey_that_never_went_out_is_deleted(world, mark):
    with schema_context(world.alice.schema_name):
        draft = build.survey()
        sent = build.survey()
        build.run(survey=sent, member=builders.member())
    assert mark.post(f"/surveys/{draft.pk}/delete/").status_code == 302
    response = mark.post(f"/surveys/{sent.pk}/delete/", follow=True)
    assert "Make it inactive instead of deleting it." in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert not Survey.objects.filter(pk=draft.pk).exists()
        assert Survey.objects.filter(pk=sent.pk).exists()


def test_the_list_shows_each_surveys_members_states_and_answered_share(world, rita):
    survey, _fans = _answered(world)
    page = rita.get("/surveys/").content.decode()
    assert survey.name in page
    assert f'data-answered="{survey.pk}">66.7%' in page
    assert "Completed: <span" in page and "Waiting for an answer: <span" in page


@pytest.mark.parametrize("path", ["/surveys/999999/", "/surveys/999999/edit/", "/surveys/999999/answers.csv"])
def test_an_unknown_survey_is_a_404(world, mark, path):
    assert mark.get(path).status_code == 404
