"""Surveys through the API: created and changed with the console's rules (surveys.editing), read by every
teammate, their results, runs and answers listed with filters and cursors, numbers masked for a responder's
token, sent to a segment; never seen by another leader."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.routing import leader_cache_clear
from surveys.models import PendingRun, Run, Survey
from tests import builders
from tests.api.conftest import Api, token_for
from tests.surveys import survey_ui_builders as build


def _body(**overrides) -> dict:
    data = build.survey_data()
    data.update(overrides)
    return data


def test_an_owner_creates_a_survey_and_reads_it_back(world, owner_api):
    body = _body(intro={"en": "Two questions.", "fr": "Deux questions."}, window_hours=48)
    body["name"] = "  " + body["name"] + "  "
    response = owner_api.post("/api/v1/surveys/", body)
    assert response.status_code == 201, response.content
    survey = response.json()
    assert survey["name"] == body["name"].strip()
    assert (survey["trigger"], survey["window_hours"], survey["is_active"]) == ("manual", 48, True)
    assert survey["intro"] == {"en": "Two questions.", "fr": "Deux questions."}
    issues, age = survey["questions"]
    assert (issues["position"], issues["kind"], age["kind"]) == (1, "multiple", "number")
    assert [c["label"]["en"] for c in issues["choices"]] == ["Health", "Housing", "Climate"]
    assert [c["position"] for c in issues["choices"]] == [1, 2, 3]
    assert issues["choices"][1]["tag"] == "housing"
    assert (age["number_min"], age["number_max"]) == (13, 120)
    assert survey["runs"] == {"queued": 0, **dict.fromkeys(Run.State.values, 0)}
    assert owner_api.get(f"/api/v1/surveys/{survey['id']}/").json() == survey
    listed = owner_api.get("/api/v1/surveys/").json()
    assert listed["results"][0]["id"] == survey["id"] and "next" in listed


def test_what_the_rules_refuse_is_a_400_naming_each_place(world, manager_api):
    body = _body()
    body["questions"][0]["text"] = {"fr": "Quels sujets ?"}
    body["questions"][0]["choices"][1]["topic"] = 999_999
    body["questions"][1]["number_min"] = 500
    response = manager_api.post("/api/v1/surveys/", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {
        "questions.0.text": ["Write it in the default language (en)."],
        "questions.0.choices.1.topic": ["No such topic."],
        "questions.1.number_max": ["The highest number is below the lowest."],
    }
    taken = manager_api.post("/api/v1/surveys/", _body())
    again = manager_api.post("/api/v1/surveys/", _body(name=taken.json()["name"].upper()))
    assert again.json()["error"]["fields"] == {"name": ["A survey with this name already exists."]}


@pytest.mark.parametrize(
    "change",
    [
        {"colour": "blue"},
        {"is_active": "yes"},
        {"window_hours": 0},
        {"questions": []},
        {"intro": {"xx": "?"}},
    ],
)
def test_shapes_the_schema_forbids_are_400s(world, owner_api, change):
    response = owner_api.post("/api/v1/surveys/", _body(**change))
    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]


def test_a_responder_reads_surveys_but_changes_nothing(world, responder_api):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
    for path in ("", f"{survey.pk}/", f"{survey.pk}/results/"):
        assert responder_api.get(f"/api/v1/surveys/{path}").status_code == 200, path
    # Members one by one, with what they wrote: owners and managers only, as the console's CSV.
    for path in (f"{survey.pk}/runs/", f"{survey.pk}/answers/"):
        assert responder_api.get(f"/api/v1/surveys/{path}").status_code == 403, path
    assert responder_api.post("/api/v1/surveys/", _body()).status_code == 403
    assert responder_api.patch(f"/api/v1/surveys/{survey.pk}/", {"name": "x"}).status_code == 403
    assert responder_api.delete(f"/api/v1/surveys/{survey.pk}/").status_code == 403
    assert responder_api.post(f"/api/v1/surveys/{survey.pk}/send/", {}).status_code == 403


def test_patch_changes_texts_of_a_survey_that_went_out_but_not_its_order(world, manager_api):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        build.run(survey=survey, member=builders.member())
    questions = manager_api.get(f"/api/v1/surveys/{survey.pk}/").json()["questions"]
    questions[0]["text"]["es"] = "¿Qué temas te importan?"
    for question in questions:
        question.pop("position")
        for choice in question["choices"]:
            choice.pop("position")
    response = manager_api.patch(
        f"/api/v1/surveys/{survey.pk}/", {"questions": questions, "window_hours": 12}
    )
    assert response.status_code == 200, response.content
    assert response.json()["questions"][0]["text"]["es"] == "¿Qué temas te importan?"
    assert response.json()["window_hours"] == 12
    assert response.json()["runs"]["completed"] == 1
    refused = manager_api.patch(f"/api/v1/surveys/{survey.pk}/", {"questions": list(reversed(questions))})
    assert refused.status_code == 400
    [message] = refused.json()["error"]["fields"]["questions"]
    assert message.startswith(
        "This survey went to 1 member: its questions can no longer be removed or reordered"
    )


def test_put_replaces_every_field(world, owner_api):
    with schema_context(world.alice.schema_name):
        survey = build.survey(window_hours=48, intro={"en": "Hello"})
    body = {"name": survey.name, "questions": [{"kind": "yes_no", "text": {"en": "Will you vote?"}}]}
    response = owner_api.request("PUT", f"/api/v1/surveys/{survey.pk}/", body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["window_hours"], data["intro"], [q["kind"] for q in data["questions"]]) == (
        24,
        {},
        ["yes_no"],
    )
    assert owner_api.request("PUT", f"/api/v1/surveys/{survey.pk}/", {"name": "x"}).status_code == 400


def test_only_a_survey_that_never_went_out_is_deleted(world, owner_api):
    with schema_context(world.alice.schema_name):
        draft = build.survey()
        sent = build.survey()
        build.run(survey=sent, member=builders.member(), state=Run.QUEUED)
    assert owner_api.delete(f"/api/v1/surveys/{draft.pk}/").status_code == 204
    refused = owner_api.delete(f"/api/v1/surveys/{sent.pk}/")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "survey_has_runs"
    with schema_context(world.alice.schema_name):
        assert list(Survey.objects.filter(pk__in=[draft.pk, sent.pk]).values_list("pk", flat=True)) == [
            sent.pk
        ]


@pytest.fixture
def answered(world, db):
    """A survey three members answered: two in Quebec (one in French), one in Ontario (who is still being
    asked the second question)."""
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        issues, age = survey.questions.all()
        runs = []
        for region, language, picked, years in (
            ("Quebec", "fr", [1, 3], "34"),
            ("Quebec", "en", [1], "61"),
            ("Ontario", "en", [2], None),
        ):
            fan = builders.member(region=region, language=language)
            state = Run.State.COMPLETED if years else Run.State.ACTIVE
            run = build.run(survey=survey, member=fan, state=state, question=None if years else age)
            build.answer(
                run=run, question=issues, choices=picked, value=",".join(map(str, picked)), language=language
            )
            if years:
                build.answer(run=run, question=age, value=years, raw=f"{years} ans", language=language)
            runs.append(run)
    return survey, runs


def test_results_per_question_by_region_and_language(world, manager_api, answered):
    survey, _runs = answered
    response = manager_api.get(f"/api/v1/surveys/{survey.pk}/results/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["survey"], data["answered"], data["region"], data["language"]) == (survey.pk, 3, None, None)
    assert data["runs"]["completed"] == 2 and data["runs"]["active"] == 1
    issues, age = data["questions"]
    assert [(c["label"], c["count"], c["share"]) for c in issues["choices"]] == [
        ("Health", 2, 66.7),
        ("Housing", 1, 33.3),
        ("Climate", 1, 33.3),
    ]
    assert [(g["key"], g["answered"], g["choices"]) for g in issues["by_region"]] == [
        ("Quebec", 2, {"1": 2, "3": 1}),
        ("Ontario", 1, {"2": 1}),
    ]
    assert [(g["key"], g["answered"]) for g in issues["by_language"]] == [("en", 2), ("fr", 1)]
    assert age["number"] == {"count": 2, "minimum": 34.0, "maximum": 61.0, "mean": 47.5, "median": 47.5}
    french = manager_api.get(f"/api/v1/surveys/{survey.pk}/results/", {"language": "fr"}).json()
    assert (french["answered"], french["language"]) == (1, "fr")
    ontario = manager_api.get(f"/api/v1/surveys/{survey.pk}/results/", {"region": "Ontario"}).json()
    assert ontario["answered"] == 1
    assert (
        manager_api.get(f"/api/v1/surveys/{survey.pk}/results/", {"language": "french!"}).status_code == 400
    )


def test_runs_are_listed_with_filters_and_cursors(world, manager_api, answered):
    survey, runs = answered
    listed = manager_api.get(f"/api/v1/surveys/{survey.pk}/runs/").json()
    assert [r["id"] for r in listed["results"]] == [run.pk for run in runs]
    first = listed["results"][0]
    assert (first["member_id"], first["state"], first["survey_id"]) == (
        runs[0].member_id,
        "completed",
        survey.pk,
    )
    assert first["updated_at"] == first["finished_at"]
    active = manager_api.get(f"/api/v1/surveys/{survey.pk}/runs/", {"state": "active"}).json()["results"]
    assert [r["id"] for r in active] == [runs[2].pk]
    waiting = manager_api.get(
        f"/api/v1/surveys/{survey.pk}/runs/", {"question": active[0]["question"]}
    ).json()
    assert [r["id"] for r in waiting["results"]] == [runs[2].pk]
    later = (timezone.now() + datetime.timedelta(minutes=1)).isoformat()
    assert (
        manager_api.get(f"/api/v1/surveys/{survey.pk}/runs/", {"updated_after": later}).json()["results"]
        == []
    )
    page = manager_api.get(f"/api/v1/surveys/{survey.pk}/runs/", {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = manager_api.client.get(page["next"], HTTP_AUTHORIZATION=f"Bearer {manager_api.token}").json()
    assert [r["id"] for r in rest["results"]] == [runs[2].pk]
    bad = manager_api.get(f"/api/v1/surveys/{survey.pk}/runs/", {"state": "lost", "updated_before": "monday"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"state", "updated_before"}


def test_answers_are_listed_with_filters(world, manager_api, answered):
    survey, runs = answered
    with schema_context(world.alice.schema_name):
        issues, age = survey.questions.all()
    rows = manager_api.get(f"/api/v1/surveys/{survey.pk}/answers/").json()["results"]
    assert len(rows) == 5
    first = rows[0]
    assert (first["run_id"], first["question"], first["question_position"]) == (runs[0].pk, issues.pk, 1)
    assert (first["choices"], first["value"], first["language"]) == ([1, 3], "1,3", "fr")
    ages = manager_api.get(f"/api/v1/surveys/{survey.pk}/answers/", {"question": age.pk}).json()["results"]
    assert [(a["value"], a["raw"]) for a in ages] == [("34", "34 ans"), ("61", "61 ans")]
    active = manager_api.get(f"/api/v1/surveys/{survey.pk}/answers/", {"state": "active"}).json()["results"]
    assert [a["run_id"] for a in active] == [runs[2].pk]
    assert manager_api.get(f"/api/v1/surveys/{survey.pk}/answers/", {"question": "x"}).status_code == 400


def test_runs_and_answers_show_numbers_as_the_reader_may_see_them(world, answered):
    survey, runs = answered
    with schema_context(world.alice.schema_name):
        phones = [run.member.phone for run in runs]
    # The owner has managers see numbers masked: mark does, olivia (the owner) sees them whole.
    Leader.objects.filter(pk=world.alice.pk).update(managers_see_phones=False)
    leader_cache_clear()
    for username, expected in (("mark", [f"•••• {p[-4:]}" for p in phones]), ("olivia", phones)):
        api = Api(world.alice, token_for(world.alice, username))
        run_phones = [r["phone"] for r in api.get(f"/api/v1/surveys/{survey.pk}/runs/").json()["results"]]
        answer_phones = {
            a["phone"] for a in api.get(f"/api/v1/surveys/{survey.pk}/answers/").json()["results"]
        }
        assert run_phones == expected, username
        assert answer_phones == set(expected), username


def test_another_leaders_surveys_are_not_found(world, answered):
    survey, _runs = answered
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    for path in ("", "results/", "runs/", "answers/"):
        assert bob.get(f"/api/v1/surveys/{survey.pk}/{path}").status_code == 404, path
    assert all(s["id"] != survey.pk for s in bob.get("/api/v1/surveys/").json()["results"])


def test_a_bad_audience_is_a_400_and_sends_nothing(world, owner_api):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
    response = owner_api.post(f"/api/v1/surveys/{survey.pk}/send/", {"filter": {"regions": ["Atlantis"]}})
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["filter.regions"]
    assert owner_api.post(f"/api/v1/surveys/{survey.pk}/send/", {"audience": {}}).status_code == 400
    with schema_context(world.alice.schema_name):
        assert not Run.objects.filter(survey=survey).exists()


def test_sending_queues_the_survey_once_per_member(world, owner_api):
    """Through surveys.services.survey_send: the members go into the survey's queue, once each."""
    tag = builders.new_tag()
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        fans = [builders.fan(tag=tag) for _ in range(3)]
    body = {"filter": {"tags_any": [tag]}}
    response = owner_api.post(f"/api/v1/surveys/{survey.pk}/send/", body)
    assert response.status_code == 202, response.content
    assert response.json() == {"queued": 3, "filter": {"tags_any": [tag]}}
    assert owner_api.post(f"/api/v1/surveys/{survey.pk}/send/", body).json()["queued"] == 0
    with schema_context(world.alice.schema_name):
        assert {q.member_id for q in PendingRun.objects.filter(survey=survey)} == {f.pk for f in fans}
    closed = owner_api.patch(f"/api/v1/surveys/{survey.pk}/", {"is_active": False})
    assert closed.status_code == 200
    refused = owner_api.post(f"/api/v1/surveys/{survey.pk}/send/", body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "survey_not_sendable")
