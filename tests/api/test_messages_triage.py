"""Texts through the API with their triage: `GET messages/` and `messages/{id}/`, each text with its
language, topic, confidence, place and when it was triaged (from triage.Label), filtered by them; a page
costs the same few queries however many texts it holds."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from messaging.models import Message
from tests import builders
from tests.api.conftest import Api, token_for

T0 = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=datetime.UTC)


def _ids(api: Api, own: set[int], **params) -> list[int]:
    """The ids of the listing's texts among `own` (other tests' texts may share the schema)."""
    response = api.get("/api/v1/messages/", {"limit": 200, **params})
    assert response.status_code == 200, response.content
    return [m["id"] for m in response.json()["results"] if m["id"] in own]


@pytest.fixture
def texts(world, db):
    """Alice's texts: two on health (one in Jalisco, in Spanish), one unsorted in Quebec, one not triaged
    yet, and a reply; a day apart, oldest first."""
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health care")
        water = builders.topic(name="Water")
        member = builders.member(first_name="Lupe")
        conversation = builders.conversation(member=member)

        def text(days: int, **fields) -> Message:
            return builders.message(
                conversation=conversation,
                member=member,
                created_at=T0 + datetime.timedelta(days=days),
                **fields,
            )

        jalisco = text(0, body="¿Cuándo abren la clínica?")
        builders.label(
            message=jalisco,
            topic=health,
            confidence=0.87,
            language="es",
            country="MX",
            region="Jalisco",
            city="Guadalajara",
            place_source="phone",
        )
        ottawa = text(1, body="my doctor moved away")
        builders.label(
            message=ottawa, topic=health, confidence=0.66, language="en", country="CA", region="Ontario"
        )
        quebec = text(2, body="allo?")
        builders.label(
            message=quebec,
            confidence=0.21,
            language="fr",
            country="CA",
            region="Quebec",
            place_source="carrier",
        )
        pending = text(3, body="just arrived")
        reply = text(4, body="We hear you", direction=Message.Direction.OUTBOUND)
    return {
        "health": health,
        "water": water,
        "jalisco": jalisco.pk,
        "ottawa": ottawa.pk,
        "quebec": quebec.pk,
        "pending": pending.pk,
        "reply": reply.pk,
        "conversation": conversation,
    }


def test_each_text_carries_its_triage(world, responder_api, texts):
    jalisco = responder_api.get(f"/api/v1/messages/{texts['jalisco']}/")
    assert jalisco.status_code == 200
    data = jalisco.json()
    assert data["body"] == "¿Cuándo abren la clínica?" and data["direction"] == "in"
    assert data["language"] == "es"
    assert data["topic"] == {"id": texts["health"].pk, "name": "Health care"}
    assert data["topic_confidence"] == pytest.approx(0.87)
    assert data["place"] == {"city": "Guadalajara", "region": "Jalisco", "country": "MX", "source": "phone"}
    assert data["triaged_at"] is not None
    assert data["phone"].startswith("•••• ")  # a responder reads numbers masked, as in the console

    unsorted = responder_api.get(f"/api/v1/messages/{texts['quebec']}/").json()
    assert unsorted["topic"] is None and unsorted["triaged_at"] is not None
    assert unsorted["topic_confidence"] == pytest.approx(0.21)
    assert unsorted["place"] == {"city": "", "region": "Quebec", "country": "CA", "source": "carrier"}
    no_source = responder_api.get(f"/api/v1/messages/{texts['ottawa']}/").json()
    assert no_source["place"] is None  # a region with no source is not a place triage vouches for
    for pending in (texts["pending"], texts["reply"]):
        data = responder_api.get(f"/api/v1/messages/{pending}/").json()
        assert [data[k] for k in ("language", "topic", "topic_confidence", "place", "triaged_at")] == [
            None
        ] * 5
    # A conversation's texts show the same triage.
    conversation = responder_api.get(f"/api/v1/conversations/{texts['conversation'].pk}/").json()
    shown = {m["id"]: m for m in conversation["messages"]}
    assert shown[texts["jalisco"]]["topic"]["name"] == "Health care"
    page = responder_api.get(f"/api/v1/conversations/{texts['conversation'].pk}/messages/").json()
    assert {m["id"]: m["language"] for m in page["results"]}[texts["quebec"]] == "fr"


def test_texts_are_listed_newest_first_and_filtered(world, responder_api, texts):
    own = {texts[k] for k in ("jalisco", "ottawa", "quebec", "pending", "reply")}
    j, o, q, p, r = (texts[k] for k in ("jalisco", "ottawa", "quebec", "pending", "reply"))

    assert _ids(responder_api, own) == [r, p, q, o, j]
    assert _ids(responder_api, own, direction="inbound") == [p, q, o, j]
    assert _ids(responder_api, own, direction="in") == [p, q, o, j]
    assert _ids(responder_api, own, direction="outbound") == [r]
    assert _ids(responder_api, own, topic=texts["health"].pk) == [o, j]
    assert _ids(responder_api, own, topic=texts["water"].pk) == []
    assert _ids(responder_api, own, topic="999999999") == []
    assert _ids(responder_api, own, topic="unsorted") == [q]  # triaged, no topic; not the one still pending
    assert _ids(responder_api, own, language="ES") == [j]
    assert _ids(responder_api, own, region="jalisco") == [j]  # any case, as the audience filters
    assert _ids(responder_api, own, region="QC") == [q]
    assert _ids(responder_api, own, country="ca") == [q, o]
    assert _ids(responder_api, own, country="CA", region="Ontario", topic=texts["health"].pk) == [o]
    assert _ids(responder_api, own, received_after="2026-03-11") == [r, p, q, o]
    assert _ids(responder_api, own, received_before="2026-03-11T12:00:00Z") == [j]
    assert _ids(
        responder_api, own, received_after="2026-03-11T06:00:00-06:00", received_before="2026-03-13"
    ) == [
        q,
        o,
    ]
    assert _ids(responder_api, own, received_after="2026-03-11", topic=texts["health"].pk) == [o]
    page = responder_api.get("/api/v1/messages/", {"limit": 2, "direction": "inbound"}).json()
    assert len(page["results"]) == 2 and page["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "sideways"},
        {"topic": "health"},
        {"topic": "-1"},
        {"topic": "1" * 12},
        {"topic": ""},
        {"language": "english"},
        {"language": "e1"},
        {"region": ""},
        {"region": "   "},
        {"region": "x" * 121},
        {"region": "Jal\x00isco"},
        {"country": "MEX"},
        {"received_after": "yesterday"},
        {"received_after": "2026-13-45"},
        {"received_before": "2026-03-10T25:00:00"},
        {"received_before": ""},
        {"received_after": "9" * 80},
    ],
)
def test_bad_message_filters_are_a_400_naming_the_filter(responder_api, params):
    response = responder_api.get("/api/v1/messages/", params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == list(params)


def test_several_bad_filters_are_named_together(responder_api):
    response = responder_api.get("/api/v1/messages/", {"topic": "x", "country": "1", "limit": 5})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"topic", "country"}


def test_an_extreme_time_zone_offset_is_read_not_a_500(responder_api):
    response = responder_api.get("/api/v1/messages/", {"received_after": "2026-03-10T00:00:00+23:59"})
    assert response.status_code == 200, response.content


def test_another_leaders_token_never_sees_alices_texts(world, owner_api, texts):
    with schema_context(world.bob.schema_name):
        bobs = builders.message(body="bonjour Bob")
        builders.label(message=bobs, language="fr", country="CA", region="Quebec")
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    seen = bob.get("/api/v1/messages/", {"limit": 200}).json()["results"]
    assert "¿Cuándo abren la clínica?" not in [m["body"] for m in seen]
    assert bob.get("/api/v1/messages/", {"topic": texts["health"].pk}).json()["results"] == []
    alices = owner_api.get("/api/v1/messages/", {"limit": 200, "region": "Quebec"}).json()["results"]
    assert "bonjour Bob" not in [m["body"] for m in alices]
    assert owner_api.get("/api/v1/messages/", token=bob.token).status_code == 401
    assert owner_api.get("/api/v1/messages/999999999/").status_code == 404
    assert Api(world.alice, None).get("/api/v1/messages/").status_code == 401


def test_a_page_of_fifty_texts_costs_no_more_queries_than_a_page_of_five(world, owner_api):
    with schema_context(world.alice.schema_name):
        topics = [builders.topic() for _ in range(3)]
        teammate = builders.member()
        conversation = builders.conversation(member=teammate)
        now = timezone.now()
        for i in range(60):
            text = builders.message(conversation=conversation, created_at=now - datetime.timedelta(seconds=i))
            builders.label(
                message=text,
                topic=topics[i % 3],
                confidence=0.8,
                language="en",
                country="US",
                region="Maine",
                place_source="phone",
            )
    params = {"direction": "inbound", "country": "US"}
    owner_api.get("/api/v1/messages/", {**params, "limit": 1})  # the token's once-a-minute bookkeeping

    def queries(limit: int) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            response = owner_api.get("/api/v1/messages/", {**params, "limit": limit})
        assert response.status_code == 200
        assert len(response.json()["results"]) == limit
        assert all(m["topic"] and m["place"] and m["sent_by"] is None for m in response.json()["results"])
        return [query["sql"] for query in captured.captured_queries]

    few, many = queries(5), queries(50)
    assert len(many) == len(few), many
    # The texts, their labels and topics in one query; the rest is the request's own (tenant, token, rate).
    reads = [
        sql for sql in many if "messaging_message" in sql or "triage_label" in sql or "topics_topic" in sql
    ]
    assert len(reads) == 1, reads


def test_the_schema_states_the_message_filters_and_triage_fields(world, db):
    response = Api(world.alice, None).get("/api/v1/schema/", {"format": "json"})
    schema = json.loads(response.content)
    listing = schema["paths"]["/api/v1/messages/"]["get"]
    parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert parameters["direction"]["enum"] == ["inbound", "outbound", "in", "out"]
    assert re.fullmatch(parameters["topic"]["pattern"], "unsorted")
    assert re.fullmatch(parameters["topic"]["pattern"], "12")
    assert not re.fullmatch(parameters["topic"]["pattern"], "health")
    assert parameters["country"]["pattern"] == "^[A-Za-z]{2}$"
    assert parameters["region"]["maxLength"] == 120
    assert {"received_after", "received_before", "language", "cursor", "limit"} <= set(parameters)
    conversations = schema["paths"]["/api/v1/conversations/"]["get"]
    assert {"topic", "region", "country", "language", "overdue"} <= {
        p["name"] for p in conversations["parameters"]
    }
    message = schema["components"]["schemas"]["Message"]["properties"]
    assert {"language", "topic", "topic_confidence", "place", "triaged_at"} <= set(message)
    assert message["topic"]["nullable"] and message["place"]["nullable"]
    assert set(schema["components"]["schemas"]["Place"]["properties"]) == {
        "city",
        "region",
        "country",
        "source",
    }
