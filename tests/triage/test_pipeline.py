"""The triage pipeline through its real paths: signed webhooks stored by the receiver, which kicks the
leader's triage; the queued run (here and now, as a worker would); labels, the matrix's counters, the members'
topics, duplicate groups; a teammate's move; an answered conversation."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Count as CountOf
from django.db.models import Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django_tenants.utils import schema_context

from common import events
from members.models import MemberTopic
from messaging.models import Conversation, Message
from places.gazetteer import resolve_city
from tests import builders
from tests.messaging.webhooks import text
from tests.phones import unique_phone
from tests.queue import queue_clear, queued_tasks, run_queued
from topics.models import Topic
from triage import services
from triage.models import Count, DuplicateGroup, Label, PlaceSource, State

TRIAGE = "triage"
TASK = "triage.tasks.triage_run"

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics(world):
    with schema_context(world.alice.schema_name):
        health = Topic.objects.create(name="Health", keywords=["hospital", "hospitales", "médecins"])
        water = Topic.objects.create(name="Water", keywords=["water", "agua"])
    return health, water


def drain() -> list:
    """Run every queued triage run, as the triage cluster's worker would."""
    results = run_queued(TASK, TRIAGE)
    services.triage_reset_throttle()
    return results


def labels_of(leader, phone: str) -> list[Label]:
    with schema_context(leader.schema_name):
        return list(Label.objects.filter(message__phone=phone).order_by("message_id"))


def counts_match_labels(leader) -> None:
    """The matrix's counter rows say what a COUNT over the labels says, cell by cell."""
    with schema_context(leader.schema_name):
        from_labels = {
            (row["hour"], row["topic"] or 0, row["country"], row["region"], row["language"]): (
                row["n"],
                row["o"],
            )
            for row in Label.objects.annotate(hour=TruncHour("received_at", tzinfo=datetime.UTC))
            .values("hour", "topic", "country", "region", "language")
            .annotate(n=CountOf("pk"), o=CountOf("pk", filter=Q(open=True)))
        }
        from_counts = {
            (c.hour, c.topic_id, c.country, c.region, c.language): (c.texts, c.open)
            for c in Count.objects.exclude(texts=0, open=0)
        }
    assert from_counts == from_labels


def test_a_members_text_through_the_webhook_is_labelled_by_the_queued_run(client, world, topics):
    health, _ = topics
    montreal = resolve_city("Montréal")
    member = builders.fan(leader=world.alice, place=montreal)
    queue_clear(TRIAGE)

    response = text(client, world.alice, member.phone, "Il faut plus de médecins à l'hôpital de mon quartier")

    assert response.status_code == 200
    assert [task["args"] for task in queued_tasks(TRIAGE)] == [(world.alice.schema_name,)]
    assert drain() == [1]
    (label,) = labels_of(world.alice, member.phone)
    assert label.topic_id == health.pk and label.confidence > 0.5
    assert label.language == "fr"
    assert (label.city, label.region, label.country, label.place_source) == (
        "Montréal",
        "Quebec",
        "CA",
        PlaceSource.MEMBER,
    )
    assert label.member_id == member.pk and label.conversation_id is not None and label.open
    assert label.triaged_at is not None and label.duplicates_id is not None
    with schema_context(world.alice.schema_name):
        assert MemberTopic.objects.get(member=member, topic=health).texts == 1
        assert State.objects.get().pending is False
    counts_match_labels(world.alice)


def test_a_newcomers_text_is_labelled_too_with_the_carriers_place(client, world, topics):
    _, water = topics
    phone = unique_phone()  # a US number: Twilio says where

    text(client, world.alice, phone, "We need clean water in our town", FromCity="PORTLAND", FromState="OR")
    drain()

    (label,) = labels_of(world.alice, phone)
    assert label.topic_id == water.pk and label.language == "en"
    assert (label.city, label.region, label.place_source) == ("Portland", "Oregon", PlaceSource.CARRIER)
    assert label.member_id is None and label.conversation_id is None
    assert label.open is False  # no conversation to answer it in: the welcome answered it
    counts_match_labels(world.alice)


def test_keyword_texts_are_not_triaged(client, world, topics):
    member = builders.member(leader=world.alice)
    newcomer = unique_phone()

    text(client, world.alice, member.phone, "HELP")
    text(client, world.alice, newcomer, "STOP")
    text(client, world.alice, member.phone, "water please")
    services.triage_run(schema_name=world.alice.schema_name)

    with schema_context(world.alice.schema_name):
        assert list(
            Label.objects.filter(message__phone=member.phone).values_list("message__body", flat=True)
        ) == ["water please"]
    assert labels_of(world.alice, newcomer) == []


def test_the_kick_writes_nothing_when_a_run_is_already_wanted_and_queues_once(world):
    schema = world.alice.schema_name
    queue_clear(TRIAGE)
    with schema_context(schema):
        State.objects.filter(pk=1).update(pending=False, requested_at=None)

    assert services.triage_kick(schema_name=schema) is True
    with schema_context(schema):
        state = State.objects.get()
    assert state.pending and state.requested_at is not None
    requested = state.requested_at

    services.triage_reset_throttle()  # past the throttle: the statement runs, and finds it pending
    assert services.triage_kick(schema_name=schema) is False
    assert services.triage_kick(schema_name=schema) is False  # throttled: not even the statement
    with schema_context(schema):
        assert State.objects.get().requested_at == requested
    assert len(queued_tasks(TRIAGE)) == 1


def test_texts_of_a_burst_whose_kicks_were_throttled_are_triaged_by_the_run(client, world, topics):
    phones = [unique_phone() for _ in range(5)]
    queue_clear(TRIAGE)
    for phone in phones:
        text(client, world.alice, phone, "hospital beds now", FromCity="", FromState="")

    assert len(queued_tasks(TRIAGE)) == 1  # one kick for the burst
    drain()
    assert all(len(labels_of(world.alice, phone)) == 1 for phone in phones)


def test_counts_follow_a_batch_a_move_and_an_answer(client, world, topics, django_user_model):
    health, water = topics
    member = builders.fan(leader=world.alice)
    for body in ("the hospital is closed", "no water since monday", "hello!"):
        text(client, world.alice, member.phone, body)
    drain()
    counts_match_labels(world.alice)
    labels = labels_of(world.alice, member.phone)
    assert [label.topic_id for label in labels] == [health.pk, water.pk, None]

    with schema_context(world.alice.schema_name):
        moved = services.label_move(label=labels[2], topic=water, by=None)
        assert moved.predicted_topic_id is None and moved.corrected_at is not None
        services.label_move(label=labels[0], topic=None, by=None)
        assert Label.objects.get(pk=labels[0].pk).predicted_topic_id == health.pk
        assert not MemberTopic.objects.filter(member=member, topic=health).exists()
        assert MemberTopic.objects.get(member=member, topic=water).texts == 2
    counts_match_labels(world.alice)

    with schema_context(world.alice.schema_name):
        conversation = Conversation.objects.get(phone=member.phone)
        events.emit(events.CONVERSATION_ANSWERED, conversation_id=conversation.pk, by_user_id=None)
        assert not Label.objects.filter(conversation=conversation, open=True).exists()
        assert sum(Count.objects.values_list("open", flat=True)) == 0
    counts_match_labels(world.alice)


def test_a_move_to_another_leaders_topic_is_refused(world, topics):
    with schema_context(world.bob.schema_name):
        theirs = Topic.objects.create(name="Roads")
    with schema_context(world.alice.schema_name):
        message = builders.message(body="the water is brown")
        Message.objects.filter(pk=message.pk)
        services.triage_run(schema_name=world.alice.schema_name)
        label = Label.objects.get(pk=message.pk)
        Topic.objects.filter(pk=theirs.pk).delete()  # an id that is not this leader's
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            services.label_move(label=label, topic=theirs, by=None)
        assert Label.objects.get(pk=message.pk).corrected_at is None


def test_exact_and_near_copies_are_grouped_with_a_count(client, world, topics):
    bodies = [
        "Fund our hospitals NOW!!! No more waiting lists for our families 🙏",
        "fund our hospitals now, no more waiting lists for our families",
        "Fund our hospitals now: no more waiting list for our families!",  # a word changed: a near copy
        "hi",
    ]
    phones = [unique_phone() for _ in bodies]
    for phone, body in zip(phones, bodies, strict=True):
        text(client, world.alice, phone, body)
    drain()
    text(client, world.alice, unique_phone(), bodies[2])  # a copy of the near copy, in a later batch
    drain()

    groups = [labels_of(world.alice, phone)[0].duplicates_id for phone in phones]
    assert groups[0] == groups[1] == groups[2] != groups[3]
    with schema_context(world.alice.schema_name):
        assert DuplicateGroup.objects.get(pk=groups[0]).count == 4
        assert Label.objects.filter(duplicates_id=groups[0]).count() == 4
        assert DuplicateGroup.objects.get(pk=groups[3]).count == 1


def test_the_cursor_never_passes_a_text_committed_after_a_younger_one(world, topics):
    """A text's id is taken when its INSERT starts; a text whose id was taken earlier may commit later. The
    cursor stops before texts younger than SETTLE, so the late one is still found by the next run."""
    schema = world.alice.schema_name
    with schema_context(schema):
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('messaging_message', 'id'))")
            (late_id,) = cursor.fetchone()
        early_start = timezone.now()
        younger = builders.message(body="water in the school")
        services.triage_run(schema_name=schema)
        assert Label.objects.filter(pk=younger.pk).exists()
        assert State.objects.get().cursor < late_id

        late = builders.message(id=late_id, body="the hospital needs doctors", created_at=early_start)
        services.triage_run(schema_name=schema)
        assert Label.objects.filter(pk=late.pk).exists()

        # Once they are old enough, the cursor passes both.
        Message.objects.filter(pk__in=[late.pk, younger.pk]).update(
            created_at=timezone.now() - services.SETTLE * 2
        )
        services.triage_run(schema_name=schema)
        assert State.objects.get().cursor >= younger.pk


def test_one_leaders_texts_never_count_in_anothers_matrix(client, world, topics):
    with schema_context(world.bob.schema_name):
        Topic.objects.create(name="Water", keywords=["water"])
    alice_phone, bob_phone = unique_phone(), unique_phone()
    text(client, world.alice, alice_phone, "water water water")
    text(client, world.bob, bob_phone, "water for Quebec")

    services.triage_run(schema_name=world.alice.schema_name)
    with schema_context(world.bob.schema_name):
        assert not Label.objects.exists() and not Count.objects.exists()
    services.triage_run(schema_name=world.bob.schema_name)

    for leader, phone in ((world.alice, alice_phone), (world.bob, bob_phone)):
        with schema_context(leader.schema_name):
            assert list(Label.objects.values_list("message__phone", flat=True)) == [phone]
            assert sum(Count.objects.values_list("texts", flat=True)) == 1
        counts_match_labels(leader)


def test_an_erased_members_texts_leave_the_counters_and_their_topics_go(client, world, topics):
    from members.services import member_erase

    member = builders.fan(leader=world.alice)
    text(client, world.alice, member.phone, "water for our hospital")
    drain()
    with schema_context(world.alice.schema_name):
        assert MemberTopic.objects.filter(member=member).exists()
        member_erase(member=member, source="console")
        assert not Label.objects.exists()
        assert not MemberTopic.objects.filter(member_id=member.pk).exists()
        assert not DuplicateGroup.objects.exclude(first_message=None).exists()
    counts_match_labels(world.alice)


def test_a_lost_run_is_queued_again_by_the_sweep(world):
    schema = world.alice.schema_name
    queue_clear(TRIAGE)
    with schema_context(schema):
        State.objects.filter(pk=1).update(
            pending=True, requested_at=timezone.now() - datetime.timedelta(minutes=5)
        )
    with schema_context(world.bob.schema_name):
        State.objects.filter(pk=1).update(pending=True, requested_at=timezone.now())

    assert services.triage_sweep() == 1
    assert [task["args"] for task in queued_tasks(TRIAGE)] == [(schema,)]


def test_a_full_verdict_cache_never_loses_the_verdicts_of_the_batch_at_hand(world, topics, monkeypatch):
    """The per-leader memo of verdicts is bounded: filling it with a batch's new texts must not drop a copy's
    verdict that the same batch needs (found by the million-text replay)."""
    monkeypatch.setattr(services, "VERDICT_CACHE", 2)
    schema = world.alice.schema_name
    with schema_context(schema):
        builders.message(body="no water since monday")
        builders.message(body="the hospital is closed")
        services.triage_run(schema_name=schema)
        copy = builders.message(body="The hospital is closed!")
        others = [builders.message(body="thieves on our street"), builders.message(body="rent is too high")]
        services.triage_run(schema_name=schema)
        assert Label.objects.filter(pk__in=[copy.pk, *(m.pk for m in others)]).count() == 3


def test_texts_of_a_replay_are_labelled_without_a_triaged_event_and_new_ones_with_one(world, topics):
    """Receivers of message.triaged follow texts as they arrive: a text stored long before triage saw it (a
    replay of the leader's history) is labelled quietly."""
    seen: list[int] = []

    def record(*, message_ids):
        seen.extend(message_ids)

    events.subscribe(events.MESSAGES_TRIAGED, record)
    try:
        with schema_context(world.alice.schema_name):
            old = builders.message(
                body="no water since monday", created_at=timezone.now() - datetime.timedelta(days=2)
            )
            new = builders.message(body="no water since tuesday")
            services.triage_run(schema_name=world.alice.schema_name)
            assert Label.objects.filter(pk__in=[old.pk, new.pk]).count() == 2
    finally:
        events.unsubscribe(events.MESSAGES_TRIAGED, record)
    assert new.pk in seen and old.pk not in seen
