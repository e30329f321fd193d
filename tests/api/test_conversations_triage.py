"""Conversations filtered by their texts' triage (topic, language, region, country) and by whether a reply
is overdue (Conversation.reply_due_at, set by routing)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from messaging.models import Conversation
from tests import builders
from tests.api.conftest import Api, token_for


def _conversation(*labels: dict, due_in_minutes: int | None = None, minutes_ago: int = 0) -> Conversation:
    """A conversation whose fan sent one text per label (a dict of Label fields; {} for a text triage has
    not read yet)."""
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    due = None if due_in_minutes is None else timezone.now() + datetime.timedelta(minutes=due_in_minutes)
    conversation = builders.conversation(last_message_at=when, reply_due_at=due)
    for fields in labels:
        text = builders.message(conversation=conversation, created_at=when)
        if fields:
            builders.label(message=text, **fields)
    return conversation


@pytest.fixture
def inbox(world, db):
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
        water = builders.topic(name="Water")
        jalisco = _conversation(
            {"topic": health, "language": "es", "country": "MX", "region": "Jalisco"},
            {"topic": water, "language": "es", "country": "MX", "region": "Jalisco"},
            due_in_minutes=-30,
            minutes_ago=1,
        )
        quebec = _conversation(
            {"topic": None, "language": "fr", "country": "CA", "region": "Quebec"},
            {},
            due_in_minutes=90,
            minutes_ago=2,
        )
        untriaged = _conversation({}, minutes_ago=3)
        ontario = _conversation(
            {"topic": health, "language": "en", "country": "CA", "region": "Ontario"},
            {"topic": health, "language": "en", "country": "CA", "region": "Ontario"},
            due_in_minutes=-1,
            minutes_ago=4,
        )
    return {
        "health": health,
        "water": water,
        "jalisco": jalisco.pk,
        "quebec": quebec.pk,
        "untriaged": untriaged.pk,
        "ontario": ontario.pk,
    }


def test_conversations_are_filtered_by_their_texts_triage_and_overdue(world, responder_api, inbox):
    own = {inbox[k] for k in ("jalisco", "quebec", "untriaged", "ontario")}

    def ids(**params) -> list[int]:
        response = responder_api.get("/api/v1/conversations/", {"limit": 200, **params})
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"] if c["id"] in own]

    jalisco, quebec, untriaged, ontario = (inbox[k] for k in ("jalisco", "quebec", "untriaged", "ontario"))
    assert ids() == [jalisco, quebec, untriaged, ontario]
    # Listed once, however many of its texts match.
    assert ids(topic=inbox["health"].pk) == [jalisco, ontario]
    assert ids(topic=inbox["water"].pk) == [jalisco]
    assert ids(topic="unsorted") == [quebec]
    assert ids(region="jalisco") == [jalisco]
    assert ids(region="Québec") == [quebec]
    assert ids(country="CA") == [quebec, ontario]
    assert ids(language="fr") == [quebec]
    assert ids(topic=inbox["health"].pk, region="Ontario") == [ontario]
    # Both on one text: Jalisco's water text is not in Ontario.
    assert ids(topic=inbox["water"].pk, region="Ontario") == []
    assert ids(overdue="true") == [jalisco, ontario]
    assert ids(overdue="false") == [quebec, untriaged]
    assert ids(overdue="true", topic=inbox["water"].pk) == [jalisco]
    assert ids(overdue="true", status="open", assigned="none") == [jalisco, ontario]


@pytest.mark.parametrize(
    "params",
    [
        {"topic": "water"},
        {"topic": ""},
        {"region": ""},
        {"region": "y" * 121},
        {"language": "français"},
        {"country": "C"},
        {"overdue": "yes"},
        {"overdue": ""},
    ],
)
def test_bad_conversation_triage_filters_are_a_400(responder_api, params):
    response = responder_api.get("/api/v1/conversations/", params)
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["fields"]) == list(params)


def test_bad_filters_old_and_new_are_named_together(responder_api):
    response = responder_api.get("/api/v1/conversations/", {"unread": "maybe", "overdue": "maybe"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"unread", "overdue"}


def test_another_leaders_token_never_sees_alices_conversations_by_topic(world, db, inbox):
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    response = bob.get("/api/v1/conversations/", {"topic": inbox["health"].pk, "limit": 200})
    assert response.status_code == 200
    assert response.json()["results"] == []
