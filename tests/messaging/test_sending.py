"""The priority lane: text_send stores and queues, message_send sends once through the fake Twilio API.

Most tests run the queue task itself (real HTTP to the fake); two run for real: a `manage.py qcluster`
subprocess consuming what a committed text_send enqueued (ORM broker, or Redis when REDIS_URL is set), and
status callbacks posted by the fake to the live server.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.routing import leader_cache_clear
from members.consent import member_opt_out
from members.models import ConsentRecord, Member
from messaging.models import Message, SmsStatus
from messaging.services import text_send
from messaging.tasks import RETRY_DELAYS, message_send, status_callback_url
from tests import builders

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


def queued(leader, member: Member, body: str = "Thanks for writing!", **kwargs) -> Message:
    with schema_context(leader.schema_name):
        return text_send(leader=leader, phone=member.phone, body=body, member=member, **kwargs)


def refreshed(leader, obj):
    with schema_context(leader.schema_name):
        obj.refresh_from_db()
    return obj


@pytest.mark.django_db
def test_a_queued_text_is_sent_once_with_the_leaders_number_and_a_status_callback(world, twilio):
    member = builders.member(leader=world.alice)
    message = queued(world.alice, member)
    assert message.status == SmsStatus.QUEUED
    sent_before = Leader.objects.get(pk=world.alice.pk).messages_sent_in_current_month

    assert message_send(message.pk, world.alice.schema_name) == "sent"
    assert message_send(message.pk, world.alice.schema_name) == "already claimed"

    (sent,) = twilio.messages
    assert (sent["to"], sent["from"], sent["body"]) == (member.phone, "+12025550142", "Thanks for writing!")
    assert sent["status_callback"] == status_callback_url()
    message = refreshed(world.alice, message)
    assert (message.status, message.twilio_sid, message.attempts) == (SmsStatus.WIRED, sent["sid"], 1)
    assert Leader.objects.get(pk=world.alice.pk).messages_sent_in_current_month == sent_before + 1


@pytest.mark.django_db
def test_error_21610_when_sending_opts_the_member_out_as_the_carrier_said(world, twilio):
    member = builders.member(leader=world.alice)
    twilio.fail_recipient(member.phone, 21610)
    message = queued(world.alice, member)

    assert message_send(message.pk, world.alice.schema_name) == "failed"

    message = refreshed(world.alice, message)
    assert (message.status, message.error_code) == (SmsStatus.FAILED, 21610)
    member = refreshed(world.alice, member)
    assert member.status == Member.Status.OPTED_OUT
    with schema_context(world.alice.schema_name):
        assert ConsentRecord.objects.get(member=member).source == "carrier"
        assert text_send(leader=world.alice, phone=member.phone, body="again?").status == SmsStatus.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize("code", [21211, 21614])
def test_a_number_that_cannot_get_texts_is_marked_and_skipped_afterwards(world, twilio, code):
    member = builders.member(leader=world.alice)
    twilio.fail_recipient(member.phone, code)

    assert message_send(queued(world.alice, member).pk, world.alice.schema_name) == "failed"

    member = refreshed(world.alice, member)
    assert member.unreachable_at is not None and member.status == Member.Status.SUBSCRIBED
    later = queued(world.alice, member)
    assert (later.status, later.failure_reason) == (SmsStatus.FAILED, "number cannot receive texts")
    assert twilio.stats()["accepted"] == 0


@pytest.mark.django_db
def test_a_busy_twilio_is_retried_later_through_a_schedule_with_backoff(world, twilio):
    member = builders.member(leader=world.alice)
    twilio.fail_next(2, status=429)
    message = queued(world.alice, member)

    assert message_send(message.pk, world.alice.schema_name) == "retry"
    message = refreshed(world.alice, message)
    assert (message.status, message.error_code) == (SmsStatus.QUEUED, 20429)
    (retry,) = Schedule.objects.filter(name__startswith=f"retry-{world.alice.schema_name}-{message.pk}-")
    assert retry.func == "messaging.tasks.message_send"
    assert retry.schedule_type == Schedule.ONCE
    wait = retry.next_run - timezone.now()
    assert RETRY_DELAYS[0] - datetime.timedelta(seconds=2) < wait <= RETRY_DELAYS[0]

    assert message_send(message.pk, world.alice.schema_name) == "retry"  # what the schedule runs
    assert (
        Schedule.objects.filter(name__startswith=f"retry-{world.alice.schema_name}-{message.pk}-").count()
        == 2
    )
    assert message_send(message.pk, world.alice.schema_name) == "sent"
    assert refreshed(world.alice, message).attempts == 3
    assert len(twilio.messages) == 1


@pytest.mark.django_db
def test_a_text_is_failed_after_its_last_retry(world, twilio):
    member = builders.member(leader=world.alice)
    twilio.fail_next(len(RETRY_DELAYS) + 1, status=503)
    message = queued(world.alice, member)

    results = [message_send(message.pk, world.alice.schema_name) for _ in range(len(RETRY_DELAYS) + 1)]

    assert results == ["retry"] * len(RETRY_DELAYS) + ["failed"]
    message = refreshed(world.alice, message)
    assert message.status == SmsStatus.FAILED and "503" in message.failure_reason
    assert twilio.messages == []


@pytest.mark.django_db
def test_a_stop_between_queueing_and_sending_stops_the_text(world, twilio):
    member = builders.member(leader=world.alice)
    message = queued(world.alice, member)
    with schema_context(world.alice.schema_name):
        member_opt_out(member=member, source="sms_keyword", detail="STOP")

    assert message_send(message.pk, world.alice.schema_name) == "member opted out"

    assert refreshed(world.alice, message).status == SmsStatus.FAILED
    assert twilio.messages == []


@pytest.mark.django_db
def test_the_stop_confirmation_itself_reaches_an_opted_out_member_once_asked(world, twilio):
    member = builders.member(leader=world.alice)
    with schema_context(world.alice.schema_name):
        member_opt_out(member=member, source="sms_keyword", detail="STOP")
        member.refresh_from_db()
    message = queued(world.alice, member, body="You're unsubscribed.", to_opted_out=True)
    ordinary = queued(world.alice, member, body="Rally tonight!")

    assert message_send(message.pk, world.alice.schema_name) == "sent"
    assert ordinary.status == SmsStatus.FAILED
    assert [m["body"] for m in twilio.messages] == ["You're unsubscribed."]


@pytest.mark.django_db
def test_a_suspended_leader_sends_nothing_even_what_was_already_queued(world, twilio):
    member = builders.member(leader=world.alice)
    message = queued(world.alice, member)
    world.alice.suspend(reason="test")
    try:
        assert message_send(message.pk, world.alice.schema_name) == "leader suspended"
        later = queued(world.alice, member)
    finally:
        world.alice.reactivate()
    assert (later.status, later.failure_reason) == (SmsStatus.FAILED, "leader suspended")
    assert refreshed(world.alice, message).status == SmsStatus.FAILED
    assert twilio.messages == []


@pytest.mark.django_db
def test_text_send_finds_the_member_by_phone_when_not_given(world, twilio):
    member = builders.member(leader=world.alice)
    with schema_context(world.alice.schema_name):
        member_opt_out(member=member, source="console")
        message = text_send(leader=world.alice, phone=member.phone, body="Hello")
    assert (message.member_id, message.status) == (member.pk, SmsStatus.FAILED)


# -- for real: committed rows, a worker process, callbacks over HTTP ---------------------------------------


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "localhost"
    query = f"?host={quote(host, safe='')}" if host.startswith("/") else ""
    netloc_host = "localhost" if host.startswith("/") else host
    port = f":{db['PORT']}" if db["PORT"] else ""
    auth = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{netloc_host}{port}/{quote(db['NAME'])}{query}"


@pytest.fixture
def worker(live_db, twilio):
    """A real `manage.py qcluster` on the test database, sending to the fake Twilio."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "PUBLIC_BASE_URL": django_settings.PUBLIC_BASE_URL,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "Q_WORKERS": "1",
        "LOG_LEVEL": "WARNING",
    }
    if django_settings.REDIS_URL:
        env["REDIS_URL"] = django_settings.REDIS_URL
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, timeout: float = 45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def test_a_committed_text_send_reaches_the_fake_twilio_through_a_real_worker(world, twilio, worker):
    member = builders.member(leader=world.alice)
    with transaction.atomic(), schema_context(world.alice.schema_name):
        message = text_send(
            leader=world.alice, phone=member.phone, body="Worker test: see you Saturday", member=member
        )
        # Enqueued on commit: nothing may reach the queue, let alone Twilio, before this block ends.
    sent = wait_for(lambda: [m for m in twilio.messages if m["to"] == member.phone])

    assert worker.poll() is None, worker.stderr.read() if worker.poll() is not None else ""
    assert [m["body"] for m in sent] == ["Worker test: see you Saturday"]
    message = wait_for(lambda: refreshed(world.alice, message).status == SmsStatus.WIRED and message)
    assert message.twilio_sid == sent[0]["sid"]


def test_status_callbacks_from_the_fake_twilio_update_the_message_over_http(world, twilio, live_app):
    member = builders.member(leader=world.alice)
    with schema_context(world.alice.schema_name):
        message = text_send(leader=world.alice, phone=member.phone, body="Callback test", member=member)
    assert message_send(message.pk, world.alice.schema_name) == "sent"
    sid = refreshed(world.alice, message).twilio_sid

    target = live_app.url("")
    delivered = twilio.send_status_callbacks("delivered", sids=[sid], connect_to=target)
    late_sent = twilio.send_status_callbacks("sent", sids=[sid], connect_to=target)

    assert [r["http_status"] for r in delivered + late_sent] == [200, 200]
    assert refreshed(world.alice, message).status == SmsStatus.DELIVERED
