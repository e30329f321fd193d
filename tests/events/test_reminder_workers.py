"""Reminder senders as real processes against committed rows and the fake Twilio: one killed (SIGKILL) right
after its claims were committed, then two started at once; every member gets each reminder exactly once."""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from events.models import Reminder
from events.services import REMINDER_STALE_AFTER, rsvp_record
from leaders.models import Leader
from leaders.services import leader_create
from tests.events.helpers import SURREY, resident, saturday_at, town_hall
from tests.messaging.test_broadcast_workers import ROOT, subprocess_env
from tests.phones import unique_phone

# A sender: reminders_send at a given moment, in the leader's schema; "kill" dies by SIGKILL right after its
# claims are committed (before anything is sent), as a worker whose machine went away.
SENDER = """
import datetime, os, signal
from django_tenants.utils import schema_context
from events.services import reminders_send
from leaders.models import Leader
leader = Leader.objects.get(slug={slug!r})
moment = datetime.datetime.fromisoformat({moment!r})
crash = (lambda: os.kill(os.getpid(), signal.SIGKILL)) if {kill!r} else None
with schema_context(leader.schema_name):
    result = reminders_send(leader=leader, now=moment, batch_size=5, crash_after_claim=crash)
print("sent", result.sent, "taken over", result.taken_over)
"""


@pytest.fixture
def live_leader(live_db, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    slug = "ev-" + uuid.uuid4().hex[:8]
    leader = leader_create(slug=slug, name="Events Test", phone_number=unique_phone())
    Leader.objects.filter(pk=leader.pk).update(
        quiet_hours_start=datetime.time(0, 0), quiet_hours_end=datetime.time(0, 0), segments_per_second=1000
    )
    leader.refresh_from_db()
    yield leader
    connection.set_schema_to_public()
    leader.delete(force_drop=True)


def sender(twilio, leader, moment: datetime.datetime, *, kill: bool = False) -> subprocess.Popen:
    code = SENDER.format(slug=leader.slug, moment=moment.isoformat(), kill=kill)
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=subprocess_env(twilio),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_sender_then_two_at_once_send_each_reminder_exactly_once(live_leader, twilio):
    start = saturday_at(14)
    event = town_hall(
        live_leader, starts_at=start, ends_at=start + datetime.timedelta(hours=2), reminder_offsets=[120]
    )
    members = [resident(live_leader, at=SURREY) for _ in range(12)]
    with schema_context(live_leader.schema_name):
        for member in members:
            rsvp_record(
                leader=live_leader,
                event=event,
                member=member,
                answer="yes",
                now=start - datetime.timedelta(days=3),
            )
    moment = start - datetime.timedelta(hours=2)

    killed = sender(twilio, live_leader, moment, kill=True)
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    with schema_context(live_leader.schema_name):
        assert Reminder.objects.filter(event=event, status="claimed").count() == 5  # its first batch
    assert twilio.messages == []

    later = moment + REMINDER_STALE_AFTER + datetime.timedelta(minutes=1)
    both = [sender(twilio, live_leader, later) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs

    assert Counter(message["to"] for message in twilio.messages) == Counter({m.phone: 1 for m in members})
    with schema_context(live_leader.schema_name):
        assert Reminder.objects.filter(event=event, offset_minutes=120, status="sent").count() == 12
        assert not Reminder.objects.filter(event=event, status="claimed").exists()
