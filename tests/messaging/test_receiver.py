"""The inbound-text webhook as deployed: real HTTP to the WSGI app that answers it ahead of Django
(inbound/receiver.py), with committed data, as gunicorn serves it."""

from __future__ import annotations

import datetime
import uuid
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.models import Member
from messaging.models import Broadcast, Conversation, Delivery, DeliveryStatus, Message
from signup.models import SignupToken
from tests import builders
from tests.events.helpers import answers_read_now
from tests.messaging.webhooks import SMS_PATH, sign, sms_params
from tests.phones import unique_phone

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


def post(live_app, params: dict[str, str], *, signature: str | None = None, body: bytes | None = None):
    headers = {
        "Content-Type": FORM,
        "X-Twilio-Signature": sign(SMS_PATH, params) if signature is None else signature,
    }
    return live_app.http(
        "POST", SMS_PATH, data=urlencode(params).encode() if body is None else body, headers=headers
    )


def text(live_app, leader, phone: str, body: str, **extra: str):
    return post(live_app, sms_params(from_=phone, to=str(leader.phone_number), body=body, **extra))


def rows(leader, phone: str) -> tuple[list[Message], Conversation | None]:
    with schema_context(leader.schema_name):
        messages = list(Message.objects.filter(phone=phone).order_by("created_at", "pk"))
        return messages, Conversation.objects.filter(phone=phone).first()


def test_a_members_text_is_stored_once_and_filed_in_the_inbox(live_db, live_app, world):
    member = builders.member(leader=world.alice, first_name="Ana")
    params = sms_params(from_=member.phone, to=str(world.alice.phone_number), body="See you Saturday!")

    first, retry = post(live_app, params), post(live_app, params)
    second = text(live_app, world.alice, member.phone, "What time?")

    assert [first.status_code, retry.status_code, second.status_code] == [200, 200, 200]
    assert first.headers["Content-Type"].startswith("text/xml")
    assert "<Message>" not in first.text and "<Message>" not in second.text
    messages, conversation = rows(world.alice, member.phone)
    assert [m.body for m in messages] == ["See you Saturday!", "What time?"]
    assert {m.member_id for m in messages} == {member.pk}
    assert messages[0].details["FromCity"] == "WASHINGTON"
    assert (conversation.member_id, conversation.unread_count) == (member.pk, 2)
    assert conversation.last_message_preview == "What time?"
    assert {m.conversation_id for m in messages} == {conversation.pk}


def test_a_first_text_gets_the_welcome_and_a_link_and_stop_works(live_db, live_app, world):
    phone = unique_phone()

    welcome = text(live_app, world.alice, phone, "Hola Alice")
    member = builders.member(leader=world.alice, phone=phone, language="es")
    stop = text(live_app, world.alice, phone, "  stop! ")
    after = text(live_app, world.alice, phone, "hello?")

    assert "Join my community" in welcome.text or "/j/" in welcome.text
    assert "http://alice.localhost:8000/j/" in welcome.text
    assert "<Message>" in stop.text
    assert "<Message>" not in after.text
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.filter(phone=phone).count() == 1
        member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT


def test_bad_requests_get_clear_4xx_answers_and_store_nothing(live_db, live_app, world):
    phone = unique_phone()
    params = sms_params(from_=phone, to=str(world.alice.phone_number), body="Hi")

    forged = post(live_app, params, signature=sign(SMS_PATH, params, token="x" * 32))
    unsigned = post(live_app, params, signature="")
    non_ascii_signature = post(live_app, params, signature="é" * 28)
    missing = post(live_app, {k: v for k, v in params.items() if k != "From"})
    not_e164 = post(live_app, {**params, "From": "12025550100"})
    not_utf8 = post(live_app, params, body=b"Body=\xff\xfe&From=%2B1")
    too_big = post(live_app, params, body=b"Body=" + b"x" * (70 * 1024))

    assert [r.status_code for r in (forged, unsigned, non_ascii_signature)] == [403, 403, 403]
    assert "X-Twilio-Signature" in forged.json()["error"]
    assert missing.status_code == 400 and "From" in missing.json()["error"]
    assert not_e164.status_code == 400 and "E.164" in not_e164.json()["error"]
    assert not_utf8.status_code in (400, 403)
    assert too_big.status_code == 413 and "error" in too_big.json()
    assert rows(world.alice, phone) == ([], None)


def test_other_methods_on_the_path_reach_django(live_db, live_app):
    assert live_app.http("GET", SMS_PATH).status_code == 405


def test_a_text_to_no_leaders_number_gets_an_empty_answer(live_db, live_app):
    response = post(live_app, sms_params(from_=unique_phone(), to="+12025550999", body="Hi"))

    assert response.status_code == 200
    assert "<Message>" not in response.text


def test_a_form_with_a_repeated_name_is_checked_as_twilio_signs_it(live_db, live_app, world):
    member = builders.member(leader=world.alice)
    params = sms_params(from_=member.phone, to=str(world.alice.phone_number), body="Two pictures")
    pairs = [
        *params.items(),
        ("MediaUrl0", "https://example.org/a.jpg"),
        ("MediaUrl0", "https://example.org/b.jpg"),
    ]
    # What Twilio's validator computes for a repeated name: every value, sorted.
    from django.http import QueryDict

    signature = sign(SMS_PATH, QueryDict(urlencode(pairs)))

    response = post(live_app, params, signature=signature, body=urlencode(pairs).encode())

    assert response.status_code == 200
    (message,), _ = rows(world.alice, member.phone)
    assert message.details["MediaUrl0"] == "https://example.org/a.jpg"


def _delivered(leader, member: Member, body: str, sent_at: datetime.datetime) -> Broadcast:
    broadcast = builders.broadcast(body=body, ignore_quiet_hours=True, queued_at=sent_at)
    builders.delivery(
        broadcast=broadcast, member=member, status=DeliveryStatus.SENT, due_at=sent_at, sent_at=sent_at
    )
    return broadcast


def test_a_reply_counts_once_for_the_broadcast_the_member_got_last_within_a_day(live_db, live_app, world):
    member, late = builders.member(leader=world.alice), builders.member(leader=world.alice)
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        older = _delivered(world.alice, member, "older", now - datetime.timedelta(hours=5))
        latest = _delivered(world.alice, member, "latest", now - datetime.timedelta(hours=1))
        too_old = _delivered(world.alice, late, "yesterday", now - datetime.timedelta(hours=30))
        other = builders.member(leader=world.alice)
        builders.delivery(
            broadcast=latest,
            member=other,
            status=DeliveryStatus.SENT,
            due_at=now,
            sent_at=now - datetime.timedelta(hours=1),
        )

    def counts() -> dict[int, int]:
        with schema_context(world.alice.schema_name):
            return dict(
                Broadcast.objects.filter(pk__in=[older.pk, latest.pk, too_old.pk]).values_list(
                    "pk", "reply_count"
                )
            )

    # A yes or a no is left by the webhook to events' reader, which counts it as the reply when it reads it.
    assert text(live_app, world.alice, member.phone, "Yes!").status_code == 200
    assert counts() == {older.pk: 0, latest.pk: 0, too_old.pk: 0}
    assert answers_read_now(world.alice) == 1
    assert counts() == {older.pk: 0, latest.pk: 1, too_old.pk: 0}
    with schema_context(world.alice.schema_name):
        replied = Delivery.objects.get(broadcast=latest, member=member).replied_at
        first = Message.objects.filter(phone=member.phone).order_by("pk").first()
    assert replied == first.created_at  # when the member texted, not when the reader read it

    # Any other text counts on the webhook itself: not twice for the same member and broadcast, and never for a
    # broadcast the member got over a day before.
    assert text(live_app, world.alice, member.phone, "Count me in").status_code == 200
    assert text(live_app, world.alice, late.phone, "Sorry, just saw this").status_code == 200
    assert counts() == {older.pk: 0, latest.pk: 1, too_old.pk: 0}
    assert text(live_app, world.alice, other.phone, "What time does it start?").status_code == 200
    assert counts() == {older.pk: 0, latest.pk: 2, too_old.pk: 0}


def test_a_database_connection_that_broke_while_idle_is_reopened_and_the_text_stored(live_db, world):
    from django.db import connection, connections

    from inbound.services import InboundSms, inbound_sms_receive

    member = builders.member(leader=world.alice)
    connection.ensure_connection()
    other = connections.create_connection("default")  # what a server restart or a proxy's timeout does
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid])
    other.close()

    sms = InboundSms(
        sid="SM" + uuid.uuid4().hex, from_=member.phone, to=str(world.alice.phone_number), body="hi"
    )
    result = inbound_sms_receive(leader=world.alice, sms=sms)

    assert result.message_id is not None
    messages, conversation = rows(world.alice, member.phone)
    assert [m.twilio_sid for m in messages] == [sms.sid]
    assert conversation.unread_count == 1


def test_answers_count_in_the_leaders_texts_sent_this_month_and_silence_does_not(live_db, live_app, world):
    from leaders.models import Leader

    def sent() -> int:
        return Leader.objects.get(pk=world.alice.pk).messages_sent_in_current_month

    phone, before = unique_phone(), sent()
    text(live_app, world.alice, phone, "Hi")  # the welcome and its link
    after_welcome = sent()
    text(live_app, world.alice, phone, "Hello?")  # within five minutes: stored, no second link
    after_silence = sent()
    text(live_app, world.alice, phone, "HELP")

    assert (after_welcome, after_silence, sent()) == (before + 1, before + 1, before + 2)


def test_the_hot_statement_is_prepared_once_per_connection_and_settles_on_one_plan(live_db, world):
    from django.db import connection

    from inbound.services import InboundSms, inbound_sms_receive

    member = builders.member(leader=world.alice)
    for index in range(8):  # PostgreSQL plans a prepared statement for its values five times, then decides
        sms = InboundSms(
            sid="SM" + uuid.uuid4().hex,
            from_=member.phone,
            to=str(world.alice.phone_number),
            body=f"hi {index}",
        )
        inbound_sms_receive(leader=world.alice, sms=sms)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
            [f'%INSERT INTO "{world.alice.schema_name}".messaging_message%'],
        )
        (generic, custom), *others = cursor.fetchall()
    assert others == []  # prepared once on this connection
    # The generic plan was found as good as planning for the values: the later texts were not planned again.
    assert generic >= 3 and custom <= 5
