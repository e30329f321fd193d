"""Issue 14, "done when", end to end in a real browser: the owner creates a survey with two questions that
greets new members; a fan joins through the phone simulator (Twilio's webhook path, signed), gets the first
question in French, answers "1 et 3" and "oui"; the owner sees the answers on the results page, sends an
announcement to the followers of one topic and only they get it; "STOP <topic>" from the simulator removes
only that topic."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import User
from leaders.models import Leader
from leaders.routing import leader_cache_clear
from leaders.services import leader_create, leader_user_create
from members.models import Member, MemberInterest
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast
from surveys.models import Answer, Run, Survey
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.surveys.helpers import senders_run, sent_to

pytestmark = pytest.mark.browser

TOPICS = {"Health": "santé", "Housing": "logement", "Climate": "climat"}


@pytest.fixture
def leader(live_db, world, settings):
    """A leader of this test's own (its topics, survey and members touch no other test), sending fast and
    with no quiet hours, so the test may run at any hour. Dropped afterwards."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    made = leader_create(slug=f"poll-{uuid.uuid4().hex[:8]}", name="Parti Test", phone_number=_montreal())
    Leader.objects.filter(pk=made.pk).update(
        segments_per_second=1000, quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(0, 0)
    )
    made.refresh_from_db()
    leader_user_create(leader=made, username="olivia", role=User.Role.OWNER, password=TEAM_PASSWORD)
    leader_cache_clear()
    yield made
    leader_cache_clear()
    connection.set_schema_to_public()
    Leader.objects.get(pk=made.pk).delete(force_drop=True)


def _montreal() -> str:
    """A fictional Montréal number (514 555-01xx): the signup form ranks Canadian cities first for it."""
    return f"+1514555{uuid.uuid4().int % 10**4:04d}"


def _simulate(page, *, leader, phone: str, body: str, expecting: str) -> str:
    """Text `body` from `phone` in the simulator, and wait for an answer that contains `expecting` (the
    simulator lists every text to and from the phone, newest first, polling): that answer's text."""
    page.fill("#sim-phone", phone)
    page.select_option("#sim-leader", leader.slug)
    page.fill("#sim-body", body)
    page.click("#sim-send")
    answer = page.locator(".bubble.out").filter(has_text=expecting).first
    answer.wait_for(timeout=15_000)
    return answer.inner_text()


def test_a_party_surveys_a_new_member_in_french_announces_to_followers_and_stop_topic_leaves_one(
    live_db, live_app, world, leader, page, twilio
):
    with schema_context(leader.schema_name):
        # Each topic with its French word as a keyword: what a French speaker texts after STOP.
        topics = {
            name: builders.topic(leader=leader, name=name, keywords=[word]) for name, word in TOPICS.items()
        }

    # The owner writes the survey: several choices (each following a topic), then yes or no.
    page.goto(live_app.leader_url(leader, "/login/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Surveys").click()
    page.get_by_role("link", name="New survey").click()
    page.get_by_label("Name").fill("Welcome survey")
    page.get_by_label("After signup, to every new member").check()
    first = page.get_by_role("group", name="Question 1", exact=True)
    first.get_by_label("Kind").select_option(label="Several choices")
    first.get_by_label("Question (English)").fill("Which issues matter most to you?")
    first.get_by_label("Question (French)").fill("Quels sujets comptent le plus pour vous ?")
    for n, (english, french) in enumerate(
        (("Health", "Santé"), ("Housing", "Logement"), ("Climate", "Climat")), 1
    ):
        first.get_by_label(f"Choice {n} (English)").fill(english)
        first.get_by_label(f"Choice {n} (French)").fill(french)
        first.get_by_label(f"Topic choice {n} follows").select_option(label=english)
    page.get_by_role("button", name="Add a question").click()
    second = page.get_by_role("group", name="Question 2", exact=True)
    second.get_by_label("Kind").select_option(label="Yes or no")
    second.get_by_label("Question (English)").fill("Would you volunteer in your area?")
    second.get_by_label("Question (French)").fill("Seriez-vous bénévole près de chez vous ?")
    page.get_by_role("button", name="Save the survey").click()
    page.get_by_text("Survey “Welcome survey” saved.").wait_for()
    with schema_context(leader.schema_name):
        survey = Survey.objects.get(name="Welcome survey")
        assert survey.trigger == Survey.Trigger.AFTER_SIGNUP

    # A fan texts the number from the simulator (staff), and joins through the link in the welcome.
    phone = _montreal()
    page.goto(live_app.url("/admin/login/?next=/simulator/"))
    page.fill("#id_username", "carol")
    page.fill("#id_password", TEAM_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/simulator/")
    simulator = page.url
    _simulate(page, leader=leader, phone=phone, body="Bonjour !", expecting="/j/")
    link = page.locator(".bubble.out").filter(has_text="/j/").first.locator("a").get_attribute("href")
    assert link and "/j/" in link
    split = urlsplit(link)
    page.goto(live_app.leader_url(leader, split.path + (f"?{split.query}" if split.query else "")))
    if page.locator("html").get_attribute("lang") != "fr":
        page.get_by_role("link", name="Français").click()
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("Genre").select_option("female")
    page.get_by_label("Date de naissance").fill("1994-03-08")
    city = page.get_by_label("Ville")
    city.press_sequentially("montr", delay=40)
    suggestion = page.locator('#city-options option[value^="Montréal"]').first
    suggestion.wait_for(state="attached", timeout=30_000)  # the first lookup builds the city index
    city.fill(suggestion.get_attribute("value"))
    page.get_by_label("Courriel").fill("camille@example.org")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Rejoindre").click()
    page.get_by_role("heading", name="Merci, Camille !").wait_for()

    # The survey greets her: its first question goes out in French, paced by the bulk sender.
    senders_run()
    (question,) = [body for body in sent_to(twilio, phone) if "Santé" in body]
    assert "Quels sujets comptent le plus pour vous ?" in question and "3 Climat" in question

    # She answers in the simulator: the next question comes back at once.
    page.goto(simulator)
    _simulate(page, leader=leader, phone=phone, body="1 et 3", expecting="Seriez-vous bénévole")
    page.fill("#sim-body", "oui")
    page.click("#sim-send")
    # No thanks text was written: nothing answers the last reply, and the run completes.
    expect(page.locator(".bubble.in").filter(has_text="oui")).to_have_count(1, timeout=15_000)
    with schema_context(leader.schema_name):
        camille = Member.objects.get(phone=phone)
        run = Run.objects.get(survey=survey, member=camille)
        assert run.state == Run.State.COMPLETED
        assert [
            (a.choices, a.raw) for a in Answer.objects.filter(run=run).order_by("question__position")
        ] == [
            ([1, 3], "1 et 3"),
            ([1], "oui"),
        ]
        followed = set(
            MemberInterest.objects.filter(member=camille, following=True).values_list(
                "topic__name", flat=True
            )
        )
        assert followed == {"Health", "Climate"}
        # Two other members: one follows Housing only, one follows nothing.
        housing = builders.fan(leader=leader, first_name="Hugo")
        MemberInterest.objects.create(member=housing, topic=topics["Housing"], source="console")
        builders.fan(leader=leader, first_name="Nora")

    # The owner reads the results.
    page.goto(live_app.leader_url(leader, f"/surveys/{survey.pk}/"))
    expect(page.locator("#answered-count")).to_have_text("1")
    expect(page.get_by_role("row", name="1 Health").first).to_contain_text("100.0%")
    expect(page.get_by_role("row", name="3 Climate").first).to_contain_text("100.0%")
    expect(page.get_by_role("row", name="2 Housing").first).to_contain_text("0.0%")

    # An announcement to the followers of Climate: only Camille is in it, and only she gets it.
    page.goto(live_app.leader_url(leader, "/broadcasts/new/"))
    page.wait_for_load_state("load")
    page.get_by_role("textbox", name="Message:").fill("Climate march on Saturday at noon")
    page.locator(f'input[name="follows"][value="{topics["Climate"].pk}"]').check()
    page.locator("#audience-count").filter(has_text="Matching members: 1").wait_for()
    page.get_by_label("Respect quiet hours").uncheck()
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Send the broadcast").click()
    page.get_by_role("heading", name="Progress").wait_for()
    with schema_context(leader.schema_name):
        broadcast = Broadcast.objects.get(body="Climate march on Saturday at noon")
        assert broadcast_queue(leader=leader, broadcast=broadcast) == 1
        assert broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk, time_budget=30).sent == 1
    got = {
        message["to"] for message in twilio.messages if message["body"] == "Climate march on Saturday at noon"
    }
    assert got == {phone}

    # "STOP CLIMAT" from the simulator: Climate is left, Health kept, and she is still a member.
    page.goto(simulator)
    _simulate(page, leader=leader, phone=phone, body="STOP CLIMAT", expecting="vous ne recevrez plus")
    with schema_context(leader.schema_name):
        camille.refresh_from_db()
        assert camille.status == Member.Status.SUBSCRIBED
        rows = dict(MemberInterest.objects.filter(member=camille).values_list("topic__name", "following"))
        assert rows == {"Health": True, "Climate": False}
