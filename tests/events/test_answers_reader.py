"""A member's yes or no after an alert is read off the webhook's path: the webhook stores it (one statement,
with the text) and answers nothing; events' reader, a queued run on the answers' cluster, records the RSVP
with the time the member texted and texts them back through the fake Twilio. Each answer once, in order,
even when the worker dies in the middle of a batch or two runs meet; a run that was lost is followed up by
the minute sweep; a leader's keyword read first takes the answer back; erasure leaves nothing waiting."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from events import services
from events.models import PendingAnswer, Rsvp, RsvpChange
from events.tasks import reminders_sweep
from events.texts import event_text
from members.models import Member
from members.services import member_erase
from messaging.models import Broadcast, Delivery, KeywordReply, Message
from messaging.services import text_send
from tests.events.helpers import SURREY, alert, answers_read_now, resident, town_hall
from tests.messaging.webhooks import text, twiml_messages
from tests.queue import queued_take, run_queued

pytestmark = pytest.mark.django_db

NEAR = {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}}


@pytest.fixture(autouse=True)
def _no_kick_throttle(monkeypatch):
    """Each webhook here kicks the reader (a process's kicks are otherwise half a second apart)."""
    monkeypatch.setattr(services, "_answers_kicked", {})
    monkeypatch.setattr(services, "ANSWERS_KICK_INTERVAL", 0)


@pytest.fixture
def alerted(alice, twilio):
    """A town hall in Surrey and one member near it, whom its alert reached: (event, member)."""
    event = town_hall(alice)
    member = resident(alice, at=SURREY)
    alert(alice, event, NEAR)
    return event, member


def _post(client, leader, phone: str, body: str, capture) -> list[str]:
    with capture(execute=True):
        response = text(client, leader, phone, body)
    assert response.status_code == 200
    return twiml_messages(response)


def _sent_to(twilio, phone: str) -> list[str]:
    return [message["body"] for message in twilio.messages if message["to"] == phone]


def test_the_webhook_queues_a_yes_and_the_reader_records_it_with_the_time_texted_and_texts_back(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice)
    member = resident(alice, at=SURREY, language="fr")
    alert(alice, event, NEAR)
    twilio.clear()

    before = timezone.now()
    assert _post(client, alice, member.phone, "Oui!", django_capture_on_commit_callbacks) == []

    # Stored with the text, nothing read yet, a run queued on the answers' cluster.
    with schema_context(alice.schema_name):
        (waiting,) = PendingAnswer.objects.all()
        text_in = Message.objects.get(phone=member.phone, direction="in")
        assert (waiting.member_id, waiting.message_id, waiting.answer) == (member.pk, text_in.pk, "yes")
        assert not Rsvp.objects.filter(event=event).exists()
    (run,) = queued_take("events.tasks.answers_read", settings.ANSWERS_CLUSTER)
    assert run["args"] == (alice.schema_name,) or list(run["args"]) == [alice.schema_name]
    assert not _sent_to(twilio, member.phone)

    # The worker reads it later: the RSVP carries the time the member texted, not the time it was read.
    with schema_context(alice.schema_name):
        PendingAnswer.objects.update(received_at=before)
    assert answers_read_now(alice) == 1
    with schema_context(alice.schema_name):
        rsvp = Rsvp.objects.get(event=event, member=member)
        assert rsvp.status == Rsvp.Status.CONFIRMED and rsvp.confirmed_at == before
        assert list(RsvpChange.objects.filter(rsvp=rsvp).values_list("to_status", "message_id", "at")) == [
            ("confirmed", text_in.pk, before)
        ]
        assert not PendingAnswer.objects.exists()
        # The answer back is in the member's conversation, as any text to them.
        (back,) = Message.objects.filter(phone=member.phone, direction="out", kind="notice")
        assert back.conversation_id == text_in.conversation_id
    assert _sent_to(twilio, member.phone) == [
        event_text("confirmed", language="fr", leader=alice, event=event)
    ]
    assert answers_read_now(alice) == 0  # nothing twice


def test_yes_then_no_read_in_one_batch_are_two_changes_in_the_order_texted(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice)
    member = resident(alice, at=SURREY)
    broadcast = alert(alice, event, NEAR)
    twilio.clear()

    _post(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
    _post(client, alice, member.phone, "no", django_capture_on_commit_callbacks)
    with schema_context(alice.schema_name):
        first_text = Message.objects.filter(phone=member.phone, direction="in").order_by("pk").first()
    assert answers_read_now(alice) == 2

    # Both read in one batch, which counted the member once as a reply to the alert, when they first texted.
    with schema_context(alice.schema_name):
        broadcast.refresh_from_db()
        assert broadcast.reply_count == 1
        assert Delivery.objects.get(broadcast=broadcast, member=member).replied_at == first_text.created_at

    with schema_context(alice.schema_name):
        rsvp = Rsvp.objects.get(event=event, member=member)
        assert rsvp.status == Rsvp.Status.DECLINED
        assert list(RsvpChange.objects.filter(rsvp=rsvp).values_list("from_status", "to_status")) == [
            ("", "confirmed"),
            ("confirmed", "declined"),
        ]
    assert _sent_to(twilio, member.phone) == [
        event_text("confirmed", language="en", leader=alice, event=event),
        event_text("declined", language="en", leader=alice, event=event),
    ]


class WorkerKilled(BaseException):
    """What a worker's death looks like from inside the batch: nothing after it runs, nothing commits."""


def test_a_worker_killed_in_the_middle_of_a_batch_leaves_every_answer_to_the_next_run_exactly_once(
    alice, twilio, client, django_capture_on_commit_callbacks, monkeypatch
):
    event = town_hall(alice, capacity=2)
    members = [resident(alice, at=SURREY, first_name=name) for name in "ABC"]
    broadcast = alert(alice, event, NEAR)
    twilio.clear()
    for member in members:
        _post(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)

    read = services.rsvp_by_answer
    calls = []

    def dying(**kwargs):
        calls.append(kwargs["member"].pk)
        if len(calls) == 2:
            raise WorkerKilled
        return read(**kwargs)

    monkeypatch.setattr(services, "rsvp_by_answer", dying)
    with pytest.raises(WorkerKilled), schema_context(alice.schema_name):
        services.answers_read(leader=alice, last_look=0)
    with schema_context(alice.schema_name):
        assert PendingAnswer.objects.count() == 3  # the batch's first RSVP went with it
        assert not Rsvp.objects.filter(event=event).exists()
        broadcast.refresh_from_db()
        assert broadcast.reply_count == 0  # and the batch's replies
        # The advisory lock went with the dead run's session in life; here, released by its `finally`.
    assert not twilio.messages

    monkeypatch.setattr(services, "rsvp_by_answer", read)
    assert answers_read_now(alice) == 3
    assert answers_read_now(alice) == 0
    with schema_context(alice.schema_name):
        statuses = dict(Rsvp.objects.filter(event=event).values_list("member_id", "status"))
        assert statuses == {
            members[0].pk: "confirmed",
            members[1].pk: "confirmed",
            members[2].pk: "waitlisted",
        }
        assert RsvpChange.objects.filter(rsvp__event=event).count() == 3
        assert Message.objects.filter(direction="out", kind="notice", member__in=members).count() == 3
        broadcast.refresh_from_db()
        assert broadcast.reply_count == 3
    assert [len(_sent_to(twilio, member.phone)) for member in members] == [1, 1, 1]
    assert "#1 on the waitlist" in _sent_to(twilio, members[2].phone)[0]


def test_a_second_run_while_one_is_reading_leaves_at_once(
    alice, alerted, client, django_capture_on_commit_callbacks
):
    event, member = alerted
    _post(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
    key = f"community.events.answers.{alice.schema_name}"
    db = connection.settings_dict  # another worker's session
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key]).fetchone()[0]
        with schema_context(alice.schema_name):
            assert services.answers_read(leader=alice, last_look=0) == 0
            assert PendingAnswer.objects.count() == 1
        other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])
    assert answers_read_now(alice) == 1
    with schema_context(alice.schema_name):
        assert Rsvp.objects.get(event=event, member=member).status == Rsvp.Status.CONFIRMED


def test_a_run_that_was_lost_is_followed_up_by_the_minute_sweep(
    alice, alerted, client, django_capture_on_commit_callbacks
):
    event, member = alerted
    _post(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
    queued_take("events.tasks.answers_read", settings.ANSWERS_CLUSTER)  # the broker lost it

    reminders_sweep(now=timezone.now())  # too soon: it may still be on its way
    assert not queued_take("events.tasks.answers_read", settings.ANSWERS_CLUSTER)
    reminders_sweep(now=timezone.now() + services.ANSWERS_LOST_AFTER + datetime.timedelta(seconds=1))
    assert run_queued("events.tasks.answers_read", settings.ANSWERS_CLUSTER) == ["read 1"]
    with schema_context(alice.schema_name):
        assert Rsvp.objects.get(event=event, member=member).status == Rsvp.Status.CONFIRMED


def test_a_leaders_keyword_read_first_takes_the_answer_back(
    alice, alerted, client, django_capture_on_commit_callbacks
):
    event, member = alerted
    with schema_context(alice.schema_name):
        KeywordReply.objects.create(keyword="SURE", reply="Thanks! A volunteer will call you.", tag="sure")

    assert _post(client, alice, member.phone, "sure", django_capture_on_commit_callbacks) == [
        "Thanks! A volunteer will call you."
    ]
    with schema_context(alice.schema_name):
        assert not PendingAnswer.objects.exists()
        # Taken back, it is counted as a reply to the alert on the webhook, as any other text.
        assert Broadcast.objects.get().reply_count == 1
    assert answers_read_now(alice) == 0
    with schema_context(alice.schema_name):
        assert not Rsvp.objects.filter(event=event).exists()
        assert Broadcast.objects.get().reply_count == 1


def test_a_teammates_text_after_the_answer_but_before_it_is_read_leaves_it_an_rsvp(
    alice, alerted, client, django_capture_on_commit_callbacks
):
    event, member = alerted
    _post(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
    with schema_context(alice.schema_name):
        text_send(
            leader=alice,
            phone=member.phone,
            member=member,
            body="See you!",
            sent_by=User.objects.get(username="mark"),
        )
    assert answers_read_now(alice) == 1
    with schema_context(alice.schema_name):
        assert Rsvp.objects.get(event=event, member=member).status == Rsvp.Status.CONFIRMED


def test_members_who_are_not_subscribed_or_in_a_survey_queue_no_answer_and_erasure_leaves_none_waiting(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice)
    stopped, kept, erased = (resident(alice, at=SURREY, first_name=name) for name in ("Stan", "Kim", "Eve"))
    alert(alice, event, NEAR)
    with schema_context(alice.schema_name):
        Member.objects.filter(pk=stopped.pk).update(status=Member.Status.OPTED_OUT)

    _post(client, alice, stopped.phone, "no", django_capture_on_commit_callbacks)
    _post(client, alice, kept.phone, "no", django_capture_on_commit_callbacks)
    _post(client, alice, erased.phone, "yes", django_capture_on_commit_callbacks)
    with schema_context(alice.schema_name):
        assert set(PendingAnswer.objects.values_list("member_id", flat=True)) == {kept.pk, erased.pk}
        member_erase(member=Member.objects.get(pk=erased.pk), source="console")
        assert list(PendingAnswer.objects.values_list("member_id", flat=True)) == [kept.pk]
    assert answers_read_now(alice) == 1
    with schema_context(alice.schema_name):
        assert list(Rsvp.objects.filter(event=event).values_list("member_id", "status")) == [
            (kept.pk, "declined")
        ]
