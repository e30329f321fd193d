"""Listening in a real browser: olivia defines a topic, opens the matrix, makes a segment from a cell and
previews a broadcast to it, opens the cell as a filtered inbox and moves a text to "Unsorted"; the Arabic
matrix reads right to left."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from members.models import Member
from tests import builders
from tests.conftest import TEAM_PASSWORD
from topics.models import Topic
from triage.models import Count, Label

pytestmark = pytest.mark.browser


@pytest.fixture
def cleanup(live_db, world):
    """These rows are committed in alice's schema: the topics, labels and counters go afterwards."""
    made: dict[str, list] = {"topics": [], "members": []}
    yield made
    with schema_context(world.alice.schema_name):
        Label.objects.filter(member_id__in=[m.pk for m in made["members"]]).delete()
        Count.objects.filter(topic_id__in=[t.pk for t in made["topics"]]).delete()
        Topic.objects.filter(pk__in=[t.pk for t in made["topics"]]).delete()


def _login(page, live_app, world, username: str) -> None:
    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_olivia_defines_a_topic_reads_its_cell_moves_a_text_and_segments_its_writers(
    live_db, live_app, world, page, cleanup
):
    marker = "Agua" + uuid.uuid4().hex[:6]
    region = "Region" + uuid.uuid4().hex[:6]
    tag = f"seg-{marker.lower()}"
    _login(page, live_app, world, "olivia")
    nav = page.get_by_role("navigation", name="Console")
    nav.get_by_role("link", name="Topics").click()
    page.get_by_role("heading", name="Topics").wait_for()
    page.get_by_role("link", name="Add a topic").click()
    page.get_by_label("Name").fill(marker)
    page.get_by_label("Examples").fill("no hay agua desde el lunes\nwe have no water\nplus d'eau au robinet")
    page.get_by_label("Keywords").fill("agua, water, eau")
    page.get_by_role("button", name="Save the topic").click()
    page.get_by_text(f"Topic “{marker}” saved.").wait_for()

    # Triage (the pipeline, not in this test) sorted two fans' texts into it, in one region.
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        topic = Topic.objects.get(name=marker)
        cleanup["topics"].append(topic)
        fans = [builders.fan(first_name=f"Fan{n}{marker}") for n in range(2)]
        cleanup["members"].extend(fans)
        talks = []
        for fan in fans:
            talk = builders.conversation(member=fan, last_message_at=now, last_message_preview="sin agua")
            text = builders.message(conversation=talk, member=fan, body=f"{marker}: sin agua en la colonia")
            builders.label(message=text, topic=topic, region=region, language="es", place_source="phone")
            talks.append(talk)
        builders.count(hour=now, topic_id=topic.pk, region=region, language="es", texts=2, open=2)

    nav.get_by_role("link", name="Listening").click()
    page.get_by_role("heading", name="Listening").wait_for()
    cell = page.get_by_role("link", name=f"{marker} × {region}: 2")
    expect(cell).to_be_visible()

    # A segment from the cell, then the broadcast composer with its tag.
    page.get_by_role("link", name=f"Make a segment from {marker} × {region}").click()
    page.get_by_role("heading", name="Make a segment").wait_for()
    page.get_by_label("Tag name").fill(tag)
    page.get_by_role("button", name="Tag them").click()
    page.get_by_text(f"Members who wrote here and carry the tag “{tag}”: 2. Newly tagged: 2.").wait_for()
    with schema_context(world.alice.schema_name):
        assert set(Member.objects.filter(tags__contains=[tag]).values_list("pk", flat=True)) == {
            fan.pk for fan in fans
        }
    page.get_by_role("link", name="Preview a broadcast to them").click()
    page.get_by_role("heading", name="New broadcast").wait_for()
    expect(page.get_by_label("Has any of the tags")).to_have_value(tag)
    expect(page.locator("#audience-count")).to_have_text("Matching members: 2")

    # The cell as a filtered inbox; the first fan's text moves to "Unsorted".
    nav.get_by_role("link", name="Listening").click()
    page.get_by_role("link", name=f"{marker} × {region}: 2").click()
    page.get_by_role("heading", name="Inbox").wait_for()
    expect(page.get_by_label("Region")).to_have_value(region)
    page.get_by_role("link", name=f"Fan0{marker}").click()
    page.get_by_text(f"Topic: {marker}").wait_for()
    page.get_by_text("Place: " + region + " (from the phone number)").wait_for()
    page.get_by_label("Move to topic").select_option(label="Unsorted")
    page.get_by_role("button", name="Move").click()
    page.get_by_text("The text is now unsorted.").wait_for()
    expect(page.locator(".chip.topic")).to_have_text("Unsorted")
    with schema_context(world.alice.schema_name):
        label = Label.objects.get(member_id=fans[0].pk)
        assert label.topic_id is None and label.corrected_by.username == "olivia"
    # The unsorted queue has it now.
    page.goto(live_app.leader_url(world.alice, "/inbox/?topic=unsorted"))
    expect(page.get_by_role("link", name=f"Fan0{marker}")).to_be_visible()


def test_the_matrix_in_arabic_reads_right_to_left(live_db, live_app, world, page, cleanup):
    marker = "صحة" + uuid.uuid4().hex[:4]
    with schema_context(world.alice.schema_name):
        topic = builders.topic(name=marker)
        cleanup["topics"].append(topic)
        builders.count(topic_id=topic.pk, region="Jalisco", language="ar", texts=3, open=3)
    _login(page, live_app, world, "rita")
    page.get_by_label("Language").select_option("ar")
    page.get_by_role("button", name="Change").click()
    page.goto(live_app.leader_url(world.alice, "/listening/"))
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.get_by_role("heading", name="الاستماع").wait_for()
    direction = page.locator("table.matrix").evaluate("t => getComputedStyle(t).direction")
    assert direction == "rtl"
    # The topic's row starts on the right: its name's cell lies right of its count.
    name_box = page.get_by_role("rowheader", name=marker).bounding_box()
    count_box = page.get_by_role("link", name=f"{marker} × Jalisco: 3").bounding_box()
    assert name_box["x"] > count_box["x"]
