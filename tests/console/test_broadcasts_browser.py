"""Composing a broadcast in a real browser (Debian's chromium), then sending it through the fake Twilio."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.models import Member
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.places import PARIS

pytestmark = pytest.mark.browser


@pytest.fixture
def fast_alice(live_db, world, settings):
    """Alice's number sending fast enough for a test, put back afterwards (these rows are committed)."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    before = Leader.objects.get(pk=world.alice.pk).segments_per_second
    Leader.objects.filter(pk=world.alice.pk).update(segments_per_second=1000)
    yield Leader.objects.get(pk=world.alice.pk)
    Leader.objects.filter(pk=world.alice.pk).update(segments_per_second=before)


def test_olivia_sends_a_broadcast_to_the_women_of_a_city_and_only_they_get_it(
    live_db, live_app, world, page, twilio, fast_alice
):
    tag = builders.new_tag("b")
    with schema_context(world.alice.schema_name):
        expected = {
            builders.fan(tag=tag, first_name="Ana").phone,
            builders.fan(tag=tag, first_name="Bea").phone,
        }
        builders.fan(tag=tag, gender="male")
        builders.fan(tag=tag, place=PARIS)
        builders.fan(tag=tag, status=Member.Status.OPTED_OUT)

    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Broadcasts").click()
    page.get_by_role("link", name="New broadcast").click()
    page.wait_for_load_state("load")  # the composer's deferred script is listening from here on

    body = page.get_by_role("textbox", name="Message:")
    body.fill("Hi {first_name}, rally on Saturday “at noon”!")
    page.get_by_text("Left Double Quotation Mark").wait_for()
    page.get_by_role("button", name="Use the GSM-7 replacements").click()
    assert body.input_value() == 'Hi {first_name}, rally on Saturday "at noon"!'
    page.locator("#segment-summary").filter(has_text="GSM-7").wait_for()
    assert page.locator("#phone-bubble").inner_text() == 'Hi Maya, rally on Saturday "at noon"!'

    # The city through the gazetteer's type-ahead, then women only, then this test's own members.
    page.get_by_label("Add a city").fill("Montr")
    page.locator('#city-options option[value^="Montréal"]').first.wait_for(state="attached")
    label = page.locator('#city-options option[value^="Montréal"]').first.get_attribute("value")
    page.get_by_label("Add a city").fill(label)
    page.wait_for_function("document.getElementById('id_cities').value.length > 0")
    page.get_by_label("Female").check()
    page.get_by_label("Has all of the tags").fill(tag)
    page.locator("#audience-count").filter(has_text="Matching members: 2").wait_for()
    page.get_by_label("Respect quiet hours").uncheck()  # so the test may send at any hour

    page.get_by_role("button", name="Review").click()
    page.get_by_role("heading", name="Confirm the broadcast").wait_for()
    assert page.locator("#confirm-total").inner_text() == "2 × 1 = 2 segments"
    page.get_by_role("button", name="Send the broadcast").click()
    page.get_by_role("heading", name="Progress").wait_for()
    # Before a worker queued it: starting, to the two members counted; never "Draft, 0 recipients".
    assert page.locator("#progress-status").inner_text() == "Starting"
    assert page.locator('[data-key="recipients"]').inner_text() == "2"
    assert page.locator("#cancel-link").is_visible()

    with schema_context(world.alice.schema_name):
        broadcast = Broadcast.objects.get(filters__tags_all=[tag])
        assert broadcast.created_by.username == "olivia" and broadcast.ignore_quiet_hours
        # The queue task's work, in-process: materialise the recipients, then dispatch.
        assert broadcast_queue(leader=fast_alice, broadcast=broadcast) == 2
        result = broadcast_dispatch(leader=fast_alice, broadcast_id=broadcast.pk, time_budget=30)
        assert result.sent == 2
    assert {message["to"] for message in twilio.messages} == expected
    assert {message["body"] for message in twilio.messages} == {
        'Hi Ana, rally on Saturday "at noon"!',
        'Hi Bea, rally on Saturday "at noon"!',
    }
    page.locator('[data-key="sent"]').filter(has_text="2").wait_for(timeout=15000)  # the live progress
    # Over: the poll says so, and the cancel link goes.
    page.locator("#progress-status").filter(has_text="Completed").wait_for(timeout=15000)
    page.locator("#cancel-link").wait_for(state="hidden")

    # Ana answers; her conversation shows the broadcast she got above her answer.
    ana = next(phone for phone in expected if twilio_body(twilio, phone).startswith("Hi Ana"))
    with schema_context(world.alice.schema_name):
        member = Member.objects.get(phone=ana)
        conversation = builders.conversation(member=member)
        builders.message(conversation=conversation, member=member, body="Count me in!")
    page.goto(live_app.leader_url(world.alice, f"/inbox/{conversation.pk}/"))
    texts = page.locator("ol.thread > li").all_inner_texts()
    assert texts[0].startswith('Hi Ana, rally on Saturday "at noon"!') and "Broadcast" in texts[0]
    assert texts[1].startswith("Count me in!")


def twilio_body(twilio, phone: str) -> str:
    return next(message["body"] for message in twilio.messages if message["to"] == phone)


def test_the_composer_fits_a_phone_sized_screen_in_arabic(live_db, live_app, world, page):
    page.set_viewport_size({"width": 375, "height": 740})
    page.set_extra_http_headers({"Accept-Language": "ar"})
    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.locator("#id_username").fill("mark")
    page.locator("#id_password").fill(TEAM_PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.get_by_role("heading", name="لوحة المعلومات").wait_for()  # the dashboard: logged in
    page.goto(live_app.leader_url(world.alice, "/broadcasts/new/"))
    page.get_by_role("heading", name="رسالة جماعية جديدة").wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.get_by_role("textbox", name="الرسالة").fill("مرحبا {first_name}")
    page.locator("#segment-summary").filter(has_text="UCS-2").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


@pytest.fixture
def alice_quiet_now(fast_alice):
    """Alice's quiet hours from an hour ago to an hour ahead (UTC), put back afterwards (committed rows)."""
    import datetime

    from django.utils import timezone

    from leaders.routing import leader_cache_clear

    before = (fast_alice.quiet_hours_start, fast_alice.quiet_hours_end)
    now = timezone.now().astimezone(datetime.UTC)
    Leader.objects.filter(pk=fast_alice.pk).update(
        quiet_hours_start=(now - datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0),
        quiet_hours_end=(now + datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0),
    )
    leader_cache_clear()
    yield Leader.objects.get(pk=fast_alice.pk)
    Leader.objects.filter(pk=fast_alice.pk).update(quiet_hours_start=before[0], quiet_hours_end=before[1])
    leader_cache_clear()


def test_the_review_and_progress_pages_say_who_waits_for_their_quiet_hours(
    live_db, live_app, world, page, twilio, alice_quiet_now
):
    tag = builders.new_tag("q")
    with schema_context(world.alice.schema_name):
        for name in ("Ana", "Bea"):
            builders.fan(tag=tag, first_name=name, time_zone="UTC")  # asleep
        builders.fan(tag=tag, first_name="Chloé", time_zone="Asia/Tokyo")  # nine hours ahead: awake

    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.goto(live_app.leader_url(world.alice, "/broadcasts/new/"))
    page.wait_for_load_state("load")
    page.get_by_role("textbox", name="Message:").fill("Rally tonight!")
    page.get_by_label("Has all of the tags").fill(tag)
    page.locator("#audience-count").filter(has_text="Matching members: 3").wait_for()
    assert page.get_by_label("Respect quiet hours").is_checked()
    page.get_by_role("button", name="Review").click()
    page.get_by_role("heading", name="Confirm the broadcast").wait_for()
    assert (
        page.locator("#confirm-held")
        .inner_text()
        .startswith("2 of them are in their quiet hours now: they get it when those end")
    )
    page.get_by_role("button", name="Send the broadcast").click()
    page.get_by_role("heading", name="Progress").wait_for()
    assert page.locator("#progress-held").is_hidden()  # nothing queued yet

    with schema_context(world.alice.schema_name):
        broadcast = Broadcast.objects.get(filters__tags_all=[tag])
        assert broadcast_queue(leader=alice_quiet_now, broadcast=broadcast) == 3
        assert broadcast_dispatch(leader=alice_quiet_now, broadcast_id=broadcast.pk, time_budget=30).sent == 1
    held = page.locator("#progress-held")
    held.filter(has_text="2 waiting for").wait_for(timeout=15000)  # the poll
    assert "their time (quiet hours)" in held.inner_text()
    assert page.locator("#progress-status").inner_text() == "Sending"
    assert page.locator("#cancel-link").is_visible()  # still going: it may be cancelled
