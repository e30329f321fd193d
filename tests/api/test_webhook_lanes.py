"""One leader's webhook receiver never slows another leader: real processes, committed rows, loopback only.

A receiver that trickles its answer a byte at a time holds only the webhooks cluster's workers, and at most
WEBHOOK_LEADER_CONCURRENCY of them; the default cluster keeps sending other leaders' replies and
confirmations; one leader's other deliveries wait their turn and go when it comes; a worker killed
mid-attempt leaves a delivery the sweep retries.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from accounts.models import User
from api.models import WebhookAttempt, WebhookDelivery
from api.services import api_token_create, webhook_endpoint_create
from api.tasks import stale_after, webhook_deliver, webhooks_sweep
from api.webhooks import TASK, webhook_event_emit
from leaders.services import leader_create, leader_user_create
from messaging.models import Conversation
from tests import builders
from tests.api.helpers import Receiver, TricklingReceiver
from tests.messaging.webhooks import SMS_PATH, sign, sms_params
from tests.phones import unique_phone
from tests.queue import DEFAULT_CLUSTER, queued_take
from tests.signup.helpers import valid_form

ROOT = Path(__file__).resolve().parents[2]
WEBHOOKS = "webhooks"


def wait_for(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


@pytest.fixture
def new_leader(live_db):
    """Leaders of this test's own (committed), dropped afterwards with what the queue holds for them."""
    made = []

    def make(prefix: str):
        leader = leader_create(
            slug=f"{prefix}-{uuid.uuid4().hex[:8]}",
            name=f"{prefix.title()} Test",
            phone_number=unique_phone(),
        )
        made.append(leader)
        return leader

    yield make
    connection.set_schema_to_public()
    for leader in made:
        for cluster in (DEFAULT_CLUSTER, WEBHOOKS):
            queued_take(
                TASK, cluster, where=lambda task, leader=leader: task["args"][1] == leader.schema_name
            )
            queued_take(
                "messaging.tasks.message_send",
                cluster,
                where=lambda task, leader=leader: task["args"][1] == leader.schema_name,
            )
        Schedule.objects.filter(name__contains=leader.schema_name).delete()
        leader.delete(force_drop=True)


def database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "localhost"
    query = f"?host={quote(host, safe='')}" if host.startswith("/") else ""
    netloc_host = "localhost" if host.startswith("/") else host
    port = f":{db['PORT']}" if db["PORT"] else ""
    auth = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{netloc_host}{port}/{quote(db['NAME'])}{query}"


def process_env(twilio=None, **extra: str) -> dict[str, str]:
    """What a worker process needs to use the test database (and the fake Twilio)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "PUBLIC_BASE_URL": django_settings.PUBLIC_BASE_URL,
        "SECRET_KEY": django_settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    if twilio is not None:
        env |= {
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    if django_settings.REDIS_URL:
        env["REDIS_URL"] = django_settings.REDIS_URL
    return env


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cluster(name: str | None, env: dict[str, str]) -> subprocess.Popen:
    """`manage.py qcluster`, the default cluster or the named one, in a process group of its own (so that
    its workers go with it)."""
    if name:
        env = {**env, "Q_CLUSTER_NAME": name}
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )


def text_in(live_app, leader, phone: str, body: str):
    """A fan texts the leader's number: Twilio's signed webhook, over HTTP, to the receiver production runs."""
    params = sms_params(from_=phone, to=str(leader.phone_number), body=body)
    response = live_app.http(
        "POST",
        SMS_PATH,
        data=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(SMS_PATH, params),
        },
    )
    assert response.status_code == 200, response.text
    return response.text


def deliveries(leader, status: str | None = None) -> list[WebhookDelivery]:
    with schema_context(leader.schema_name):
        found = WebhookDelivery.objects.all()
        return list(found.filter(status=status) if status else found)


def test_a_leaders_stalled_receiver_never_delays_another_leaders_reply_or_confirmation(
    new_leader, twilio, live_app
):
    stalled_leader, other = new_leader("slow"), new_leader("quick")
    with TricklingReceiver(interval=1.0) as stalled:
        with schema_context(stalled_leader.schema_name):
            webhook_endpoint_create(url=stalled.url, events=["message.received"])
        with schema_context(other.schema_name):
            owner = leader_user_create(leader=other, username="owner", role=User.Role.OWNER, password=None)
            _token, raw_token = api_token_create(user=owner, name="crm")
        env = process_env(
            twilio,
            Q_WORKERS="2",  # the default: both send replies and confirmations
            Q_WEBHOOK_WORKERS="3",
            WEBHOOK_ATTEMPT_SECONDS="40",  # the longest allowed: the stall outlasts everything below
        )
        clusters = [cluster(None, env), cluster(WEBHOOKS, env)]
        try:
            # Four members text the first leader: four message.received deliveries to its stalled receiver.
            for _ in range(4):
                text_in(live_app, stalled_leader, builders.member(leader=stalled_leader).phone, "Hello!")
            wait_for(lambda: stalled.open >= 2, 60, "no worker called the stalled receiver")

            # Meanwhile a fan texts the other leader, gets the link, joins (a confirmation is queued), asks a
            # question, and the team replies (queued too).
            fan = unique_phone()
            welcome = text_in(live_app, other, fan, "Hi")
            path = re.search(r"/j/[\w-]+", welcome).group(0)
            host = other.get_primary_domain().domain
            joined = Client(HTTP_HOST=host).post(path, valid_form(first_name="Ana"))
            assert joined.status_code == 200
            text_in(live_app, other, fan, "When is the rally?")
            with schema_context(other.schema_name):
                conversation = Conversation.objects.get(phone=fan)
            reply = Client(HTTP_HOST=host).post(
                f"/api/v1/conversations/{conversation.pk}/messages/",
                {"body": "Welcome aboard, Ana!"},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {raw_token}",
            )
            assert reply.status_code == 201, reply.content

            sent = wait_for(
                lambda: len(texts := [m for m in twilio.messages if m["to"] == fan]) == 2 and texts,
                60,
                "the other leader's texts were held up behind the stalled receiver",
            )
            # Both texts left while the stalled receiver still held its attempts: nothing of that leader's
            # had ended, and its other deliveries were waiting their turn, not holding workers.
            still_stalled = stalled.open
            sending = deliveries(stalled_leader, "sending")
            with schema_context(stalled_leader.schema_name):
                attempts_made = WebhookAttempt.objects.count()
            bodies = [m["body"] for m in sent]
            assert "Welcome aboard, Ana!" in bodies  # the reply
            assert any(
                "Ana" in body and body != "Welcome aboard, Ana!" for body in bodies
            )  # the confirmation
            assert still_stalled == 2 and len(sending) == 2 and attempts_made == 0
            assert stalled.most_open == 2  # the leader's limit, though a third webhook worker was free

            # The receiver answers again: every delivery of that leader goes, in turn, none dropped.
            stalled.release()
            wait_for(
                lambda: len(deliveries(stalled_leader, "succeeded")) == 4,
                60,
                "the waiting deliveries did not get their turn",
            )
            assert stalled.accepted == 4 and stalled.most_open == 2
        finally:
            stalled.release()
            for process in clusters:
                stop(process)


def test_one_leaders_deliveries_past_its_limit_wait_their_turn_while_other_leaders_go_through(
    new_leader, settings
):
    settings.WEBHOOK_ATTEMPT_SECONDS = 30
    settings.WEBHOOK_LEADER_CONCURRENCY = 2
    busy, other = new_leader("busy"), new_leader("other")
    results: dict[int, str] = {}

    def attempt(delivery_id: int) -> None:
        try:
            results[delivery_id] = webhook_deliver(delivery_id, busy.schema_name)
        finally:
            connection.close()

    with TricklingReceiver(interval=0.5) as stalled, Receiver() as fine:
        with schema_context(busy.schema_name):
            webhook_endpoint_create(url=stalled.url, events=["member.updated"])
            for number in range(3):
                webhook_event_emit(name="member.updated", payload={"id": number})
        waiting_ids = [d.pk for d in deliveries(busy)]
        queued_take(TASK, WEBHOOKS, where=lambda task: task["args"][1] == busy.schema_name)
        # Three workers take the three deliveries at once.
        workers = [threading.Thread(target=attempt, args=(pk,), daemon=True) for pk in waiting_ids]
        for worker in workers:
            worker.start()
        try:
            wait_for(lambda: stalled.open == 2 and len(results) == 1, 30, "the limit did not hold")
            [waited] = [pk for pk, outcome in results.items() if outcome == "waiting"]
            with schema_context(busy.schema_name):
                assert WebhookDelivery.objects.get(pk=waited).status == "pending"

            # Another leader's delivery goes through meanwhile.
            with schema_context(other.schema_name):
                webhook_endpoint_create(url=fine.url, events=["member.updated"])
                webhook_event_emit(name="member.updated", payload={"id": 9})
            [elsewhere] = deliveries(other)
            assert webhook_deliver(elsewhere.pk, other.schema_name) == "delivered"
            assert len(fine.requests) == 1 and stalled.open == 2

            # The stalled receiver answers: the attempts end and hand their turn to the one waiting.
            stalled.release()
            for worker in workers:
                worker.join(timeout=30)
            assert sorted(results.values()) == ["delivered", "delivered", "waiting"]
            turns = queued_take(TASK, WEBHOOKS, where=lambda task: task["args"] == (waited, busy.schema_name))
            assert turns  # queued by the attempts that ended (each may hand it out: one claims it)
            assert webhook_deliver(waited, busy.schema_name) == "delivered"
            assert stalled.accepted == 3 and stalled.most_open == 2
        finally:
            stalled.release()


def test_a_delivery_whose_worker_was_killed_mid_attempt_is_swept_and_retried(new_leader):
    leader = new_leader("killed")
    with TricklingReceiver(interval=1.0) as stalled:
        with schema_context(leader.schema_name):
            webhook_endpoint_create(url=stalled.url, events=["member.updated"])
            webhook_event_emit(name="member.updated", payload={"id": 1})
        [delivery] = deliveries(leader)
        queued_take(TASK, WEBHOOKS, where=lambda task: task["args"][1] == leader.schema_name)
        code = (
            "import django; django.setup(); from api.tasks import webhook_deliver; "
            f"webhook_deliver({delivery.pk}, {leader.schema_name!r})"
        )
        worker = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=process_env(DJANGO_SETTINGS_MODULE="community.settings", WEBHOOK_ATTEMPT_SECONDS="40"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: stalled.open == 1, 60, "the worker never called the receiver")
        finally:
            worker.kill()  # as django-q's timeout, a deployment or the OOM killer would
            worker.wait()
        assert deliveries(leader, "sending")  # left as the dead worker had it

        stalled.release()
        later = timezone.now() + stale_after()
        assert webhooks_sweep(now=later).startswith("put back 1,")
        [delivery] = deliveries(leader)
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        with schema_context(leader.schema_name):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            [attempt] = WebhookAttempt.objects.all()
        assert attempt.error.startswith("Timeout")
        assert webhook_deliver(delivery.pk, leader.schema_name) == "delivered"
        assert stalled.accepted == 2
