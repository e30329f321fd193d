"""Issue 15 end to end: an alert to members within 25 km of the venue goes to exactly those an independent
distance computation selects, with the RSVP instruction in each one's language; replies in five languages
through signed webhooks become RSVPs (keywords and ordinary texts keep their paths); capacity, the waitlist
and its promotion by text, in order, once; changes of mind with their times."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from events.models import Rsvp, RsvpChange
from events.services import EventError, event_alert_create, event_cancel, rsvp_record
from events.texts import TEXTS, event_text
from members.models import Member, MemberInterest
from members.services import member_topic_follow
from messaging.models import Broadcast, Message
from messaging.services import text_send
from tests import builders
from tests.events.helpers import SURREY, alert, km_between, point_at, reply, resident, town_hall
from tests.queue import run_queued

pytestmark = pytest.mark.django_db


def sent_to(twilio, phone: str) -> list[str]:
    return [message["body"] for message in twilio.messages if message["to"] == phone]


def test_an_alert_within_25_km_reaches_exactly_the_members_an_independent_computation_selects(alice, twilio):
    event = town_hall(alice)
    languages = ["en", "fr", "es", "de", "ar"]
    members = []
    # Rings around the hall, on every side, close to the edge too (24.6 and 25.4 km).
    for index, km in enumerate([0.3, 3, 9.5, 17, 24.6, 25.4, 31, 60, 140]):
        for bearing in (10, 100, 190, 280):
            at = point_at(SURREY, km=km, bearing=bearing + index)
            members.append(resident(alice, at=at, language=languages[(index + bearing) % 5]))
    stopped = resident(alice, at=point_at(SURREY, km=2, bearing=45))
    with schema_context(alice.schema_name):
        Member.objects.filter(pk=stopped.pk).update(status=Member.Status.OPTED_OUT)

    broadcast = alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 25}})

    expected = {m.phone for m in members if km_between(SURREY, (m.latitude, m.longitude)) <= 25}
    assert len(expected) == 20
    assert {message["to"] for message in twilio.messages} == expected
    assert len(twilio.messages) == len(expected)  # once each
    assert stopped.phone not in {message["to"] for message in twilio.messages}
    for m in members:
        if m.phone in expected:
            (body,) = sent_to(twilio, m.phone)
            assert body.endswith(" " + TEXTS["rsvp_instruction"][m.language])
            assert body.startswith("Alice Martin: Town hall, ")
    with schema_context(alice.schema_name):
        assert list(event.alerts.values_list("broadcast_id", flat=True)) == [broadcast.pk]


@pytest.mark.parametrize(
    ("language", "yes", "no"),
    [
        ("en", "Yes!", "no"),
        ("fr", "oui", "Non."),
        ("es", "Sí", "no"),
        ("de", "ja", "Nein"),
        ("ar", "نعم", "لا"),
    ],
)
def test_members_answer_yes_and_no_in_their_language_and_changes_of_mind_are_kept_with_times(
    alice, twilio, client, django_capture_on_commit_callbacks, language, yes, no
):
    event = town_hall(alice)
    member = resident(alice, at=SURREY, language=language)
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})

    (confirmed,) = reply(client, alice, member.phone, yes, django_capture_on_commit_callbacks)
    (declined,) = reply(client, alice, member.phone, no, django_capture_on_commit_callbacks)
    (again,) = reply(client, alice, member.phone, yes, django_capture_on_commit_callbacks)

    assert event.code_word in confirmed and confirmed == again
    assert confirmed == event_text("confirmed", language=language, leader=alice, event=event)
    assert declined == event_text("declined", language=language, leader=alice, event=event)
    with schema_context(alice.schema_name):
        rsvp = Rsvp.objects.get(event=event, member=member)
        assert rsvp.status == Rsvp.Status.CONFIRMED and rsvp.source == "text"
        changes = list(RsvpChange.objects.filter(rsvp=rsvp).values_list("from_status", "to_status", "at"))
        assert [(before, after) for before, after, _at in changes] == [
            ("", "confirmed"),
            ("confirmed", "declined"),
            ("declined", "confirmed"),
        ]
        assert changes[0][2] <= changes[1][2] <= changes[2][2]
        # The member's texts are in their conversation, with the answers, as any text.
        assert Message.objects.filter(member=member, direction="in").count() == 3
        assert Message.objects.filter(member=member, direction="out", kind="notice").count() == 3


def test_a_yes_without_an_alert_or_inside_a_sentence_is_an_ordinary_text(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice)
    alerted = resident(alice, at=SURREY)
    never_alerted = resident(alice, at=point_at(SURREY, km=100, bearing=0))
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})

    assert reply(client, alice, never_alerted.phone, "yes", django_capture_on_commit_callbacks) == []
    assert (
        reply(client, alice, alerted.phone, "yes but only after 6", django_capture_on_commit_callbacks) == []
    )
    with schema_context(alice.schema_name):
        assert not Rsvp.objects.filter(event=event).exists()


def test_a_yes_or_no_after_a_teammates_text_answers_the_teammate_not_the_event(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice)
    member = resident(alice, at=SURREY)
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})
    with schema_context(alice.schema_name):
        coordinator = User.objects.get(username="mark")
        text_send(
            leader=alice,
            phone=member.phone,
            member=member,
            body="Can you canvass Tuesday?",
            sent_by=coordinator,
        )

    assert reply(client, alice, member.phone, "no", django_capture_on_commit_callbacks) == []

    with schema_context(alice.schema_name):
        assert not Rsvp.objects.filter(event=event).exists()
        assert Message.objects.filter(phone=member.phone, direction="in", body="no").exists()  # in the inbox


def test_stop_still_wins_after_an_alert(alice, twilio, client, django_capture_on_commit_callbacks):
    event = town_hall(alice)
    member = resident(alice, at=SURREY)
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})

    (answer,) = reply(client, alice, member.phone, "STOP", django_capture_on_commit_callbacks)

    assert "unsubscribed" in answer
    with schema_context(alice.schema_name):
        assert Member.objects.get(pk=member.pk).status == Member.Status.OPTED_OUT
        assert not Rsvp.objects.filter(event=event).exists()


def test_a_full_event_waitlists_in_order_and_a_freed_seat_goes_to_the_first_in_line_once(
    alice, twilio, client, django_capture_on_commit_callbacks
):
    event = town_hall(alice, capacity=2)
    first, second, third, fourth = (resident(alice, at=SURREY, first_name=name) for name in "ABCD")
    alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})

    for member in (first, second):
        (answer,) = reply(client, alice, member.phone, "yes", django_capture_on_commit_callbacks)
        assert "you're in" in answer
    (third_answer,) = reply(client, alice, third.phone, "YES", django_capture_on_commit_callbacks)
    (fourth_answer,) = reply(client, alice, fourth.phone, "yes", django_capture_on_commit_callbacks)
    assert "#1 on the waitlist" in third_answer and "#2 on the waitlist" in fourth_answer

    twilio.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reply(client, alice, first.phone, "no", django_capture_on_commit_callbacks)
    # Said twice: nothing more frees up, and no second promotion.
    reply(client, alice, first.phone, "no", django_capture_on_commit_callbacks)

    with schema_context(alice.schema_name):
        statuses = dict(Rsvp.objects.filter(event=event).values_list("member_id", "status"))
        assert statuses == {
            first.pk: "declined",
            second.pk: "confirmed",
            third.pk: "confirmed",
            fourth.pk: "waitlisted",
        }
        promotions = Message.objects.filter(member=third, direction="out", body__contains="a seat freed up")
        assert promotions.count() == 1
        assert Rsvp.objects.get(event=event, member=fourth).waitlist_position == 2
    run_queued("messaging.tasks.message_send")
    assert [body for body in sent_to(twilio, third.phone) if "seat freed up" in body]
    assert not sent_to(twilio, fourth.phone)


def test_rsvps_after_the_deadline_or_to_a_closed_event_are_refused_with_a_reason(alice):
    event = town_hall(alice)
    with schema_context(alice.schema_name):
        member = resident(alice, at=SURREY)
        event.cancelled_at = event.starts_at
        event.save()
        with pytest.raises(EventError, match="no longer takes RSVPs"):
            rsvp_record(leader=alice, event=event, member=member, answer="yes")
        with pytest.raises(EventError, match="no longer takes RSVPs"):
            event_alert_create(leader=alice, event=event, filters={})


def test_an_alert_to_a_region_or_to_a_topics_followers_reaches_only_them(alice, twilio):
    event = town_hall(alice)
    inside = resident(alice, at=SURREY, region="British Columbia")
    outside = resident(alice, at=SURREY, region="Alberta")
    with schema_context(alice.schema_name):
        housing = builders.topic(name="Housing " + outside.phone[-4:])
        follower = resident(alice, at=point_at(SURREY, km=300, bearing=90), region="Alberta")
        member_topic_follow(member=follower, topic=housing, source=MemberInterest.Source.SIGNUP)

    alert(alice, event, {"regions": ["British Columbia"]})
    assert {message["to"] for message in twilio.messages} == {inside.phone}
    twilio.clear()
    alert(alice, event, {"follows": [housing.pk]})
    assert {message["to"] for message in twilio.messages} == {follower.phone}


def test_cancelling_an_event_cancels_its_alerts_that_have_not_started_and_leaves_the_sent_one(alice):
    event = town_hall(alice)
    sent = alert(alice, event, {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 5}})
    with schema_context(alice.schema_name):
        draft = event_alert_create(leader=alice, event=event, filters={})
        waiting = event_alert_create(leader=alice, event=event, filters={})
        Broadcast.objects.filter(pk=waiting.pk).update(status=Broadcast.Status.AWAITING_APPROVAL)

        event_cancel(event=event)

        statuses = dict(
            Broadcast.objects.filter(pk__in=[sent.pk, draft.pk, waiting.pk]).values_list("pk", "status")
        )
    assert statuses == {sent.pk: sent.status, draft.pk: "cancelled", waiting.pk: "cancelled"}
    assert sent.status != "cancelled"
