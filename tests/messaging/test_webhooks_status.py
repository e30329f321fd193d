"""Delivery status callbacks and the voice webhook."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.models import ConsentRecord, Member
from messaging.models import Broadcast, Delivery, DeliveryStatus, Message, SmsStatus
from messaging.texts import auto_text
from tests import builders
from tests.messaging.webhooks import STATUS_PATH, VOICE_PATH, new_sid, post_signed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


def sent_message(leader, *, member: Member | None = None, status: str = SmsStatus.WIRED) -> Message:
    return builders.message(
        leader=leader,
        member=member,
        direction=Message.Direction.OUTBOUND,
        body="Rally at 7pm",
        status=status,
        twilio_sid=new_sid(),
        sent_at=timezone.now(),
    )


def callback(client, leader, message: Message, status: str, error_code: int | None = None):
    params = {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": str(leader.phone_number),
        "To": message.phone,
        "MessageSid": message.twilio_sid,
        "MessageStatus": status,
        "SmsSid": message.twilio_sid,
        "SmsStatus": status,
    }
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return post_signed(client, STATUS_PATH, params)


def status_of(leader, message: Message) -> str:
    with schema_context(leader.schema_name):
        message.refresh_from_db()
    return message.status


def test_a_status_callback_moves_the_message_forward(client, world):
    message = sent_message(world.alice)

    assert callback(client, world.alice, message, "sent").status_code == 200
    assert status_of(world.alice, message) == SmsStatus.SENT
    callback(client, world.alice, message, "delivered")
    assert status_of(world.alice, message) == SmsStatus.DELIVERED


def test_callbacks_out_of_order_and_twice_never_move_a_message_back(client, world):
    message = sent_message(world.alice)

    for status in ("delivered", "sent", "queued", "delivered", "sent"):
        assert callback(client, world.alice, message, status).status_code == 200

    assert status_of(world.alice, message) == SmsStatus.DELIVERED


def test_a_failure_callback_records_the_error_code(client, world):
    message = sent_message(world.alice)

    callback(client, world.alice, message, "undelivered", error_code=30007)

    assert status_of(world.alice, message) == SmsStatus.UNDELIVERED
    assert message.error_code == 30007


def test_error_21610_in_a_callback_opts_the_member_out_once_as_a_carrier_opt_out(client, world):
    with schema_context(world.alice.schema_name):
        member = builders.member()
    message = sent_message(world.alice, member=member)

    callback(client, world.alice, message, "failed", error_code=21610)
    callback(client, world.alice, message, "failed", error_code=21610)

    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT
        (record,) = ConsentRecord.objects.filter(member=member)
    assert (record.kind, record.source, record.detail) == ("opt_out", "carrier", "Twilio error 21610")


def test_a_callback_for_an_unknown_sid_is_a_200_and_changes_nothing(client, world):
    message = sent_message(world.alice)
    unknown = Message(phone=message.phone, twilio_sid=new_sid())

    assert callback(client, world.alice, unknown, "delivered").status_code == 200
    assert status_of(world.alice, message) == SmsStatus.WIRED


def sent_delivery(leader) -> Delivery:
    """A broadcast's copy for one member, handed to Twilio, in the broadcast's own partition."""
    with schema_context(leader.schema_name):
        member = builders.member(first_name="Ana")
        broadcast = builders.broadcast(body="Rally at 7pm", ignore_quiet_hours=True, queued_at=timezone.now())
        return builders.delivery(
            broadcast=broadcast,
            member=member,
            status=DeliveryStatus.WIRED,
            sid=new_sid(),
            due_at=timezone.now(),
            sent_at=timezone.now(),
        )


def delivery_callback(client, leader, delivery: Delivery, status: str, *, broadcast: int | None, sender=None):
    """Twilio reports on `delivery` (sent from `sender`'s number, `leader`'s by default); its status then."""
    params = {"From": str((sender or leader).phone_number), "To": str(delivery.member.phone)}
    params |= {"MessageSid": delivery.sid, "AccountSid": "AC" + "0" * 32, "MessageStatus": status}
    path = STATUS_PATH if broadcast is None else f"{STATUS_PATH}?broadcast={broadcast}"
    assert post_signed(client, path, params).status_code == 200
    with schema_context(leader.schema_name):
        return Delivery.objects.get(pk=delivery.pk).status


def test_a_broadcast_callback_names_its_broadcast_and_updates_that_delivery(client, world):
    delivery = sent_delivery(world.alice)
    other = sent_delivery(world.alice)

    def report(status: str, broadcast: int | None) -> DeliveryStatus:
        return delivery_callback(client, world.alice, delivery, status, broadcast=broadcast)

    # The wrong broadcast's partition does not hold the sid: nothing changes (and still a 200).
    assert report("sent", other.broadcast_id) == DeliveryStatus.WIRED
    assert report("sent", delivery.broadcast_id) == DeliveryStatus.SENT
    # Texts sent before callbacks carried the broadcast are found by sid in every partition.
    assert report("delivered", None) == DeliveryStatus.DELIVERED
    assert report("sent", None) == DeliveryStatus.DELIVERED  # never back
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.get(pk=delivery.broadcast_id).delivered_count == 1
        assert Broadcast.objects.get(pk=other.broadcast_id).delivered_count == 0


def test_a_broadcast_callback_from_another_leaders_number_changes_nothing(client, world):
    delivery = sent_delivery(world.alice)
    with schema_context(world.bob.schema_name):
        Delivery.partition_ensure(delivery.broadcast_id)  # the same id in bob's schema: still not his sid
    status = delivery_callback(
        client, world.alice, delivery, "delivered", broadcast=delivery.broadcast_id, sender=world.bob
    )
    assert status == DeliveryStatus.WIRED


def test_a_status_callback_is_signature_checked_and_needs_its_fields(client, world):
    message = sent_message(world.alice)
    params = {
        "MessageSid": message.twilio_sid,
        "MessageStatus": "delivered",
        "From": str(world.alice.phone_number),
    }

    assert client.post(STATUS_PATH, data=params, HTTP_X_TWILIO_SIGNATURE="bm9wZQ==").status_code == 403
    assert post_signed(client, STATUS_PATH, {"MessageSid": message.twilio_sid}).status_code == 400
    assert status_of(world.alice, message) == SmsStatus.WIRED


def test_a_callback_never_touches_another_leaders_messages(client, world):
    message = sent_message(world.alice)

    # Signed and well formed, but for a message bob's number did not send.
    params = {
        "MessageSid": message.twilio_sid,
        "MessageStatus": "failed",
        "From": str(world.bob.phone_number),
    }
    assert post_signed(client, STATUS_PATH, params).status_code == 200

    assert status_of(world.alice, message) == SmsStatus.WIRED


# -- voice -------------------------------------------------------------------------------------------------


def call(client, leader, caller: str, **extra: str):
    params = {
        "CallSid": new_sid("CA"),
        "AccountSid": "AC" + "0" * 32,
        "From": caller,
        "To": str(leader.phone_number),
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }
    return post_signed(client, VOICE_PATH, params)


def said(response) -> tuple[str | None, str]:
    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own answer
    (say,) = root.iter("Say")
    return say.get("language"), say.text or ""


@pytest.mark.parametrize(
    ("caller", "language", "say_language"),
    [
        ("+33639980142", "fr", "fr-FR"),  # France
        ("+525555550142", "es", "es-MX"),  # Mexico
        ("+4915550142012", "de", "de-DE"),  # Germany
        ("+212522550142", "ar", "ar-XA"),  # Morocco
        ("+12025550142", "en", "en-US"),  # the US: the leader's default
        ("+15145550142", "en", "en-US"),  # Canada: the leader's default, not a guess between en and fr
    ],
)
def test_a_caller_hears_the_leaders_greeting_in_their_likely_language(
    client, world, caller, language, say_language
):
    response = call(client, world.alice, caller)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert said(response) == (
        say_language,
        auto_text("voice_greeting", language=language, leader=world.alice),
    )


def test_a_canadian_caller_hears_the_leaders_default_language(client, world):
    leader = world.bob
    leader.default_language = "fr"
    leader.voice_greeting = ""
    leader.save(update_fields=["default_language"])
    leader_cache_clear()
    try:
        response = call(client, leader, "+15145550143")
    finally:
        leader.default_language = "en"
        leader.save(update_fields=["default_language"])
    assert said(response)[0] == "fr-FR"


def test_the_leaders_own_voice_greeting_is_spoken(client, world):
    leader = world.alice
    leader.voice_greeting = "Alice here. Text me!"
    leader.save(update_fields=["voice_greeting"])
    leader_cache_clear()
    try:
        response = call(client, leader, "+12025550143")
    finally:
        leader.voice_greeting = ""
        leader.save(update_fields=["voice_greeting"])
    assert said(response)[1] == "Alice here. Text me!"


def test_a_call_to_an_unknown_number_or_unsigned_gets_nothing(client, world):
    params = {"CallSid": new_sid("CA"), "From": "+12025550143", "To": "+12025550177"}

    unknown = post_signed(client, VOICE_PATH, params)
    unsigned = client.post(VOICE_PATH, data={**params, "To": str(world.alice.phone_number)})
    no_call_sid = post_signed(client, VOICE_PATH, {"To": str(world.alice.phone_number)})

    assert unknown.status_code == 200 and b"<Say" not in unknown.content
    assert unsigned.status_code == 403
    assert no_call_sid.status_code == 400


def test_an_anonymous_caller_hears_the_default_language(client, world):
    response = call(client, world.alice, "anonymous")

    assert said(response)[0] == "en-US"


def test_a_suspended_leaders_number_says_nothing(client, world):
    world.alice.suspend(reason="test")
    leader_cache_clear()
    try:
        response = call(client, world.alice, "+33639980142")
    finally:
        world.alice.reactivate()
        leader_cache_clear()
    assert response.status_code == 200 and b"<Say" not in response.content
