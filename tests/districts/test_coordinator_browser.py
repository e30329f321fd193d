"""Done when: a volunteer's texts reach the district coordinator's inbox with the number masked. In a real
browser: a member in Montréal texts VOLUNTEER and then a message to alice's number (Twilio's signed webhooks,
to the live server's receiver); the Plateau district's coordinator, a responder, logs in and finds the
conversation in "Assigned to me", marked as a volunteer of Plateau, the texts there and the number masked."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import User
from common.phones import phone_mask_for_fan
from districts.models import District, Volunteer
from leaders.routing import leader_cache_clear
from messaging.models import Conversation, Message
from messaging.tasks import message_send
from messaging.texts import auto_text
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.districts.helpers import district, teammate
from tests.messaging.webhooks import SMS_PATH, sign, sms_params, twiml_messages
from tests.places import MONTREAL

pytestmark = pytest.mark.browser


def _text(live_app, leader, phone: str, body: str):
    params = sms_params(from_=phone, to=str(leader.phone_number), body=body)
    answer = live_app.http(
        "POST",
        SMS_PATH,
        data=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(SMS_PATH, params),
        },
    )
    assert answer.status_code == 200
    return answer


def test_a_volunteers_texts_reach_the_coordinators_inbox_with_the_number_masked(
    live_db, live_app, world, page, twilio
):
    leader_cache_clear()
    alice = world.alice
    marker = "Vq" + uuid.uuid4().hex[:8]
    # Committed rows (the live server reads them): a district of its own name and a coordinator of its own,
    # removed at the end so that no other test finds Montréal in a district.
    with schema_context(alice.schema_name):
        coordinator = teammate("responder", password=TEAM_PASSWORD)
        plateau = district(f"Plateau {marker}", places=[MONTREAL], coordinators=[coordinator])
        fan = builders.fan(place=MONTREAL, first_name=marker, language="fr")
    try:
        (thanks,) = twiml_messages(_text(live_app, alice, fan.phone, "BÉNÉVOLE"))
        assert thanks == auto_text("volunteer_district", language="fr", leader=alice, district=plateau.name)
        _text(live_app, alice, fan.phone, "Je peux faire du porte-à-porte le samedi")

        page.goto(live_app.leader_url(alice, "/login/"))
        page.get_by_label("Username").fill(coordinator.username)
        page.get_by_label("Password").fill(TEAM_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Inbox").click()
        page.get_by_role("heading", name="Inbox").wait_for()
        page.get_by_role("navigation", name="Folders").get_by_role("link", name="Assigned to me").click()

        row = page.get_by_role("link", name=marker)
        expect(row).to_contain_text(f"Volunteer · {plateau.name}")
        expect(row).to_contain_text("porte-à-porte")
        row.click()
        page.get_by_text("Je peux faire du porte-à-porte le samedi").wait_for()
        expect(page.get_by_role("heading", level=1)).to_contain_text(phone_mask_for_fan(fan.phone))
        expect(page.locator("body")).to_contain_text(thanks)
        # Nowhere on the page, in any form: the coordinator never learns the member's number.
        content = page.content()
        assert fan.phone not in content and fan.phone[2:] not in content and fan.phone[-7:] not in content

        # The coordinator answers through the platform: the text leaves from alice's number, never theirs.
        page.get_by_role("textbox", name="Reply").fill("Merci ! Rendez-vous samedi à 10 h au local.")
        page.get_by_role("button", name="Send reply").click()
        page.get_by_text("Reply queued.").wait_for()
        with schema_context(alice.schema_name):
            sent = Message.objects.get(
                phone=fan.phone, direction=Message.Direction.OUTBOUND, sent_by=coordinator
            )
        assert message_send(sent.pk, alice.schema_name) == "sent"
        (delivered,) = [m for m in twilio.messages if m["to"] == fan.phone and "samedi" in m["body"]]
        assert delivered["from"] == str(alice.phone_number)
    finally:
        with schema_context(alice.schema_name):
            Volunteer.objects.filter(member=fan).delete()
            District.objects.filter(pk=plateau.pk).delete()
            Conversation.objects.filter(phone=fan.phone).update(assigned_to=None)
            User.objects.filter(pk=coordinator.pk).delete()


def test_a_manager_draws_a_district_with_the_city_picker(live_db, live_app, world, page):
    alice = world.alice
    name = "Island " + uuid.uuid4().hex[:8]
    with schema_context(alice.schema_name):
        coordinator = teammate("responder", password=TEAM_PASSWORD)
    try:
        page.goto(live_app.leader_url(alice, "/login/"))
        page.get_by_label("Username").fill("mark")
        page.get_by_label("Password").fill(TEAM_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("heading", name="Dashboard").wait_for()
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Districts").click()
        page.get_by_role("heading", name="Districts", level=1).wait_for()

        page.get_by_label("District name").fill(name)
        search = page.get_by_label("Add a city")
        search.fill("Montréal")
        # The gazetteer's suggestion arrives in the datalist (after the index is built, if it was not yet).
        expect(page.locator("#city-options option[value='Montréal, Quebec, Canada']")).to_have_count(
            1, timeout=30_000
        )
        search.fill("Montréal, Quebec, Canada")
        expect(page.get_by_label("Cities and towns")).to_have_value("Montréal, Quebec, Canada")
        expect(search).to_have_value("")
        page.get_by_label("Regions").fill("ON")
        page.get_by_label(coordinator.username, exact=False).check()
        page.get_by_role("button", name="Add the district").click()

        page.get_by_text(f"District “{name}” saved.").wait_for()
        row = page.get_by_role("row", name=name)
        expect(row).to_contain_text("Montréal, Quebec, Canada")
        expect(row).to_contain_text("Ontario")
        expect(row).to_contain_text(coordinator.username)
    finally:
        with schema_context(alice.schema_name):
            District.objects.filter(name=name).delete()
            User.objects.filter(pk=coordinator.pk).delete()
