"""The inbound SMS webhook: signatures, routing, storing once, the first-contact welcome and the inbox."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.models import Member
from messaging.models import Conversation, Message, SmsStatus
from signup.models import SignupToken
from tests import builders
from tests.messaging.webhooks import SMS_PATH, post_signed, sign, sms_params, text, twiml_messages
from tests.phones import unique_phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


def messages_for(leader, phone: str) -> list[Message]:
    with schema_context(leader.schema_name):
        return list(Message.objects.filter(phone=phone).order_by("created_at", "pk"))


# -- signatures and bad input ------------------------------------------------------------------------------


def test_a_first_text_gets_the_welcome_and_a_personal_link_in_the_twiml(client, world):
    phone = unique_phone()

    response = text(client, world.alice, phone, "Hi Alice!")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    (reply,) = twiml_messages(response)
    assert reply.startswith("Alice Martin: thanks! Join my community: ")
    assert "http://alice.localhost:8000/j/" in reply
    inbound, outbound = messages_for(world.alice, phone)
    assert (inbound.direction, inbound.status, inbound.body) == ("in", SmsStatus.RECEIVED, "Hi Alice!")
    assert inbound.details["FromCity"] == "WASHINGTON"
    assert (outbound.direction, outbound.kind, outbound.body) == ("out", Message.Kind.WELCOME, reply)
    assert outbound.status == SmsStatus.WIRED
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 1


def test_a_forged_signature_is_refused_and_nothing_is_stored(client, world):
    phone = unique_phone()
    params = sms_params(from_=phone, to=str(world.alice.phone_number), body="Hi")

    forged = client.post(
        SMS_PATH, data=params, HTTP_X_TWILIO_SIGNATURE=sign(SMS_PATH, params, token="x" * 32)
    )
    unsigned = client.post(SMS_PATH, data=params)
    tampered = client.post(
        SMS_PATH, data={**params, "Body": "STOP"}, HTTP_X_TWILIO_SIGNATURE=sign(SMS_PATH, params)
    )

    assert [forged.status_code, unsigned.status_code, tampered.status_code] == [403, 403, 403]
    assert "X-Twilio-Signature" in forged.json()["error"]
    assert messages_for(world.alice, phone) == []


def test_the_signature_is_checked_against_the_public_base_url_not_the_host_header(client, world, settings):
    phone = unique_phone()
    params = sms_params(from_=phone, to=str(world.alice.phone_number), body="Hi")
    # What build_absolute_uri() would give behind a proxy: Twilio never signed that URL.
    as_seen_by_django = sign(SMS_PATH, params, base="http://testserver")

    response = client.post(SMS_PATH, data=params, HTTP_X_TWILIO_SIGNATURE=as_seen_by_django)
    assert response.status_code == 403

    settings.PUBLIC_BASE_URL = "https://hooks.example.org"
    response = client.post(
        SMS_PATH,
        data=params,
        HTTP_X_TWILIO_SIGNATURE=sign(SMS_PATH, params, base="https://hooks.example.org"),
    )
    assert response.status_code == 200


@pytest.mark.parametrize("missing", ["From", "To", "MessageSid"])
def test_a_signed_post_without_from_to_or_message_sid_is_a_400_with_a_json_error(client, world, missing):
    params = sms_params(from_=unique_phone(), to=str(world.alice.phone_number), body="Hi")
    del params[missing]

    response = post_signed(client, SMS_PATH, params)

    assert response.status_code == 400
    assert missing in response.json()["error"]


def test_numbers_that_are_not_e164_are_a_400(client, world):
    params = sms_params(from_="whatsapp:+12025550111", to=str(world.alice.phone_number), body="Hi")

    response = post_signed(client, SMS_PATH, params)

    assert response.status_code == 400
    assert "E.164" in response.json()["error"]


def test_get_is_not_allowed(client):
    assert client.get(SMS_PATH).status_code == 405


def test_a_text_to_a_number_that_is_no_leaders_gets_an_empty_twiml_and_is_logged_masked(
    client, world, caplog
):
    phone = unique_phone()
    params = sms_params(from_=phone, to="+12025550177", body="Hi")

    response = post_signed(client, SMS_PATH, params)

    assert response.status_code == 200
    assert twiml_messages(response) == []
    assert b"<Response" in response.content
    assert "+1202•••0177" in caplog.text
    assert "+12025550177" not in caplog.text
    assert messages_for(world.alice, phone) == [] and messages_for(world.bob, phone) == []


def test_twilio_parameters_we_do_not_know_are_accepted(client, world):
    phone = unique_phone()
    params = sms_params(
        from_=phone,
        to=str(world.alice.phone_number),
        body="Hi",
        AddOns='{"status":"successful"}',
        MessagingServiceSid="MG" + "1" * 32,
        SomethingNewFromTwilio="42",
    )

    assert post_signed(client, SMS_PATH, params).status_code == 200
    assert len(messages_for(world.alice, phone)) == 2


# -- idempotency -----------------------------------------------------------------------------------------


def test_a_retried_webhook_stores_one_row_and_sends_one_reply(client, world):
    phone = unique_phone()
    params = sms_params(from_=phone, to=str(world.alice.phone_number), body="Hello")

    first = post_signed(client, SMS_PATH, params)
    again = post_signed(client, SMS_PATH, params)

    assert len(twiml_messages(first)) == 1
    assert again.status_code == 200 and twiml_messages(again) == []
    assert [m.direction for m in messages_for(world.alice, phone)] == ["in", "out"]
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 1


def test_a_retried_member_text_counts_once_in_the_inbox(client, world):
    member = builders.member(leader=world.alice)
    params = sms_params(from_=member.phone, to=str(world.alice.phone_number), body="See you Saturday")

    post_signed(client, SMS_PATH, params)
    post_signed(client, SMS_PATH, params)

    with schema_context(world.alice.schema_name):
        conversation = Conversation.objects.get(phone=member.phone)
        assert conversation.unread_count == 1
        assert Message.objects.filter(phone=member.phone).count() == 1


# -- members and the inbox ---------------------------------------------------------------------------------


def test_a_members_text_goes_to_the_inbox_without_an_automatic_answer(client, world):
    member = builders.member(leader=world.alice, first_name="Inès")

    first = text(client, world.alice, member.phone, "Will you come to Denver?")
    second = text(client, world.alice, member.phone, "Also, what time?")

    assert twiml_messages(first) == [] and twiml_messages(second) == []
    with schema_context(world.alice.schema_name):
        conversation = Conversation.objects.get(phone=member.phone)
        assert conversation.member_id == member.pk
        assert conversation.unread_count == 2
        assert conversation.last_message_preview == "Also, what time?"
        assert conversation.status == Conversation.Status.OPEN
        texts = list(conversation.messages.order_by("pk").values_list("body", "member_id"))
    assert texts == [("Will you come to Denver?", member.pk), ("Also, what time?", member.pk)]


def test_a_text_reopens_a_conversation_marked_done(client, world):
    member = builders.member(leader=world.alice)
    text(client, world.alice, member.phone, "Hello")
    with schema_context(world.alice.schema_name):
        Conversation.objects.filter(phone=member.phone).update(status="done", unread_count=0)

    text(client, world.alice, member.phone, "Me again")

    with schema_context(world.alice.schema_name):
        conversation = Conversation.objects.get(phone=member.phone)
    assert (conversation.status, conversation.unread_count) == ("open", 1)


def test_texts_stay_in_the_leader_they_were_sent_to(client, world):
    phone = unique_phone()
    builders.member(leader=world.bob, phone=phone)

    text(client, world.alice, phone, "Hi Alice")

    with schema_context(world.bob.schema_name):
        assert not Message.objects.filter(phone=phone).exists()
        assert not Conversation.objects.filter(phone=phone).exists()
    # Not a member of alice: alice welcomes them.
    assert [m.kind for m in messages_for(world.alice, phone)] == ["conversation", "welcome"]


# -- newcomers: country, throttle, language ----------------------------------------------------------------


def test_a_phone_from_a_country_the_leader_does_not_accept_gets_a_polite_refusal_and_no_link(client, world):
    french_phone = "+33639980142"  # a number reserved for fiction in France

    response = text(client, world.alice, french_phone, "Bonjour ! Je voudrais rejoindre")

    (reply,) = twiml_messages(response)
    assert reply.startswith("Alice Martin")
    assert "CA, US" in reply and "/j/" not in reply
    assert "merci" in reply.lower()  # answered in the language of the text
    with schema_context(world.alice.schema_name):
        assert not SignupToken.objects.filter(phone=french_phone).exists()


def test_texting_again_within_five_minutes_gets_no_second_link(client, world):
    phone = unique_phone()
    text(client, world.alice, phone, "Hi")

    again = text(client, world.alice, phone, "Hello? Did it work?")

    assert twiml_messages(again) == []
    assert [m.direction for m in messages_for(world.alice, phone)] == ["in", "out", "in"]
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 1
        Message.objects.filter(phone=phone, direction="out").update(
            created_at=timezone.now() - datetime.timedelta(minutes=6)
        )

    later = text(client, world.alice, phone, "Can I have the link again?")

    (reply,) = twiml_messages(later)
    assert "/j/" in reply
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Bonjour, je veux rejoindre la communauté", "merci"),
        ("Hola, quiero unirme", "gracias"),
        ("Hallo, ich möchte mitmachen", "Danke"),
        ("مرحبا، أريد الانضمام", "شكرًا"),
        ("Hi there", "thanks! Join"),
    ],
)
def test_the_welcome_is_in_the_language_of_the_first_text(client, world, body, expected):
    phone = unique_phone()

    (reply,) = twiml_messages(text(client, world.alice, phone, body))

    assert expected in reply


def test_the_leaders_default_language_answers_a_text_with_no_clue(client, world):
    phone = unique_phone()
    leader = world.alice
    leader.default_language = "fr"
    leader.save(update_fields=["default_language"])
    leader_cache_clear()
    try:
        (reply,) = twiml_messages(text(client, leader, phone, "👍"))
    finally:
        leader.default_language = "en"
        leader.save(update_fields=["default_language"])
    assert "merci" in reply


def test_a_leaders_own_welcome_text_is_used_with_the_link_appended(client, world):
    leader = world.alice
    leader.welcome_text = "Thanks from Alice! Sign up:"
    leader.save(update_fields=["welcome_text"])
    leader_cache_clear()
    try:
        (reply,) = twiml_messages(text(client, leader, unique_phone(), "hi"))
    finally:
        leader.welcome_text = ""
        leader.save(update_fields=["welcome_text"])
    assert reply.startswith("Thanks from Alice! Sign up: http://alice.localhost:8000/j/")


# -- a suspended leader ------------------------------------------------------------------------------------


@pytest.fixture
def suspended_alice(world):
    world.alice.suspend(reason="test")
    leader_cache_clear()
    yield world.alice
    world.alice.reactivate()
    leader_cache_clear()


def test_a_suspended_leader_stores_texts_but_answers_nothing(client, suspended_alice):
    phone = unique_phone()

    response = text(client, suspended_alice, phone, "Hi")

    assert response.status_code == 200 and twiml_messages(response) == []
    assert [m.direction for m in messages_for(suspended_alice, phone)] == ["in"]
    with schema_context(suspended_alice.schema_name):
        assert not SignupToken.objects.filter(phone=phone).exists()


def test_a_suspended_leaders_member_can_still_stop_but_gets_no_confirmation(client, suspended_alice):
    member = builders.member(leader=suspended_alice)

    response = text(client, suspended_alice, member.phone, "STOP")

    assert twiml_messages(response) == []
    with schema_context(suspended_alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT
    inbound, outbound = messages_for(suspended_alice, member.phone)
    assert (outbound.status, outbound.failure_reason) == (SmsStatus.FAILED, "leader suspended")
    assert connection.schema_name == "public"


def test_suspending_a_leader_is_seen_by_the_webhook_at_once_in_the_same_process(client, world):
    phone = unique_phone()
    assert len(twiml_messages(text(client, world.alice, phone, "Hi"))) == 1  # the leader is now cached

    world.alice.suspend(reason="test")
    try:
        response = text(client, world.alice, unique_phone(), "Hi")
    finally:
        world.alice.reactivate()

    assert twiml_messages(response) == []
