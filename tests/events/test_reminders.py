"""Reminders: to those who said yes, at the organiser's offsets, in each member's own time zone, never in their
quiet hours (a reminder that would fall in them goes before they start), never after the start, exactly once
per (event, member, offset) with two workers at once and with a worker killed between claiming and sending."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Reminder, Rsvp
from events.services import (
    REMINDER_STALE_AFTER,
    reminder_due,
    reminders_send,
    rsvp_record,
)
from leaders.models import Leader
from tests.events.helpers import SURREY, resident, saturday_at, town_hall

pytestmark = pytest.mark.django_db

VANCOUVER = zoneinfo.ZoneInfo("America/Vancouver")
TORONTO = zoneinfo.ZoneInfo("America/Toronto")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


class WorkerKilledError(Exception):
    pass


@pytest.fixture
def alice(world, settings):
    """Quiet hours 21:00 to 09:00 where each member lives (the platform's defaults)."""
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    Leader.objects.filter(pk=world.alice.pk).update(
        quiet_hours_start=datetime.time(21, 0), quiet_hours_end=datetime.time(9, 0), segments_per_second=1000
    )
    world.alice.refresh_from_db()
    return world.alice


def said_yes(leader, event, *members):
    with schema_context(leader.schema_name):
        for member in members:
            rsvp_record(
                leader=leader,
                event=event,
                member=member,
                answer="yes",
                now=event.starts_at - datetime.timedelta(days=3),
            )


def walk(leader, *, start, end, step=datetime.timedelta(minutes=5), **options) -> list[tuple]:
    """Run the reminder pass every `step` from `start` to `end` (as the minute sweep would); each text the
    fake Twilio took, with the pass's moment."""
    sent = []
    moment = start
    with schema_context(leader.schema_name):
        while moment <= end:
            reminders_send(leader=leader, now=moment, **options)
            for row in Reminder.objects.filter(status="sent", sent_at=moment).values_list(
                "member_id", "offset_minutes"
            ):
                sent.append((moment, *row))
            moment += step
    return sent


def test_the_rule_puts_a_reminder_falling_in_quiet_hours_before_they_start(alice):
    at = datetime.datetime(2026, 12, 12, 8, 0, tzinfo=VANCOUVER)  # 08:00: quiet until 09:00
    assert reminder_due(at=at, zone=VANCOUVER, leader=alice) == datetime.datetime(
        2026, 12, 11, 20, 45, tzinfo=VANCOUVER
    )
    late = datetime.datetime(2026, 12, 12, 22, 30, tzinfo=VANCOUVER)  # after 21:00: the same evening
    assert reminder_due(at=late, zone=VANCOUVER, leader=alice) == datetime.datetime(
        2026, 12, 12, 20, 45, tzinfo=VANCOUVER
    )
    day = datetime.datetime(2026, 12, 12, 12, 0, tzinfo=VANCOUVER)
    assert reminder_due(at=day, zone=VANCOUVER, leader=alice) == day


def test_reminders_go_once_each_in_every_members_own_time_and_never_in_their_quiet_hours(alice, twilio):
    # Saturday 10:00 in Surrey: 24 h before is Friday 10:00 there, 2 h before is 08:00 (quiet: Friday 20:45).
    start = saturday_at(10)
    event = town_hall(alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    local = resident(alice, at=SURREY, first_name="Van")
    eastern = resident(alice, at=SURREY, first_name="Tor", time_zone="America/Toronto")  # away this week
    tokyo = resident(alice, at=SURREY, first_name="Tok", time_zone="Asia/Tokyo")
    said_no = resident(alice, at=SURREY)
    said_yes(alice, event, local, eastern, tokyo)
    with schema_context(alice.schema_name):
        rsvp_record(
            leader=alice, event=event, member=said_no, answer="no", now=start - datetime.timedelta(days=3)
        )

    sent = walk(alice, start=start - datetime.timedelta(hours=48), end=start + datetime.timedelta(hours=1))

    by_member = {}
    for moment, member_id, offset in sent:
        by_member.setdefault(member_id, []).append((offset, moment))
    assert said_no.pk not in by_member
    for member, zone in ((local, VANCOUVER), (eastern, TORONTO), (tokyo, TOKYO)):
        offsets = sorted(offset for offset, _moment in by_member[member.pk])
        assert offsets == [120, 1440], member.first_name  # each once
        for offset, moment in by_member[member.pk]:
            hour = moment.astimezone(zone).time()
            assert datetime.time(9) <= hour < datetime.time(21), (member.first_name, offset, moment)
            assert moment < start
            assert moment <= start - datetime.timedelta(minutes=offset)  # early when shifted, never late
    # Vancouver: the 2-hour reminder went the evening before, just before quiet hours.
    local_two_hours = dict(by_member[local.pk])[120].astimezone(VANCOUVER)
    assert (local_two_hours.date(), local_two_hours.time()) == (
        (start - datetime.timedelta(days=1)).date(),
        datetime.time(20, 45),
    )
    # Toronto: 2 h before is 11:00 there, in the day: on time.
    assert dict(by_member[eastern.pk])[120] == start - datetime.timedelta(hours=2)
    # Tokyo: 24 h before is 02:00 there: the evening before, at 20:45 Tokyo time.
    assert dict(by_member[tokyo.pk])[1440].astimezone(TOKYO).time() == datetime.time(20, 45)
    bodies = [message["body"] for message in twilio.messages]
    assert len(bodies) == 6 and all("reminder, Town hall" in body for body in bodies)


def test_two_workers_at_once_send_each_reminder_once(alice, twilio):
    start = saturday_at(14)
    event = town_hall(alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    members = [resident(alice, at=SURREY) for _ in range(6)]
    said_yes(alice, event, *members)
    moment = start - datetime.timedelta(hours=24)

    second = []

    def other_worker_runs_now():
        # A second worker's whole pass, while the first holds its claims and has not sent yet.
        second.append(reminders_send(leader=alice, now=moment))

    with schema_context(alice.schema_name):
        first = reminders_send(leader=alice, now=moment, crash_after_claim=other_worker_runs_now)

    assert first.sent == 6 and second[0].sent == 0
    assert sorted(message["to"] for message in twilio.messages) == sorted(m.phone for m in members)


def test_a_worker_killed_between_claiming_and_sending_leaves_reminders_that_go_once_afterwards(alice, twilio):
    start = saturday_at(14)
    event = town_hall(alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    members = [resident(alice, at=SURREY) for _ in range(3)]
    said_yes(alice, event, *members)
    moment = start - datetime.timedelta(hours=2)

    def killed():
        raise WorkerKilledError

    with schema_context(alice.schema_name), pytest.raises(WorkerKilledError):
        reminders_send(leader=alice, now=moment, crash_after_claim=killed)
    assert twilio.messages == []
    with schema_context(alice.schema_name):
        assert Reminder.objects.filter(event=event, status="claimed").count() == 3
        # Another pass before the claim is stale leaves it alone (the worker may be alive, only slow).
        assert reminders_send(leader=alice, now=moment + datetime.timedelta(minutes=1)).sent == 0
        later = moment + REMINDER_STALE_AFTER + datetime.timedelta(minutes=1)
        result = reminders_send(leader=alice, now=later)
        assert (result.taken_over, result.sent) == (3, 3)
        assert reminders_send(leader=alice, now=later + REMINDER_STALE_AFTER * 2).sent == 0
        assert Reminder.objects.filter(event=event, status="sent").count() == 3
    assert sorted(message["to"] for message in twilio.messages) == sorted(m.phone for m in members)


def test_a_claim_whose_text_was_recorded_before_the_worker_died_is_marked_sent_not_sent_again(alice, twilio):
    start = saturday_at(14)
    event = town_hall(
        alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2), reminder_offsets=[120]
    )
    member = resident(alice, at=SURREY)
    said_yes(alice, event, member)
    moment = start - datetime.timedelta(hours=2)
    with schema_context(alice.schema_name):
        reminders_send(leader=alice, now=moment)
        # As if the worker died after Twilio took it, before recording the outcome.
        Reminder.objects.filter(event=event).update(status="claimed", message_id=None, sent_at=None)
        result = reminders_send(leader=alice, now=moment + REMINDER_STALE_AFTER * 2)
        assert (result.taken_over, result.sent) == (0, 0)
        assert Reminder.objects.get(event=event).status == "sent"
    assert len(twilio.messages) == 1


def test_no_reminder_to_those_who_changed_their_mind_or_opted_out_or_after_the_start(alice, twilio):
    start = saturday_at(14)
    event = town_hall(alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2))
    changed, stopped, staying = (resident(alice, at=SURREY) for _ in range(3))
    said_yes(alice, event, changed, stopped, staying)
    with schema_context(alice.schema_name):
        rsvp_record(
            leader=alice, event=event, member=changed, answer="no", now=start - datetime.timedelta(days=2)
        )
        stopped.status = "opted_out"
        stopped.save()
        assert reminders_send(leader=alice, now=start + datetime.timedelta(minutes=5)).sent == 0
        reminders_send(leader=alice, now=start - datetime.timedelta(hours=2))
        assert set(
            Reminder.objects.filter(event=event, status="sent").values_list("member_id", flat=True)
        ) == {staying.pk}
        # Both offsets were due at once (the worker was down for a day): only the latest goes.
        assert Reminder.objects.get(event=event, member=staying, offset_minutes=1440).status == "skipped"
        assert Rsvp.objects.get(event=event, member=staying).status == "confirmed"
    assert [message["to"] for message in twilio.messages] == [staying.phone]
    assert timezone.now() < start
