"""Surveys in a real browser: mark creates a survey with two questions (several choices, then a number),
members answer it (as the survey engine records answers), the results page shows them and refreshes itself
when another answer comes; in Arabic the results read right to left."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from members.models import Member
from surveys.models import Survey
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.surveys import survey_ui_builders as build

pytestmark = pytest.mark.browser


@pytest.fixture
def cleanup(live_db, world):
    """These rows are committed in alice's schema: the surveys (their runs and answers go with them) and the
    members go afterwards."""
    made: dict[str, list] = {"surveys": [], "members": []}
    yield made
    with schema_context(world.alice.schema_name):
        Survey.objects.filter(name__in=made["surveys"]).delete()
        Member.objects.filter(pk__in=[m.pk for m in made["members"]]).delete()


def _login(page, live_app, world, username: str) -> None:
    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_mark_creates_a_survey_with_two_questions_and_reads_its_results_live(
    live_db, live_app, world, page, cleanup
):
    name = "Issues " + uuid.uuid4().hex[:6]
    cleanup["surveys"].append(name)
    _login(page, live_app, world, "mark")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Surveys").click()
    page.get_by_role("heading", name="Surveys").wait_for()
    page.get_by_role("link", name="New survey").click()
    page.get_by_label("Name").fill(name)

    first = page.get_by_role("group", name="Question 1", exact=True)
    first.get_by_label("Kind").select_option(label="Several choices")
    first.get_by_label("Question (English)").fill("Which issues matter most to you?")
    first.get_by_label("Question (French)").fill("Quels sujets comptent le plus pour vous ?")
    for n, (english, french) in enumerate(
        (("Health", "Santé"), ("Housing", "Logement"), ("Climate", "Climat")), 1
    ):
        first.get_by_label(f"Choice {n} (English)").fill(english)
        first.get_by_label(f"Choice {n} (French)").fill(french)
    first.get_by_label("Synonyms of choice 1").fill("salud, doctors")
    # The number question's range is hidden until its kind says number.
    expect(first.get_by_label("Lowest number accepted")).to_be_hidden()

    page.get_by_role("button", name="Add a question").click()
    second = page.get_by_role("group", name="Question 2", exact=True)
    second.get_by_label("Kind").select_option(label="A number")
    expect(second.get_by_label("Choice 1 (English)")).to_be_hidden()
    second.get_by_label("Question (English)").fill("How old are you?")
    second.get_by_label("Lowest number accepted").fill("13")
    second.get_by_label("Highest number accepted").fill("120")
    page.get_by_role("button", name="Save the survey").click()
    page.get_by_text(f"Survey “{name}” saved.").wait_for()
    page.get_by_role("heading", name="1. Which issues matter most to you?").wait_for()
    page.get_by_role("heading", name="2. How old are you?").wait_for()

    with schema_context(world.alice.schema_name):
        survey = Survey.objects.get(name=name)
        assert [q.kind for q in survey.questions.all()] == ["multiple", "number"]
        assert survey.questions.first().choices.first().synonyms == ["salud", "doctors"]
        for region, language, picked, years in (("Quebec", "fr", [1, 3], "34"), ("Ontario", "en", [1], "58")):
            fan = builders.member(region=region, language=language)
            cleanup["members"].append(fan)
            run = build.run(survey=survey, member=fan)
            issues, age = survey.questions.all()
            build.answer(run=run, question=issues, choices=picked, value="", raw="1 et 3", language=language)
            build.answer(run=run, question=age, value=years, language=language)

    page.reload()
    expect(page.locator("#answered-count")).to_have_text("2")
    health = page.get_by_role("row", name="1 Health").first
    expect(health).to_contain_text("100.0%")
    expect(page.get_by_role("row", name="3 Climate").first).to_contain_text("50.0%")
    expect(page.get_by_role("rowheader", name="Quebec").first).to_be_visible()
    expect(page.locator(".number-summary")).to_contain_text("46")  # the mean of 34 and 58

    # Another member answers: the page shows it without being reloaded.
    with schema_context(world.alice.schema_name):
        fan = builders.member(region="Quebec", language="en")
        cleanup["members"].append(fan)
        run = build.run(survey=survey, member=fan)
        build.answer(run=run, question=issues, choices=[2], language="en")
    expect(page.locator("#answered-count")).to_have_text("3", timeout=15_000)
    expect(page.get_by_role("row", name="1 Health").first).to_contain_text("66.7%")


def test_the_results_in_arabic_read_right_to_left(live_db, live_app, world, page, cleanup):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
        cleanup["surveys"].append(survey.name)
        issues, _age = survey.questions.all()
        fan = builders.member(region="Jalisco", language="ar")
        cleanup["members"].append(fan)
        build.answer(run=build.run(survey=survey, member=fan), question=issues, choices=[1], language="ar")
    _login(page, live_app, world, "rita")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change").click()
    page.goto(live_app.leader_url(world.alice, f"/surveys/{survey.pk}/"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    table = page.locator("table.results").first
    assert table.evaluate("t => getComputedStyle(t).direction") == "rtl"
    # The choice's name starts on the right, its bar grows from the right.
    name_box = table.get_by_role("rowheader").first.bounding_box()
    bar_box = table.locator(".bar").first.bounding_box()
    assert name_box["x"] > bar_box["x"]
    cell_box = table.locator(".bar-cell").first.bounding_box()
    assert abs((bar_box["x"] + bar_box["width"]) - (cell_box["x"] + cell_box["width"])) < 12
