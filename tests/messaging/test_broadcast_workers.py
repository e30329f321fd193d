"""Broadcast workers as real processes against committed rows and the fake Twilio on loopback:
a worker killed mid-broadcast, the shared rate limit across processes, and the priority lane."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.services import leader_create
from members.models import Member
from messaging.broadcasts.compose import broadcast_create
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, Delivery, DeliveryStatus
from tests import builders
from tests.phones import unique_phone

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def live_leader(live_db, twilio, settings):
    """A leader of its own (committed), so its rate limiter and members are this test's alone."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    slug = "bc-" + uuid.uuid4().hex[:8]
    leader = leader_create(slug=slug, name="Broadcast Test", phone_number=unique_phone())
    yield leader
    connection.set_schema_to_public()
    leader.delete(force_drop=True)


def subprocess_env(twilio) -> dict[str, str]:
    """The environment a worker process needs to use the test database and the fake Twilio."""
    db = connection.settings_dict
    host = db["HOST"]
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@"
    url += f"/{db['NAME']}?host={host}" if host.startswith("/") else f"{host}:{db['PORT']}/{db['NAME']}"
    if host.startswith("/") and db["PORT"]:
        url += f"&port={db['PORT']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_API_BASE_URL": twilio.base_url,
        "PUBLIC_BASE_URL": "http://localhost:8000",
        "LOG_LEVEL": "WARNING",
    }


def dispatch_process(twilio, leader: Leader, broadcast_id: int, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "broadcast", leader.slug, "dispatch", str(broadcast_id), *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=subprocess_env(twilio),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def queued_broadcast(leader: Leader, members: int, *, body: str, rate: int) -> tuple[Broadcast, list[Member]]:
    Leader.objects.filter(pk=leader.pk).update(segments_per_second=rate)
    leader.refresh_from_db()
    tag = builders.new_tag("w")
    with schema_context(leader.schema_name):
        people = [builders.fan(tag=tag, first_name="Zoë") for _ in range(members)]
        builders.fan(tag=tag, status=Member.Status.OPTED_OUT)  # never receives anything
        builders.fan(tag=tag, unreachable_at=datetime.datetime.now(datetime.UTC))
        broadcast = broadcast_create(
            leader=leader, body=body, filters={"tags_any": [tag]}, ignore_quiet_hours=True
        )
        assert broadcast_queue(leader=leader, broadcast=broadcast) == members
    return broadcast, people


def wait_for(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.02)


def test_a_worker_killed_mid_broadcast_leaves_no_one_skipped_and_no_one_texted_twice(live_leader, twilio):
    # Each message renders in UCS-2 ("Zoë"), 2 segments where 1 was estimated: after claiming a batch the
    # worker waits for the extra segments, holding claims that have no SID. It is killed there.
    body = "Hi {first_name}, the rally moved to the park on 5th Street at 7pm, see you there!"
    broadcast, people = queued_broadcast(live_leader, 50, body=body, rate=20)
    worker = dispatch_process(twilio, live_leader, broadcast.pk, "--batch-size", "20")
    try:
        with schema_context(live_leader.schema_name):

            def holding_claims_between_sends() -> bool:
                sent = len(twilio.messages)
                claimed = set(
                    Delivery.objects.filter(broadcast=broadcast, status=DeliveryStatus.SENDING).values_list(
                        "member_id", flat=True
                    )
                )
                if worker.poll() is not None:
                    raise AssertionError(f"the worker exited: {worker.communicate()}")
                if sent < 10 or not claimed:
                    return False
                time.sleep(0.15)
                still = set(
                    Delivery.objects.filter(broadcast=broadcast, status=DeliveryStatus.SENDING).values_list(
                        "member_id", flat=True
                    )
                )
                return len(twilio.messages) == sent and still == claimed

            wait_for(holding_claims_between_sends, 60, "the worker never held claims between two sends")
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            stale = Delivery.objects.filter(
                broadcast=broadcast, status=DeliveryStatus.SENDING, sid__isnull=True
            )
            assert stale.count() > 0
            sent_before = len(twilio.messages)
            assert 0 < sent_before < 50

            # A second worker starts: its sweep puts the dead worker's claims back, then it finishes.
            time.sleep(1.1)
            result = broadcast_dispatch(
                leader=live_leader, broadcast_id=broadcast.pk, stale_after=datetime.timedelta(seconds=1)
            )
            assert result.outcome == "done"
            received = Counter(message["to"] for message in twilio.messages)
            assert received == Counter({member.phone: 1 for member in people})
            broadcast.refresh_from_db()
            assert broadcast.status == Broadcast.Status.COMPLETED
            assert (broadcast.sent_count, broadcast.queued_count) == (50, 0)
            assert not Delivery.objects.filter(broadcast=broadcast, sid__isnull=True).exists()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_two_workers_share_the_rate_limit_counted_in_segments(live_leader, twilio):
    broadcast, people = queued_broadcast(live_leader, 100, body="Rally at 7pm, see you there!", rate=20)
    workers = [dispatch_process(twilio, live_leader, broadcast.pk, "--batch-size", "8") for _ in range(2)]
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, err
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    times = sorted(message["t"] for message in twilio.messages)
    assert Counter(message["to"] for message in twilio.messages) == Counter({m.phone: 1 for m in people})
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 20
    # 100 segments at 20 per second: the first 20 go at once, the last 20 no sooner than 4 s later.
    assert 3.9 <= times[-1] - times[0] <= 15.0  # the upper bound only catches a stall


def test_one_to_one_texts_are_sent_promptly_while_a_big_broadcast_is_in_progress(live_leader, twilio):
    from messaging.broadcasts import tasks as broadcast_tasks
    from messaging.models import Message
    from messaging.services import text_send
    from tests.queue import queue_clear, queue_size

    # A broadcast paced at 2 segments/s to 40 members (20 s), sent by a worker of the broadcast lane, with
    # more of its tasks waiting in the broadcast queue.
    broadcast, _ = queued_broadcast(live_leader, 40, body="Rally at 7pm!", rate=2)
    broadcaster = dispatch_process(twilio, live_leader, broadcast.pk)
    broadcast_tasks.enqueue_dispatch(broadcast.pk, live_leader.schema_name, count=3)
    waiting = queue_size("broadcasts")
    # The default cluster: the one that sends replies.
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env={**subprocess_env(twilio), "Q_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(twilio.messages) >= 2, 30, "the broadcast did not start")
        phone = unique_phone()
        with schema_context(live_leader.schema_name):
            started = time.monotonic()
            message = text_send(leader=live_leader, phone=phone, body="Thanks for writing!")
            wait_for(lambda: any(m["to"] == phone for m in twilio.messages), 30, "the reply was not sent")
            took = time.monotonic() - started
            assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.SENDING
            wait_for(
                lambda: Message.objects.get(pk=message.pk).status == "wired", 10, "reply status not recorded"
            )
        # The reply went out in seconds (the cluster's start included) while the broadcast still had most
        # of its 20 s to go, and the default cluster never took a broadcast task.
        assert took < 15
        assert sum(1 for m in twilio.messages if m["to"] != phone) < 40
        assert queue_size("broadcasts") == waiting
    finally:
        cluster.send_signal(signal.SIGTERM)
        broadcaster.kill()
        for process in (cluster, broadcaster):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        queue_clear("broadcasts")


def test_broadcast_tasks_go_to_the_broadcast_lane_and_replies_to_the_default_one(alice_schema):
    # (Also: this module then sets up the test database when run on its own; pytest-django only does so
    # for sessions with a test that uses `db`.)
    from messaging.broadcasts import tasks as broadcast_tasks
    from messaging.services import text_send
    from tests.queue import queue_size

    # Committed tests before this one may have left tasks that no worker took: count what this one adds.
    before = {key: queue_size(key) for key in ("broadcasts", "community")}
    broadcast_tasks.enqueue_dispatch(123, alice_schema.schema_name, count=2)
    text_send(leader=alice_schema, phone=unique_phone(), body="Thanks!")  # on commit: never, in this test
    assert queue_size("broadcasts") == before["broadcasts"] + 2
    assert queue_size("community") == before["community"]


def test_a_broadcast_goes_out_through_the_broadcast_cluster_from_start_to_finish(live_leader, twilio):
    from messaging.broadcasts.compose import broadcast_send
    from tests.queue import queue_clear, queue_size

    Leader.objects.filter(pk=live_leader.pk).update(segments_per_second=50)
    live_leader.refresh_from_db()
    tag = builders.new_tag("c")
    with schema_context(live_leader.schema_name):
        people = [builders.fan(tag=tag, first_name=f"Fan{i}") for i in range(12)]
        broadcast = broadcast_create(
            leader=live_leader,
            body="Hi {first_name}, see you at 7!",
            filters={"tags_any": [tag]},
            ignore_quiet_hours=True,
        )
        broadcast_send(leader=live_leader, broadcast=broadcast)  # autocommit: enqueued at once
    assert queue_size("broadcasts") > 0
    cluster = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env={**subprocess_env(twilio), "Q_CLUSTER_NAME": "broadcasts"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with schema_context(live_leader.schema_name):
            wait_for(
                lambda: Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.COMPLETED,
                60,
                "the broadcast cluster did not finish the broadcast",
            )
            broadcast.refresh_from_db()
        assert sorted((m["to"], m["body"]) for m in twilio.messages) == sorted(
            (p.phone, f"Hi {p.first_name}, see you at 7!") for p in people
        )
        assert (broadcast.recipient_count, broadcast.sent_count) == (12, 12)
    finally:
        cluster.send_signal(signal.SIGTERM)
        try:
            cluster.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cluster.kill()
            cluster.wait()
        queue_clear("broadcasts")
