"""common.events: the bus that lets a lower layer set off reactions above it without importing them."""

from __future__ import annotations

import pytest

from common import events
from members.models import ConsentRecord, Member
from members.services import member_erase
from messaging.models import Conversation
from tests.phones import unique_phone


@pytest.fixture
def recorded():
    """A handler on every event, recording what it was called with; unsubscribed afterwards."""
    calls: list[tuple[str, dict]] = []
    handlers = {name: (lambda name=name, **payload: calls.append((name, payload))) for name in events.EVENTS}
    for name, handler in handlers.items():
        events.subscribe(name, handler)
    yield calls
    for name, handler in handlers.items():
        events.unsubscribe(name, handler)


def test_an_unknown_event_is_refused_when_subscribing():
    with pytest.raises(ValueError, match="unknown event"):
        events.subscribe("member.renamed", lambda **payload: None)


def test_subscribing_the_same_handler_twice_calls_it_once(monkeypatch):
    # On a bus of its own: the apps' real handlers would react to this made-up event.
    monkeypatch.setattr(events, "_handlers", {name: [] for name in events.EVENTS})
    calls = []

    def handler(**payload):
        calls.append(payload)

    events.subscribe(events.MEMBER_SAVED, handler)
    events.subscribe(events.MEMBER_SAVED, handler)
    try:
        events.emit(events.MEMBER_SAVED, member=None, created=True)
    finally:
        events.unsubscribe(events.MEMBER_SAVED, handler)
    assert calls == [{"member": None, "created": True}]
    events.emit(events.MEMBER_SAVED, member=None, created=True)
    assert len(calls) == 1


def test_every_app_subscribes_its_reactions_at_startup():
    # Erasure is scrubbed by messaging (texts), signup (links) and api (stored payloads); webhooks by api.
    assert len(events._handlers[events.MEMBER_ERASED]) >= 3
    for name in (
        events.MEMBER_SAVED,
        events.MEMBER_OPTED_OUT,
        events.MESSAGE_RECEIVED,
        events.BROADCAST_COMPLETED,
    ):
        assert events.has_handlers(name), name


def test_erasure_emits_the_opt_out_then_the_erasure_with_the_phone_it_had(alice_schema, recorded):
    member = Member.objects.create(phone=unique_phone(), first_name="Maya")
    phone = member.phone
    member_erase(member=member, source=ConsentRecord.Source.CONSOLE)
    names = [name for name, _payload in recorded]
    assert names == [events.MEMBER_OPTED_OUT, events.MEMBER_ERASED]
    assert recorded[0][1]["erasing"] is True
    assert recorded[1][1] == {"member_id": member.pk, "phone": phone}


def test_a_failing_reaction_rolls_the_whole_erasure_back(alice_schema):
    member = Member.objects.create(phone=unique_phone(), first_name="Maya")
    Conversation.objects.create(phone=member.phone, member=member)

    def broken(**payload):
        raise RuntimeError("scrubber down")

    events.subscribe(events.MEMBER_ERASED, broken)
    try:
        with pytest.raises(RuntimeError, match="scrubber down"):
            member_erase(member=member, source=ConsentRecord.Source.CONSOLE)
    finally:
        events.unsubscribe(events.MEMBER_ERASED, broken)
    member.refresh_from_db()
    assert member.first_name == "Maya" and member.status == Member.Status.SUBSCRIBED
    assert Conversation.objects.filter(phone=member.phone).exists()
    assert not ConsentRecord.objects.filter(member=member).exists()
