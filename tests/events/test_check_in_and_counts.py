"""Check-in by texting the code word at the door (2 hours either side of the event) or by a teammate; the
event page's counts by region; the attendees' CSV, formula-safe."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from events import selectors
from events.models import CheckIn, Event
from events.services import EventError, check_in_record, event_update, reminders_send, rsvp_record
from leaders.models import Leader
from leaders.routing import leader_cache_clear
from tests.events.helpers import SURREY, alert, point_at, reply, resident, town_hall

pytestmark = pytest.mark.django_db


def happening_now(leader, **data) -> Event:
    start = timezone.now() - datetime.timedelta(minutes=30)
    return town_hall(leader, starts_at=start, ends_at=start + datetime.timedelta(hours=2), **data)


def test_texting_the_code_word_at_the_door_checks_in_once(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = happening_now(alice, code_word="SurreyHall")
    member = resident(alice, at=SURREY, language="fr")

    (welcome,) = reply(client, alice, member.phone, " surreyhall! ", django_capture_on_commit_callbacks)
    second = reply(client, alice, member.phone, "SURREYHALL", django_capture_on_commit_callbacks)

    assert welcome.startswith("Alice Martin : bienvenue à Town hall")
    assert second == []  # an ordinary text now: no second welcome
    with schema_context(alice.schema_name):
        check_in = CheckIn.objects.get(event=event, member=member)
        assert check_in.source == "text" and check_in.message_id is not None


def test_the_code_word_outside_the_door_window_is_an_ordinary_text(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    start = timezone.now() + datetime.timedelta(hours=3)
    event = town_hall(
        alice, starts_at=start, ends_at=start + datetime.timedelta(hours=1), code_word="LATERHALL"
    )
    member = resident(alice, at=SURREY)

    assert reply(client, alice, member.phone, "laterhall", django_capture_on_commit_callbacks) == []
    with schema_context(alice.schema_name):
        assert not CheckIn.objects.filter(event=event).exists()
        # The door opens 2 hours before the start.
        check_in, created = check_in_record(
            event=event, member=member, source="text", now=start - datetime.timedelta(minutes=119)
        )
        assert created
        with pytest.raises(EventError, match="2 hours"):
            check_in_record(
                event=event,
                member=resident(alice, at=SURREY),
                source="text",
                now=start + datetime.timedelta(hours=4),
            )


def test_a_teammate_checks_a_member_in_from_the_event_page(alice):
    event = happening_now(alice)
    member = resident(alice, at=SURREY)
    with schema_context(alice.schema_name):
        mark = User.objects.get(username="mark")
        check_in, created = check_in_record(event=event, member=member, source="console", by=mark)
        again, created_again = check_in_record(event=event, member=member, source="console", by=mark)
        assert created and not created_again and again.pk == check_in.pk and check_in.by == mark


def test_the_event_page_counts_invited_yes_no_waitlist_reminded_and_checked_in_by_region(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    start = timezone.now() + datetime.timedelta(hours=3)
    event = town_hall(alice, starts_at=start, ends_at=start + datetime.timedelta(hours=2), capacity=2)
    bc = [resident(alice, at=point_at(SURREY, km=2, bearing=b)) for b in (0, 90, 180)]
    wa = [resident(alice, at=point_at(SURREY, km=20, bearing=170), region="Washington") for _ in range(2)]
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 25}})
    for member in (bc[0], wa[0], bc[1]):
        reply(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
    reply(client, alice, wa[1].phone, "no", django_capture_on_commit_callbacks)
    with schema_context(alice.schema_name):
        reminders_send(leader=alice, now=start - datetime.timedelta(minutes=110))
        check_in_record(event=event, member=bc[0], source="console", now=start)
        counts = selectors.event_counts(event=event)

    assert counts[selectors.ALL_REGIONS] == {
        "invited": 5,
        "yes": 2,
        "no": 1,
        "waitlist": 1,
        "reminded": 2,
        "checked_in": 1,
    }
    assert counts["British Columbia"] == {
        "invited": 3,
        "yes": 1,
        "no": 0,
        "waitlist": 1,
        "reminded": 1,
        "checked_in": 1,
    }
    assert counts["Washington"]["yes"] == 1 and counts["Washington"]["no"] == 1


def test_the_attendees_csv_is_formula_safe(alice):
    event = happening_now(alice)
    sly = resident(alice, at=SURREY, first_name='=HYPERLINK("http://x")', last_name="+1;@SUM(A1)")
    with schema_context(alice.schema_name):
        rsvp_record(leader=alice, event=event, member=sly, answer="yes", source="console")
        rows = list(selectors.attendee_rows(event=event))
    assert rows[0][:3] == ["first_name", "last_name", "phone"]
    assert rows[1][0].startswith("'=") and rows[1][1] == "'+1;'@SUM(A1)"
    assert rows[1][2] == sly.phone  # E.164 kept usable


def test_a_larger_capacity_promotes_the_waitlist_in_order(alice, twilio):
    event = town_hall(alice, capacity=1)
    members = [resident(alice, at=SURREY) for _ in range(4)]
    with schema_context(alice.schema_name):
        for member in members:
            rsvp_record(leader=alice, event=event, member=member, answer="yes", source="console")
        event_update(leader=alice, event=event, data={"capacity": 3})
        confirmed = set(event.rsvps.filter(status="confirmed").values_list("member_id", flat=True))
        waiting = list(event.rsvps.filter(status="waitlisted").values_list("member_id", flat=True))
    assert confirmed == {members[0].pk, members[1].pk, members[2].pk}
    assert waiting == [members[3].pk]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"ends_at": "2020-01-01T10:00"}, "ends_at", "end"),
        ({"capacity": 0}, "capacity", "capacity"),
        ({"code_word": "STOP"}, "code_word", "reserved"),
        ({"code_word": "oui"}, "code_word", "yes or a no"),
        ({"code_word": "two words"}, "code_word", "one word"),
        ({"code_word": "ß" * 30}, "code_word", "one word"),  # 60 letters once upper-cased, as it is kept
        ({"code_word": "bénévole"}, "code_word", "reserved"),  # VOLUNTEER: read before a code word
        ({"code_word": "adios"}, "code_word", "reserved"),  # the leader's own stop word (the fixture's)
        ({"place_id": 999999999}, "place_id", "gazetteer"),
        ({"latitude": 123, "longitude": 0}, "latitude", "Earth"),
        ({"languages": ["xx"]}, "languages", "Unknown language"),
        ({"reminder_offsets": [0]}, "reminder_offsets", "between"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "time zone"),
        ({"starts_at": "tomorrow"}, "starts_at", "date and time"),
        ({"colour": "red"}, None, "Unknown field"),
    ],
)
def test_bad_input_gets_a_one_line_reason_naming_the_field(alice, data, field, message):
    Leader.objects.filter(pk=alice.pk).update(stop_words=["ADIOS"])
    leader_cache_clear()
    alice = Leader.objects.get(pk=alice.pk)
    with pytest.raises(EventError, match=message) as caught:
        town_hall(alice, **data)
    assert caught.value.field == field and "\n" not in str(caught.value)


def test_a_code_word_is_one_event_s_whatever_its_case(alice):
    town_hall(alice, code_word="Rally")
    with pytest.raises(EventError, match="already uses"):
        town_hall(alice, code_word="RALLY")


def test_a_seat_freed_without_a_no_goes_to_the_first_in_line_before_a_newcomers_yes(alice):
    event = town_hall(alice, capacity=1)
    with schema_context(alice.schema_name):
        seated, waiting, newcomer = (resident(alice, at=SURREY) for _ in range(3))
        rsvp_record(leader=alice, event=event, member=seated, answer="yes")
        rsvp_record(leader=alice, event=event, member=waiting, answer="yes")
        # The seat frees without a no: the seated member's RSVP is gone (as an erasure would take it, before
        # that erasure gave it on).
        event.rsvps.filter(member=seated).delete()

        outcome = rsvp_record(leader=alice, event=event, member=newcomer, answer="yes")

        assert [rsvp.member_id for rsvp in outcome.promoted] == [waiting.pk]
        assert outcome.rsvp.status == "waitlisted"
        assert event.rsvps.get(member=waiting).status == "confirmed"
