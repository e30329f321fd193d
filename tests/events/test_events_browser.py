"""Issue 15, "done when", in a real browser: a new user creates an event near the members, alerts them from
the console, a member answers YES from the phone simulator, gets the reminder (a short offset, its moment
reached by the sender's clock), checks in by texting the code word, and the event page shows the counts
(in English and in Arabic, right to left)."""

from __future__ import annotations

import datetime
import os
import uuid
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import User
from events.models import CheckIn, Event, EventAlert, Reminder, Rsvp
from events.services import reminders_send
from leaders.models import Leader
from leaders.routing import leader_cache_clear
from leaders.services import leader_create, leader_user_create
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.events.helpers import answers_read_now
from tests.places import MONTREAL, TORONTO

pytestmark = pytest.mark.browser
# Where the event page's screenshots go when asked for (never the repository): SCREENSHOTS_DIR=/tmp
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")
MONTREAL_ZONE = zoneinfo.ZoneInfo(MONTREAL.timezone)


@pytest.fixture
def leader(live_db, world, settings):
    """A leader of this test's own (its events and members touch no other test), sending fast, with no quiet
    hours so the test runs at any hour, and an owner who just joined. Dropped afterwards."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    made = leader_create(
        slug=f"rally-{uuid.uuid4().hex[:8]}", name="Parti Test", phone_number=_montreal(), countries=["CA"]
    )
    Leader.objects.filter(pk=made.pk).update(
        segments_per_second=1000, quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(0, 0)
    )
    made.refresh_from_db()
    leader_user_create(leader=made, username="nadia", role=User.Role.OWNER, password=TEAM_PASSWORD)
    leader_cache_clear()
    yield made
    leader_cache_clear()
    connection.set_schema_to_public()
    Leader.objects.get(pk=made.pk).delete(force_drop=True)


def _montreal() -> str:
    """A fictional Montréal number (514 555-01xx)."""
    return f"+1514555{uuid.uuid4().int % 10**4:04d}"


def _simulate(page, *, leader, phone: str, body: str, expecting: str) -> str:
    """Text `body` from `phone` in the simulator and wait for the answer holding `expecting`."""
    page.fill("#sim-phone", phone)
    page.select_option("#sim-leader", leader.slug)
    page.fill("#sim-body", body)
    page.click("#sim-send")
    # The text is stored (its bubble is shown from the database); a yes or no is then read off the
    # webhook's path, as the answers' worker does.
    page.locator(".bubble.in").filter(has_text=body).last.wait_for(timeout=15_000)
    answers_read_now(leader)
    answer = page.locator(".bubble.out").filter(has_text=expecting).first
    answer.wait_for(timeout=15_000)
    return answer.inner_text()


def test_an_organiser_creates_an_event_alerts_members_and_sees_yes_reminded_and_checked_in(
    live_db, live_app, world, leader, page, twilio
):
    with schema_context(leader.schema_name):
        camille = builders.fan(place=MONTREAL, first_name="Camille", phone=_montreal())
        hugo = builders.fan(place=MONTREAL, first_name="Hugo", phone=_montreal())
        builders.fan(place=TORONTO, first_name="Tom")  # 500 km away: not alerted

    # The new owner creates the event: Montréal, starting in half an hour (venue's time), a 10 min reminder.
    page.goto(live_app.leader_url(leader, "/login/"))
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Events").click()
    page.get_by_role("link", name="New event").click()
    start = (timezone.now() + datetime.timedelta(minutes=30)).astimezone(MONTREAL_ZONE)
    page.get_by_label("Title").fill("Town hall on housing")
    page.get_by_label("City").fill("Montréal, Quebec, Canada")
    page.get_by_label("Address").fill("Salle Pierre-Mercure")
    page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Seats").fill("100")
    page.get_by_label("Code word").fill("MAISON")
    page.get_by_label("Reminders before the start").fill("10 min")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "event_form_en.png"), full_page=True)
    page.get_by_role("button", name="Save the event").click()
    page.get_by_text("Event “Town hall on housing” saved.").wait_for()
    with schema_context(leader.schema_name):
        event = Event.objects.get(title="Town hall on housing")
    assert event.place_id == MONTREAL.geoname_id and event.reminder_offsets == [10]

    # The alert: members within 25 km by default, counted as the page opens, then sent.
    page.get_by_role("link", name="Alert members").click()
    expect(page.locator("#audience-count")).to_have_text("Matching members: 2", timeout=15_000)
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "event_alert_en.png"), full_page=True)
    page.get_by_role("button", name="Send the alert").click()
    page.get_by_text("The alert is on its way.").wait_for()
    with schema_context(leader.schema_name):
        broadcast = EventAlert.objects.get(event=event).broadcast
        assert broadcast_queue(leader=leader, broadcast=broadcast) == 2
        assert broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk, time_budget=30).sent == 2
    (alerted,) = [m["body"] for m in twilio.messages if m["to"] == camille.phone]
    assert alerted.endswith("Reply YES or NO.")

    # Camille answers YES from the phone simulator (staff): her seat is confirmed with the code word.
    page.goto(live_app.url("/admin/login/?next=/simulator/"))
    page.fill("#id_username", "carol")
    page.fill("#id_password", TEAM_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/simulator/")
    simulator = page.url
    _simulate(page, leader=leader, phone=camille.phone, body="YES", expecting="MAISON")

    # The reminder's moment (10 min before the start) comes: the sender sends it to her, once.
    with schema_context(leader.schema_name):
        moment = event.starts_at - datetime.timedelta(minutes=10) + datetime.timedelta(seconds=5)
        assert reminders_send(leader=leader, now=moment).sent == 1
        assert reminders_send(leader=leader, now=moment).sent == 0
        assert Reminder.objects.get(event=event, member=camille).status == Reminder.Status.SENT
    reminders = [m["body"] for m in twilio.messages if m["to"] == camille.phone and "reminder" in m["body"]]
    assert len(reminders) == 1 and "MAISON" in reminders[0]

    # At the door she texts the code word.
    page.goto(simulator)
    _simulate(page, leader=leader, phone=camille.phone, body="maison", expecting="checked in")
    with schema_context(leader.schema_name):
        assert CheckIn.objects.get(event=event, member=camille).source == "text"
        assert Rsvp.objects.get(event=event, member=camille).status == Rsvp.Status.CONFIRMED

    # The organiser's event page: invited 2, yes 1, reminded 1, checked in 1, in Quebec.
    page.goto(live_app.leader_url(leader, f"/events/{event.pk}/"))
    expect(page.locator("#count-invited")).to_have_text("2")
    expect(page.locator("#count-confirmed")).to_have_text("1")
    expect(page.locator("#count-declined")).to_have_text("0")
    expect(page.locator("#count-reminded")).to_have_text("1")
    expect(page.locator("#count-checked-in")).to_have_text("1")
    expect(page.get_by_role("row", name="Quebec")).to_contain_text("2")
    expect(page.get_by_role("row", name="Camille")).to_contain_text("Checked in at")

    # Hugo answers "oui" while the page is open in another tab: its live part shows it by itself; then he is
    # at the door without his phone, and a teammate checks him in from the page.
    simulator_tab = page.context.new_page()
    simulator_tab.goto(simulator)
    _simulate(simulator_tab, leader=leader, phone=hugo.phone, body="oui", expecting="MAISON")
    simulator_tab.close()
    expect(page.locator("#count-confirmed")).to_have_text("2", timeout=15_000)
    page.get_by_role("button", name="Check in Hugo").click()
    page.get_by_text("Hugo is checked in.").wait_for()
    expect(page.locator("#count-checked-in")).to_have_text("2")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "event_page_en.png"), full_page=True)

    # The same page in Arabic reads right to left.
    page.locator("#language-select").select_option("ar")
    page.locator("form.language button").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#count-checked-in")).to_have_text("2")
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "event_page_ar.png"), full_page=True)
        page.goto(live_app.leader_url(leader, "/events/new/"))
        page.screenshot(path=os.path.join(SCREENSHOTS, "event_form_ar.png"), full_page=True)
