"""Routing: each triaged text's conversation to the first matching rule's team, to its least-loaded active
teammate, with the rule's reply deadline; a reply or "done" (on every path) clears the deadline and says so."""

from __future__ import annotations

import datetime
import uuid
from collections import Counter

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from common import events
from messaging.models import Conversation, Message
from tests import builders
from tests.api.conftest import Api, token_for
from tests.console.conftest import client_for
from topics.models import Topic
from triage.models import Label, Route, Rule, Team
from triage.routing import conversations_route

T0 = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


def _teammates(n: int, *, role: str = "responder", active: bool = True) -> list[User]:
    return [
        User.objects.create(username=f"r-{uuid.uuid4().hex[:10]}", role=role, is_active=active)
        for _ in range(n)
    ]


def _team(name: str, users) -> Team:
    team = Team.objects.create(name=f"{name} {uuid.uuid4().hex[:6]}")
    team.users.set(users)
    return team


def _text(
    *,
    topic: Topic | None = None,
    country: str = "",
    region: str = "",
    at: datetime.datetime = T0,
    conversation: Conversation | None = None,
) -> Label:
    """A fan's text, stored and labelled as triage labels it."""
    conversation = conversation or builders.conversation()
    message = builders.message(conversation=conversation, created_at=at)
    return Label.objects.create(
        message=message,
        conversation=conversation,
        topic=topic,
        country=country,
        region=region,
        received_at=at,
    )


def _conversation(label: Label) -> Conversation:
    return Conversation.objects.select_related("route").get(pk=label.conversation_id)


@pytest.fixture
def health(alice_schema):
    return Topic.objects.create(name=f"Health {uuid.uuid4().hex[:6]}")


@pytest.fixture
def water(alice_schema):
    return Topic.objects.create(name=f"Water {uuid.uuid4().hex[:6]}")


def test_the_first_matching_rule_by_position_wins_and_a_rule_with_neither_topic_nor_place_catches_all(
    alice_schema, health, water
):
    doctors, desk = _team("Doctors", _teammates(1)), _team("Desk", _teammates(1))
    Rule.objects.create(position=0, topic=health, team=doctors, response_minutes=60)
    Rule.objects.create(position=1, team=desk, response_minutes=240)
    Rule.objects.create(position=2, topic=water, team=doctors, response_minutes=5)  # never reached

    about_health, about_water, unsorted = _text(topic=health), _text(topic=water), _text(topic=None)
    conversations_route(labels=[about_health, about_water, unsorted])

    routed = {label.pk: _conversation(label) for label in (about_health, about_water, unsorted)}
    assert routed[about_health.pk].route.team == doctors
    assert routed[about_health.pk].assigned_to == doctors.users.get()
    assert routed[about_health.pk].reply_due_at == T0 + datetime.timedelta(minutes=60)
    for label in (about_water, unsorted):
        assert routed[label.pk].route.team == desk
        assert routed[label.pk].assigned_to == desk.users.get()
        assert routed[label.pk].reply_due_at == T0 + datetime.timedelta(minutes=240)


def test_a_text_no_rule_matches_stays_unassigned_with_no_deadline(alice_schema, health, water):
    Rule.objects.create(topic=health, team=_team("Doctors", _teammates(1)), response_minutes=60)
    label = _text(topic=water)
    conversations_route(labels=[label])
    conversation = _conversation(label)
    assert (conversation.assigned_to, conversation.reply_due_at) == (None, None)
    assert not Route.objects.filter(conversation=conversation).exists()


def test_region_rules_match_the_texts_country_and_region(alice_schema, health):
    jalisco, mexico, rest = _team("Jalisco", _teammates(1)), _team("Mexico", _teammates(1)), _team("Rest", [])
    Rule.objects.create(position=0, country="MX", region="Jalisco", team=jalisco)
    Rule.objects.create(position=1, country="MX", team=mexico)
    Rule.objects.create(position=2, team=rest)

    labels = {
        "guadalajara": _text(country="MX", region="jalisco"),  # case aside
        "hermosillo": _text(country="MX", region="Sonora"),
        "a Jalisco elsewhere": _text(country="US", region="Jalisco"),
        "nowhere known": _text(),
    }
    conversations_route(labels=list(labels.values()))

    teams = {name: _conversation(label).route.team for name, label in labels.items()}
    assert teams == {
        "guadalajara": jalisco,
        "hermosillo": mexico,
        "a Jalisco elsewhere": rest,
        "nowhere known": rest,
    }
    # A team with no one in it takes the conversation, and no one has it.
    assert _conversation(labels["nowhere known"]).assigned_to is None


def test_a_topic_and_region_rule_needs_both(alice_schema, health, water):
    both, fallback = _team("Both", _teammates(1)), _team("Fallback", _teammates(1))
    Rule.objects.create(position=0, topic=health, country="CA", region="British Columbia", team=both)
    Rule.objects.create(position=1, team=fallback)
    right = _text(topic=health, country="CA", region="British Columbia")
    wrong_topic = _text(topic=water, country="CA", region="British Columbia")
    wrong_place = _text(topic=health, country="CA", region="Ontario")
    conversations_route(labels=[right, wrong_topic, wrong_place])
    assert _conversation(right).route.team == both
    assert _conversation(wrong_topic).route.team == fallback
    assert _conversation(wrong_place).route.team == fallback


def test_a_batch_of_100_texts_is_spread_evenly_over_the_least_loaded_teammates_in_a_few_statements(
    alice_schema, django_assert_max_num_queries
):
    people = _teammates(4)
    busy = people[0]
    for _ in range(4):  # busy already has 4 open conversations (and a done one, which is no load)
        builders.conversation(assigned_to=busy)
    builders.conversation(assigned_to=busy, status=Conversation.Status.DONE)
    team = _team("Everyone", people)
    Rule.objects.create(team=team, response_minutes=30)
    labels = [_text(at=T0 + datetime.timedelta(seconds=i)) for i in range(100)]

    with django_assert_max_num_queries(12):
        conversations_route(labels=labels)

    assigned = Counter(
        Conversation.objects.filter(pk__in=[label.conversation_id for label in labels]).values_list(
            "assigned_to", flat=True
        )
    )
    # 104 open conversations over four: 26 each, so the busy one gets 22 of the new ones.
    assert assigned == {busy.pk: 22, people[1].pk: 26, people[2].pk: 26, people[3].pk: 26}
    assert (
        Route.objects.filter(conversation_id__in=[label.conversation_id for label in labels]).count() == 100
    )


def test_ties_go_to_the_teammate_longest_without_a_new_conversation(alice_schema):
    first, second = _teammates(2)
    team = _team("Pair", [first, second])
    Rule.objects.create(team=team)
    one = _text()
    conversations_route(labels=[one])
    given = _conversation(one).assigned_to
    Conversation.objects.filter(pk=one.conversation_id).update(status=Conversation.Status.DONE)
    # Both have no open conversation now: the other one is next.
    two = _text()
    conversations_route(labels=[two])
    assert _conversation(two).assigned_to == ({first, second} - {given}).pop()


def test_inactive_teammates_and_those_without_a_role_get_nothing(alice_schema):
    active = _teammates(1)[0]
    gone = _teammates(1, active=False)[0]
    no_role = User.objects.create(username=f"x-{uuid.uuid4().hex[:8]}", role="")
    Rule.objects.create(team=_team("Mixed", [gone, no_role, active]))
    labels = [_text() for _ in range(5)]
    conversations_route(labels=labels)
    assert {_conversation(label).assigned_to for label in labels} == {active}


def test_a_conversation_someone_has_keeps_its_teammate_and_gets_the_rules_deadline(alice_schema):
    rita = User.objects.get(username="rita")
    Rule.objects.create(team=_team("Others", _teammates(2)), response_minutes=15)
    label = _text(conversation=builders.conversation(assigned_to=rita))
    conversations_route(labels=[label])
    conversation = _conversation(label)
    assert conversation.assigned_to == rita
    assert conversation.reply_due_at == T0 + datetime.timedelta(minutes=15)


def test_the_deadline_runs_from_the_first_unanswered_text_and_is_never_pushed_later(alice_schema):
    Rule.objects.create(team=_team("Desk", _teammates(1)), response_minutes=60)
    conversation = builders.conversation()
    first = _text(conversation=conversation, at=T0)
    second = _text(conversation=conversation, at=T0 + datetime.timedelta(minutes=30))
    conversations_route(labels=[second, first])
    assert _conversation(first).reply_due_at == T0 + datetime.timedelta(minutes=60)
    later = _text(conversation=conversation, at=T0 + datetime.timedelta(minutes=45))
    conversations_route(labels=[later])
    assert _conversation(first).reply_due_at == T0 + datetime.timedelta(minutes=60)


def test_texts_already_answered_or_done_set_no_deadline_and_a_new_text_starts_one(alice_schema):
    rita = User.objects.get(username="rita")
    Rule.objects.create(team=_team("Desk", _teammates(1)), response_minutes=60)
    answered = builders.conversation()
    old = _text(conversation=answered, at=T0)
    builders.message(
        conversation=answered, direction="out", sent_by=rita, created_at=T0 + datetime.timedelta(minutes=5)
    )
    done = builders.conversation(status=Conversation.Status.DONE)
    closed = _text(conversation=done, at=T0)
    # A replayed backlog: the texts were answered long before triage saw them.
    conversations_route(labels=[old, closed])
    assert _conversation(old).reply_due_at is None and _conversation(old).assigned_to is None
    assert _conversation(closed).reply_due_at is None

    again = _text(conversation=answered, at=T0 + datetime.timedelta(hours=2))
    conversations_route(labels=[again])
    assert _conversation(again).reply_due_at == T0 + datetime.timedelta(hours=3)


def test_no_rules_no_labels_and_labels_without_a_conversation_are_fine(alice_schema):
    conversations_route(labels=[])
    label = _text()
    conversations_route(labels=[label])  # no rules
    Rule.objects.create(team=_team("Desk", _teammates(1)))
    lonely = Label(message_id=0, conversation=None, received_at=T0)
    conversations_route(labels=[lonely])
    assert _conversation(label).assigned_to is None


# -- answered: every path clears the deadline and emits CONVERSATION_ANSWERED ------------------------------


@pytest.fixture
def answered():
    heard = []

    def handler(**payload):
        heard.append(payload)

    events.subscribe(events.CONVERSATION_ANSWERED, handler)
    yield heard
    events.unsubscribe(events.CONVERSATION_ANSWERED, handler)


def _due_conversation(leader) -> Conversation:
    with schema_context(leader.schema_name):
        conversation = builders.conversation(reply_due_at=timezone.now() - datetime.timedelta(hours=2))
        builders.message(conversation=conversation, body="Is the clinic open?")
        return conversation


def _user_id(leader, username: str) -> int:
    with schema_context(leader.schema_name):
        return User.objects.get(username=username).pk


def test_a_console_reply_clears_the_deadline_and_says_the_conversation_is_answered(db, world, answered):
    conversation = _due_conversation(world.alice)
    response = client_for(world.alice, "rita").post(
        f"/inbox/{conversation.pk}/reply/", {"body": "Yes, until 6pm."}
    )
    assert response.status_code == 302, response.content[:300]
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(pk=conversation.pk).reply_due_at is None
    assert answered == [{"conversation_id": conversation.pk, "by_user_id": _user_id(world.alice, "rita")}]


def test_an_api_reply_clears_the_deadline_and_says_the_conversation_is_answered(db, world, answered):
    conversation = _due_conversation(world.alice)
    api = Api(world.alice, token_for(world.alice, "mark"))
    response = api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Yes, until 6pm."})
    assert response.status_code == 201, response.content
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(pk=conversation.pk).reply_due_at is None
    assert answered == [{"conversation_id": conversation.pk, "by_user_id": _user_id(world.alice, "mark")}]


def test_marking_done_clears_the_deadline_and_says_the_conversation_is_answered(db, world, answered):
    conversation = _due_conversation(world.alice)
    response = client_for(world.alice, "olivia").post(f"/inbox/{conversation.pk}/status/", {"action": "done"})
    assert response.status_code == 302
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(pk=conversation.pk).reply_due_at is None
    assert answered == [{"conversation_id": conversation.pk, "by_user_id": _user_id(world.alice, "olivia")}]


def test_a_refused_reply_answers_nothing(db, world, answered):
    conversation = _due_conversation(world.alice)
    response = client_for(world.alice, "rita").post(f"/inbox/{conversation.pk}/reply/", {"body": "  "})
    assert response.status_code == 400
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(pk=conversation.pk).reply_due_at is not None
        assert not Message.objects.filter(conversation=conversation, direction="out").exists()
    assert answered == []
