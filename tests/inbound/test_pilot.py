"""A leader's pilot regions through the signed SMS webhook: a newcomer inside gets the welcome and a link,
one outside is told "not there yet" in their language and waitlisted, at most once a day; STOP from a
waitlisted phone is a STOP; an unknown region is left to the signup form."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.consent import phone_opted_out
from members.models import WaitlistEntry
from messaging.models import Message
from messaging.segments import segment_info
from messaging.texts import LANGUAGES, auto_text
from signup.models import SignupToken
from tests import builders
from tests.messaging.test_keywords import REALISTIC_LINK, _Leader
from tests.messaging.webhooks import text, twiml_messages

pytestmark = pytest.mark.django_db

MONTREAL_PHONE = "+15145550161"  # the geocoder: "Quebec"
TORONTO_PHONE = "+14165550162"  # the geocoder: "Ontario"
QUEBEC = {"FromCountry": "CA", "FromState": "QC", "FromCity": "MONTREAL"}
ONTARIO = {"FromCountry": "CA", "FromState": "ON", "FromCity": "TORONTO"}
NO_CARRIER = {"FromCountry": "", "FromState": "", "FromCity": "", "FromZip": ""}


@pytest.fixture
def pilot(world):
    """alice (US and CA) in a pilot in Quebec alone; the test's transaction undoes it."""
    leader = world.alice
    leader.pilot_regions = ["Quebec"]
    leader.save(update_fields=["pilot_regions"])
    leader_cache_clear()
    yield leader
    leader.pilot_regions = []
    leader.save(update_fields=["pilot_regions"])
    leader_cache_clear()


def entry_for(leader, phone: str) -> WaitlistEntry | None:
    with schema_context(leader.schema_name):
        return WaitlistEntry.objects.filter(phone=phone).first()


def links_for(leader, phone: str) -> int:
    with schema_context(leader.schema_name):
        return SignupToken.objects.filter(phone=phone).count()


def test_a_newcomer_inside_the_pilot_gets_the_welcome_and_a_link(client, pilot):
    (reply,) = twiml_messages(text(client, pilot, MONTREAL_PHONE, "Hi Alice!", **QUEBEC))

    assert "/j/" in reply
    assert entry_for(pilot, MONTREAL_PHONE) is None
    assert links_for(pilot, MONTREAL_PHONE) == 1


def test_a_newcomer_outside_the_pilot_is_told_not_yet_without_a_link_and_waitlisted(client, pilot):
    (reply,) = twiml_messages(text(client, pilot, TORONTO_PHONE, "Hi Alice, can I join?", **ONTARIO))

    assert reply == auto_text("waitlisted", language="en", leader=pilot)
    assert "not in your area yet" in reply and "/j/" not in reply
    assert links_for(pilot, TORONTO_PHONE) == 0
    entry = entry_for(pilot, TORONTO_PHONE)
    assert (entry.country, entry.region, entry.language, entry.invited_at) == ("CA", "Ontario", "en", None)
    with schema_context(pilot.schema_name):
        answer = Message.objects.get(phone=TORONTO_PHONE, direction="out")
    assert (answer.kind, answer.body) == (Message.Kind.NOTICE, reply)


@pytest.mark.parametrize(
    ("body", "language", "expected"),
    [
        ("Bonjour, je veux rejoindre la communauté", "fr", "pas encore dans votre région"),
        ("Hola, quiero unirme", "es", "Aún no estamos en tu zona"),
        ("Hallo, ich möchte mitmachen", "de", "noch nicht in deiner Region"),
        ("مرحبا، أريد الانضمام", "ar", "لسنا في منطقتك بعد"),
    ],
)
def test_the_not_yet_answer_is_in_the_language_of_the_text(client, pilot, body, language, expected):
    (reply,) = twiml_messages(text(client, pilot, TORONTO_PHONE, body, **ONTARIO))

    assert expected in reply
    assert reply == auto_text("waitlisted", language=language, leader=pilot)
    assert entry_for(pilot, TORONTO_PHONE).language == language


def test_where_the_carrier_says_nothing_the_numbers_own_region_decides(client, pilot):
    (outside,) = twiml_messages(text(client, pilot, TORONTO_PHONE, "hello", **NO_CARRIER))
    (inside,) = twiml_messages(text(client, pilot, MONTREAL_PHONE, "hello", **NO_CARRIER))

    assert "/j/" not in outside and entry_for(pilot, TORONTO_PHONE).region == "Ontario"
    assert "/j/" in inside and entry_for(pilot, MONTREAL_PHONE) is None


def test_the_carriers_state_outranks_the_numbers_prefix(client, pilot):
    # A Toronto number whose carrier places it in Quebec (it moved with its owner): inside.
    (reply,) = twiml_messages(text(client, pilot, TORONTO_PHONE, "hello", **QUEBEC))

    assert "/j/" in reply


def test_a_waitlisted_phone_hears_not_yet_at_most_once_a_day(client, pilot):
    text(client, pilot, TORONTO_PHONE, "Hi", **ONTARIO)
    first_seen = entry_for(pilot, TORONTO_PHONE).last_text_at

    again = text(client, pilot, TORONTO_PHONE, "Bonjour ? Vous êtes là ?", **ONTARIO)

    assert twiml_messages(again) == []
    entry = entry_for(pilot, TORONTO_PHONE)
    assert entry.last_text_at > first_seen and entry.language == "fr"  # refreshed, not answered
    with schema_context(pilot.schema_name):
        assert Message.objects.filter(phone=TORONTO_PHONE, direction="out").count() == 1
        assert Message.objects.filter(phone=TORONTO_PHONE, direction="in").count() == 2
        Message.objects.filter(phone=TORONTO_PHONE, direction="out").update(
            created_at=timezone.now() - datetime.timedelta(hours=23)
        )
    assert twiml_messages(text(client, pilot, TORONTO_PHONE, "👍", **ONTARIO)) == []

    with schema_context(pilot.schema_name):
        Message.objects.filter(phone=TORONTO_PHONE, direction="out").update(
            created_at=timezone.now() - datetime.timedelta(hours=25)
        )
    (next_day,) = twiml_messages(text(client, pilot, TORONTO_PHONE, "👍", **ONTARIO))

    # A text with no clue keeps the language the phone wrote in before (French), the answer the leader's.
    assert next_day == auto_text("waitlisted", language="en", leader=pilot)
    assert entry_for(pilot, TORONTO_PHONE).language == "fr"
    with schema_context(pilot.schema_name):
        assert WaitlistEntry.objects.filter(phone=TORONTO_PHONE).count() == 1


def test_stop_from_a_waitlisted_phone_is_a_stop(client, pilot):
    text(client, pilot, TORONTO_PHONE, "Hi", **ONTARIO)

    (confirmation,) = twiml_messages(text(client, pilot, TORONTO_PHONE, "STOP", **ONTARIO))

    assert confirmation == auto_text("stop", language="en", leader=pilot)
    with schema_context(pilot.schema_name):
        assert phone_opted_out(TORONTO_PHONE)
        Message.objects.filter(phone=TORONTO_PHONE, direction="out").update(
            created_at=timezone.now() - datetime.timedelta(days=2)
        )
    # Days later, texting again: nothing, and the entry is not refreshed (STOP is final until START).
    before = entry_for(pilot, TORONTO_PHONE).last_text_at
    assert twiml_messages(text(client, pilot, TORONTO_PHONE, "hello?", **ONTARIO)) == []
    assert entry_for(pilot, TORONTO_PHONE).last_text_at == before


def test_stop_before_ever_texting_keeps_the_phone_off_the_waitlist(client, pilot):
    text(client, pilot, TORONTO_PHONE, "STOP", **ONTARIO)

    assert twiml_messages(text(client, pilot, TORONTO_PHONE, "hello", **ONTARIO)) == []
    assert entry_for(pilot, TORONTO_PHONE) is None


def test_a_country_the_leader_does_not_take_is_still_refused_as_such(client, pilot):
    french_phone = "+33639980142"

    (reply,) = twiml_messages(text(client, pilot, french_phone, "Bonjour", **NO_CARRIER))

    assert "CA, US" in reply
    assert entry_for(pilot, french_phone) is None


def test_a_region_nothing_tells_gets_the_link_and_the_form_decides(client, world):
    # bob takes any country; a French mobile's prefix is the whole country: no region to judge by.
    leader = world.bob
    leader.pilot_regions = ["Quebec"]
    leader.save(update_fields=["pilot_regions"])
    leader_cache_clear()
    french_mobile = "+33639980143"

    (reply,) = twiml_messages(text(client, leader, french_mobile, "Bonjour", **NO_CARRIER))

    assert "/j/" in reply
    assert entry_for(leader, french_mobile) is None


def test_a_member_outside_the_pilot_still_reaches_the_inbox(client, pilot):
    member = builders.member(leader=pilot, phone=TORONTO_PHONE)

    response = text(client, pilot, member.phone, "Any news about the rally?", **ONTARIO)

    assert twiml_messages(response) == []
    assert entry_for(pilot, TORONTO_PHONE) is None
    with schema_context(pilot.schema_name):
        assert Message.objects.get(phone=TORONTO_PHONE).conversation_id is not None


def test_with_no_pilot_everyone_gets_the_link(client, world):
    (reply,) = twiml_messages(text(client, world.alice, TORONTO_PHONE, "hello", **ONTARIO))

    assert "/j/" in reply


@pytest.mark.parametrize("name", ["Alexandria Ocasio-Cortez", "Alejandra Martínez Ocampo"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_not_yet_text_and_the_invitation_with_its_link_fit_in_two_segments(language, name):
    waitlisted = auto_text("waitlisted", language=language, leader=_Leader(name))
    invitation = auto_text("waitlist_invite", language=language, leader=_Leader(name), link=REALISTIC_LINK)

    assert segment_info(waitlisted).segments <= 2, waitlisted
    assert REALISTIC_LINK in invitation and segment_info(invitation).segments <= 2, invitation
