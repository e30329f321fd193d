"""VOLUNTEER through Twilio's signed webhook: in five languages a member becomes a volunteer of their
district, their conversation goes to its coordinator, the confirmation comes back in the TwiML in the word's
language; STOP/START/HELP and the leader's own keyword replies still win, a sentence is conversation, and a
newcomer or an opted-out member volunteers nobody. Then the coordinator, a responder, finds the volunteer's
texts in their inbox with the number masked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from common.phones import phone_mask_for_fan
from districts.models import Placement, Volunteer
from leaders.routing import leader_cache_clear
from members.models import Member
from messaging.keyword_replies import keyword_cache_clear
from messaging.models import Conversation, KeywordReply, Message
from messaging.texts import auto_text
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.console.conftest import client_for
from tests.districts.helpers import district, teammate
from tests.messaging.webhooks import text, twiml_messages
from tests.places import MONTREAL, TORONTO

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(world):
    leader_cache_clear()
    return world.alice


@pytest.fixture
def plateau(alice):
    """A district around Montréal, coordinated by a responder (who never sees numbers in full)."""
    with schema_context(alice.schema_name):
        coordinator = teammate("responder", password=TEAM_PASSWORD)
        return district("Plateau", places=[MONTREAL], coordinators=[coordinator]), coordinator


def volunteer_of(leader, member) -> Volunteer | None:
    with schema_context(leader.schema_name):
        return Volunteer.objects.select_related("district").filter(member=member).first()


@pytest.mark.parametrize(
    ("word", "member_language", "answer_language"),
    [
        ("volunteer", "es", "es"),  # a word of every language: answered in the member's
        ("Bénévole!", "en", "fr"),
        ("VOLUNTARIO", "en", "es"),
        ("freiwillig", "en", "de"),
        ("مُتطوع", "en", "ar"),
    ],
)
def test_a_member_who_texts_volunteer_goes_to_their_districts_coordinator(
    client, alice, plateau, word, member_language, answer_language
):
    the_district, coordinator = plateau
    with schema_context(alice.schema_name):
        fan = builders.fan(place=MONTREAL, language=member_language)

    (reply,) = twiml_messages(text(client, alice, fan.phone, word))

    assert reply == auto_text(
        "volunteer_district", language=answer_language, leader=alice, district="Plateau"
    )
    volunteer = volunteer_of(alice, fan)
    assert (volunteer.district, volunteer.placement, volunteer.source) == (
        the_district,
        Placement.INSIDE,
        Volunteer.Source.KEYWORD,
    )
    with schema_context(alice.schema_name):
        conversation = Conversation.objects.get(phone=fan.phone)
        assert conversation.assigned_to == coordinator
        texts = list(conversation.messages.order_by("created_at").values_list("direction", "body"))
        assert texts == [(Message.Direction.INBOUND, word), (Message.Direction.OUTBOUND, reply)]


def test_a_volunteer_outside_every_district_is_thanked_by_the_team_and_left_for_managers(
    client, alice, plateau
):
    with schema_context(alice.schema_name):
        fan = builders.fan(place=TORONTO)

    (reply,) = twiml_messages(text(client, alice, fan.phone, "VOLUNTEER"))

    assert reply == auto_text("volunteer_team", language="en", leader=alice)
    assert volunteer_of(alice, fan).placement == Placement.OUTSIDE
    with schema_context(alice.schema_name):
        assert Conversation.objects.get(phone=fan.phone).assigned_to is None


def test_carrier_keywords_and_the_leaders_own_keyword_replies_win_and_sentences_are_conversation(
    client, alice, plateau
):
    with schema_context(alice.schema_name):
        fan = builders.fan(place=MONTREAL)
    assert twiml_messages(text(client, alice, fan.phone, "I'd volunteer if I had time")) == []
    assert volunteer_of(alice, fan) is None
    (help_text,) = twiml_messages(text(client, alice, fan.phone, "HELP"))
    assert help_text == auto_text("help", language="en", leader=alice)

    with schema_context(alice.schema_name):
        KeywordReply.objects.create(
            keyword="VOLUNTEER", reply="Sign up at alice.example.org/help", tag="helper"
        )
    assert twiml_messages(text(client, alice, fan.phone, "Volunteer")) == [
        "Sign up at alice.example.org/help"
    ]
    assert volunteer_of(alice, fan) is None
    # The leader's reply covers its own word only: BÉNÉVOLE still volunteers.
    assert twiml_messages(text(client, alice, fan.phone, "BENEVOLE")) == [
        auto_text("volunteer_district", language="fr", leader=alice, district="Plateau")
    ]
    assert volunteer_of(alice, fan) is not None
    keyword_cache_clear()  # the rollback deletes the reply without the signal that clears the cache


def test_stop_ends_volunteering_and_an_opted_out_member_or_a_newcomer_volunteers_nobody(
    client, alice, plateau
):
    with schema_context(alice.schema_name):
        fan = builders.fan(place=MONTREAL)
    text(client, alice, fan.phone, "VOLUNTEER")
    assert volunteer_of(alice, fan) is not None

    (stopped,) = twiml_messages(text(client, alice, fan.phone, "STOP"))
    assert stopped == auto_text("stop", language="en", leader=alice)
    assert volunteer_of(alice, fan) is None
    # Consent is law: nothing is answered, nobody is volunteered.
    assert twiml_messages(text(client, alice, fan.phone, "VOLUNTEER")) == []
    assert volunteer_of(alice, fan) is None
    with schema_context(alice.schema_name):
        assert Member.objects.get(pk=fan.pk).status == Member.Status.OPTED_OUT

    newcomer = "+12025550177"
    (welcome,) = twiml_messages(text(client, alice, newcomer, "VOLUNTEER"))
    assert "/j/" in welcome
    with schema_context(alice.schema_name):
        assert not Volunteer.objects.filter(member__phone=newcomer).exists()


def test_the_volunteers_texts_reach_the_coordinators_inbox_with_the_number_masked(client, alice, plateau):
    _district, coordinator = plateau
    with schema_context(alice.schema_name):
        fan = builders.fan(place=MONTREAL, first_name="Vera")
    text(client, alice, fan.phone, "VOLUNTEER")
    text(client, alice, fan.phone, "I can knock on doors on Saturdays")

    console = client_for(alice, coordinator.username)
    listing = console.get("/inbox/?folder=mine").content.decode()
    assert "Vera" in listing and "Volunteer · Plateau" in listing
    assert fan.phone not in listing and fan.phone[2:] not in listing
    with schema_context(alice.schema_name):
        conversation = Conversation.objects.get(phone=fan.phone)
    thread = console.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "I can knock on doors on Saturdays" in thread and "Volunteer · Plateau" in thread
    assert phone_mask_for_fan(fan.phone) in thread
    assert fan.phone not in thread and fan.phone[2:] not in thread


def test_an_ordinary_text_reads_nothing_of_districts(client, alice, plateau):
    with schema_context(alice.schema_name):
        fan = builders.fan(place=MONTREAL)
    text(client, alice, fan.phone, "warming the caches")

    with CaptureQueriesContext(connection) as queries:
        text(client, alice, fan.phone, "Thanks for everything you do for the neighbourhood")
        text(client, alice, fan.phone, "ok")

    assert not any("districts_" in query["sql"] for query in queries.captured_queries)
