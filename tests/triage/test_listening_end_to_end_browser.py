"""Issue 13, "done when", end to end: a manager defines three topics with a few English examples; fans text in
Spanish, French and Arabic through Twilio's signed webhook over real HTTP; a real triage cluster (its own
queue, a separate process) sorts them by topic, language and place within seconds; the manager sees them
sorted, moves one, opens the matrix, makes a segment from a cell and previews a broadcast to it."""

from __future__ import annotations

import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import User
from leaders.models import Leader
from leaders.services import leader_create, leader_user_create
from members.models import Member
from messaging.models import Message
from tests import builders
from tests.api.test_webhook_lanes import cluster, process_env, stop, text_in
from tests.conftest import TEAM_PASSWORD
from tests.phones import unique_phone
from tests.queue import queued_take
from triage import services
from triage.models import Label, PlaceSource

pytestmark = pytest.mark.browser

TASK = "triage.tasks.triage_run"

TOPICS = {
    "Water": ("Drinking water, shortages, floods", "we have had no water for a week\nthe tap water is brown"),
    "Health": ("Hospitals, doctors, medicines", "the clinic has no doctors\nmedicines are too expensive"),
    "Security": ("Crime, police, violence", "robberies every night in my street\nthe police never come"),
}
TEXTS = {  # fan -> (text, language, topic)
    "es": ("No hay agua en mi colonia desde el lunes", "es", "Water"),
    "fr": ("L'hôpital de mon quartier n'a plus de médecins", "fr", "Health"),
    "ar": ("هناك سرقات كثيرة في حينا والشرطة لا تأتي", "ar", "Security"),
}


@pytest.fixture
def leader(live_db):
    """A leader of this test's own, with its owner: nothing other tests left (topics, texts, the team's
    corrections, which the classifier learns from) can sort this test's texts. Dropped afterwards."""
    made = leader_create(
        slug=f"listen-{uuid.uuid4().hex[:8]}", name="Listening Test", phone_number=unique_phone()
    )
    leader_user_create(leader=made, username="olivia", role=User.Role.OWNER, password=TEAM_PASSWORD)
    yield made
    connection.set_schema_to_public()
    queued_take(TASK, settings.TRIAGE_CLUSTER, where=lambda task: made.schema_name in task["args"])
    Leader.objects.get(pk=made.pk).delete(force_drop=True)


@pytest.fixture
def triage_cluster(leader):
    """The triage cluster as `make run` starts it: a process of its own, on its own queue."""
    services.triage_reset_throttle()
    process = cluster(settings.TRIAGE_CLUSTER, process_env())
    yield process
    stop(process)


def _labels(leader, phones: list[str], timeout: float = 90.0) -> dict[str, Label]:
    """The labels of the texts those phones sent, once triage wrote them all (the cluster works apart)."""
    deadline = time.monotonic() + timeout
    while True:
        with schema_context(leader.schema_name):
            found = {
                label.message.phone: label
                for label in Label.objects.select_related("message", "topic").filter(
                    message__phone__in=phones
                )
            }
        if len(found) == len(phones) or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_a_manager_sees_texts_in_three_languages_sorted_moves_one_and_segments_a_cell(
    live_db, live_app, leader, page, triage_cluster
):
    marker = uuid.uuid4().hex[:5]
    names = {name: f"{name} {marker}" for name in TOPICS}

    page.goto(live_app.leader_url(leader, "/login/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Console")
    for name, (description, examples) in TOPICS.items():
        nav.get_by_role("link", name="Topics").click()
        page.get_by_role("link", name="Add a topic").click()
        page.get_by_label("Name").fill(names[name])
        page.get_by_label("Description").fill(description)
        page.get_by_label("Examples").fill(examples)
        page.get_by_role("button", name="Save the topic").click()
        page.get_by_text(f"Topic “{names[name]}” saved.").wait_for()

    # Three members of Montréal text in; a newcomer from Guadalajara (+52 33) too.
    fans = {key: builders.fan(leader=leader, first_name=f"Fan{key}{marker}") for key in TEXTS}
    for key, (body, _, _) in TEXTS.items():
        text_in(live_app, leader, str(fans[key].phone), body)
    newcomer = f"+5233{uuid.uuid4().int % 10**8:08d}"
    text_in(live_app, leader, newcomer, "No hay agua en Guadalajara")

    labels = _labels(leader, [str(fan.phone) for fan in fans.values()] + [newcomer])
    assert len(labels) == 4, "triage did not label every text within 90 s"
    for key, (_, language, topic) in TEXTS.items():
        label = labels[str(fans[key].phone)]
        assert (label.topic and label.topic.name, label.language) == (names[topic], language), (
            key,
            label.confidence,
        )
        assert (label.region, label.place_source) == ("Quebec", PlaceSource.MEMBER)
    from_mexico = labels[newcomer]
    assert (from_mexico.topic.name, from_mexico.region, from_mexico.place_source) == (
        names["Water"],
        "Jalisco",
        PlaceSource.PHONE,
    )

    # The matrix: the water cell in Quebec holds the Spanish text; it becomes a segment, then an audience.
    tag = f"water-{marker}"
    # Every region its own column.
    matrix = live_app.leader_url(leader, "/listening/?columns=all")
    page.goto(matrix)
    page.get_by_role("heading", name="Listening").wait_for()
    expect(page.get_by_role("link", name=f"{names['Water']} × Quebec: 1")).to_be_visible()
    page.get_by_role("link", name=f"Make a segment from {names['Water']} × Quebec").click()
    page.get_by_label("Tag name").fill(tag)
    page.get_by_role("button", name="Tag them").click()
    page.get_by_text(f"Members who wrote here and carry the tag “{tag}”: 1. Newly tagged: 1.").wait_for()
    page.get_by_role("link", name="Preview a broadcast to them").click()
    page.get_by_role("heading", name="New broadcast").wait_for()
    expect(page.locator("#audience-count")).to_have_text("Matching members: 1")
    with schema_context(leader.schema_name):
        assert list(Member.objects.filter(tags__contains=[tag]).values_list("pk", flat=True)) == [
            fans["es"].pk
        ]

    # The health cell opens as a filtered inbox; the French text moves to Security.
    page.goto(matrix)
    page.get_by_role("link", name=f"{names['Health']} × Quebec: 1").click()
    page.get_by_role("heading", name="Inbox").wait_for()
    page.get_by_role("link", name=f"Fanfr{marker}").click()
    page.get_by_text(f"Topic: {names['Health']}").wait_for()
    page.get_by_label("Move to topic").select_option(label=names["Security"])
    page.get_by_role("button", name="Move").click()
    expect(page.locator(".chip.topic")).to_have_text(f"Topic: {names['Security']}")
    with schema_context(leader.schema_name):
        moved = Label.objects.get(
            message__phone=str(fans["fr"].phone), message__direction=Message.Direction.INBOUND
        )
        assert (moved.topic.name, moved.predicted_topic.name, moved.corrected_by.username) == (
            names["Security"],
            names["Health"],
            "olivia",
        )
    # The matrix follows the move.
    page.goto(matrix)
    expect(page.get_by_role("link", name=f"{names['Security']} × Quebec: 2")).to_be_visible()
