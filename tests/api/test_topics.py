"""Topics through the API: a leader's subjects, created, listed, changed and deleted with the model's own
rules (the console's), by owners and managers; read by every teammate; never seen by another leader."""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tests import builders
from tests.api.conftest import Api, token_for
from topics.models import MAX_TOPICS, Topic
from triage.models import Count, Label


def _name(prefix: str = "Health") -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def test_an_owner_creates_a_topic_and_reads_it_back_tidied(world, owner_api):
    name = _name()
    response = owner_api.post(
        "/api/v1/topics/",
        {
            "name": f"  {name}  ",
            "description": "Hospitals, clinics, medicine prices",
            "examples": ["the  clinic in my town closed", "¿cuándo abren el hospital?"],
            "keywords": ["Hospital", "hospital", "Clínica"],
            "position": 3,
        },
    )
    assert response.status_code == 201, response.content
    topic = response.json()
    assert topic["name"] == name
    assert topic["examples"] == ["the clinic in my town closed", "¿cuándo abren el hospital?"]
    assert topic["keywords"] == ["clínica", "hospital"]
    assert (topic["position"], topic["texts_7d"]) == (3, 0)
    assert topic["created_at"] and topic["updated_at"]
    assert owner_api.get(f"/api/v1/topics/{topic['id']}/").json() == topic
    with schema_context(world.alice.schema_name):
        assert Topic.objects.get(pk=topic["id"]).keywords == ["clínica", "hospital"]


def test_topics_are_listed_in_their_order(world, responder_api):
    with schema_context(world.alice.schema_name):
        second = builders.topic(position=2)
        first = builders.topic(position=1)
        third = builders.topic(position=2)
    listed = responder_api.get("/api/v1/topics/")
    assert listed.status_code == 200
    assert [t["id"] for t in listed.json()] == [first.pk, second.pk, third.pk]


def test_patch_changes_the_fields_given_and_put_replaces_them_all(world, manager_api):
    with schema_context(world.alice.schema_name):
        topic = builders.topic(description="Roads", examples=["the bridge is broken"], keywords=["bridge"])
    renamed = _name("Roads")
    response = manager_api.patch(f"/api/v1/topics/{topic.pk}/", {"name": renamed})
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["keywords"]) == (renamed, ["bridge"])
    response = manager_api.request("PUT", f"/api/v1/topics/{topic.pk}/", {"name": renamed})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["description"], data["examples"], data["keywords"], data["position"]) == ("", [], [], 0)
    assert manager_api.request("PUT", f"/api/v1/topics/{topic.pk}/", {"description": "x"}).status_code == 400


def test_a_name_taken_whatever_its_case_is_a_400_naming_the_field(world, owner_api):
    name = _name()
    with schema_context(world.alice.schema_name):
        other = builders.topic(name=name)
        topic = builders.topic()
    response = owner_api.post("/api/v1/topics/", {"name": name.upper()})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["name"]
    response = owner_api.patch(f"/api/v1/topics/{topic.pk}/", {"name": f" {name.lower()} "})
    assert list(response.json()["error"]["fields"]) == ["name"]
    # Its own name, in another case, is no clash.
    assert owner_api.patch(f"/api/v1/topics/{other.pk}/", {"name": name.lower()}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 61}, "name"),
        ({"name": 42}, "name"),
        ({}, "name"),
        ({"name": "Water", "examples": ["a text"] * 21}, "examples"),
        ({"name": "Water", "examples": ["x" * 401]}, "examples.0"),
        ({"name": "Water", "examples": ["ok", "  "]}, "examples.1"),
        ({"name": "Water", "examples": "not a list"}, "examples"),
        ({"name": "Water", "keywords": [f"k{i}" for i in range(21)]}, "keywords"),
        ({"name": "Water", "keywords": ["x" * 41]}, "keywords.0"),
        ({"name": "Water", "description": "x" * 301}, "description"),
        ({"name": "Water", "position": -1}, "position"),
        ({"name": "Water", "position": "3"}, "position"),
        ({"name": "Wa\x00ter"}, "name"),
    ],
)
def test_bad_topics_are_refused_with_the_field_named_and_nothing_saved(world, owner_api, body, field):
    with schema_context(world.alice.schema_name):
        before = Topic.objects.count()
    response = owner_api.post("/api/v1/topics/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    with schema_context(world.alice.schema_name):
        assert Topic.objects.count() == before


def test_a_leader_has_at_most_fifty_topics(world, owner_api):
    with schema_context(world.alice.schema_name):
        for _ in range(MAX_TOPICS - Topic.objects.count()):
            builders.topic()
    response = owner_api.post("/api/v1/topics/", {"name": _name()})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_many_topics"
    with schema_context(world.alice.schema_name):
        assert Topic.objects.count() == MAX_TOPICS
        doomed = Topic.objects.first()
    assert owner_api.delete(f"/api/v1/topics/{doomed.pk}/").status_code == 204
    assert owner_api.post("/api/v1/topics/", {"name": _name()}).status_code == 201


def test_deleting_a_topic_leaves_its_texts_unsorted(world, owner_api):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    with schema_context(world.alice.schema_name):
        topic = builders.topic()
        text = builders.message(body="the clinic closed")
        builders.label(message=text, topic=topic, confidence=0.91, language="en")
        Count.objects.create(hour=hour, topic_id=topic.pk, country="MX", region="Jalisco", texts=5, open=2)
        Count.objects.create(hour=hour, topic_id=0, country="MX", region="Jalisco", texts=1, open=1)
    assert owner_api.get(f"/api/v1/topics/{topic.pk}/").json()["texts_7d"] == 5
    assert owner_api.get(f"/api/v1/messages/{text.pk}/").json()["topic"]["id"] == topic.pk
    assert owner_api.delete(f"/api/v1/topics/{topic.pk}/").status_code == 204
    assert owner_api.get(f"/api/v1/topics/{topic.pk}/").status_code == 404
    shown = owner_api.get(f"/api/v1/messages/{text.pk}/").json()
    assert shown["topic"] is None and shown["triaged_at"] is not None
    assert text.pk in [
        m["id"] for m in owner_api.get("/api/v1/messages/", {"topic": "unsorted"}).json()["results"]
    ]
    with schema_context(world.alice.schema_name):
        assert Label.objects.get(message=text).topic is None
        assert not Count.objects.filter(topic_id=topic.pk).exists()
        unsorted = Count.objects.get(hour=hour, topic_id=0, country="MX", region="Jalisco", language="")
        assert (unsorted.texts, unsorted.open) == (6, 3)


def test_texts_7d_sums_the_last_week_of_counters(world, responder_api):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    with schema_context(world.alice.schema_name):
        topic = builders.topic()
        Count.objects.create(hour=now, topic_id=topic.pk, region="Jalisco", language="es", texts=4)
        Count.objects.create(hour=now, topic_id=topic.pk, region="Quebec", language="fr", texts=3)
        Count.objects.create(hour=now - datetime.timedelta(days=8), topic_id=topic.pk, texts=100)
    [listed] = [t for t in responder_api.get("/api/v1/topics/").json() if t["id"] == topic.pk]
    assert listed["texts_7d"] == 7


def test_responders_read_topics_but_only_owners_and_managers_change_them(world, responder_api):
    with schema_context(world.alice.schema_name):
        topic = builders.topic()
    assert responder_api.get(f"/api/v1/topics/{topic.pk}/").status_code == 200
    assert responder_api.post("/api/v1/topics/", {"name": _name()}).status_code == 403
    assert responder_api.patch(f"/api/v1/topics/{topic.pk}/", {"name": _name()}).status_code == 403
    assert responder_api.delete(f"/api/v1/topics/{topic.pk}/").status_code == 403
    assert Api(world.alice, None).get("/api/v1/topics/").status_code == 401


def test_another_leaders_token_never_sees_alices_topics(world, owner_api):
    created = owner_api.post("/api/v1/topics/", {"name": _name()}).json()
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    assert created["id"] not in [t["id"] for t in bob.get("/api/v1/topics/").json()]
    assert bob.get(f"/api/v1/topics/{created['id']}/").status_code == 404
    assert bob.delete(f"/api/v1/topics/{created['id']}/").status_code == 404
    # Bob's token on Alice's host is unknown there.
    assert owner_api.get("/api/v1/topics/", token=bob.token).status_code == 401
    assert owner_api.get(f"/api/v1/topics/{created['id']}/").status_code == 200


def test_a_retried_create_with_its_idempotency_key_makes_one_topic(world, owner_api):
    name = _name()
    first = owner_api.post("/api/v1/topics/", {"name": name}, headers={"Idempotency-Key": "topic-1"})
    again = owner_api.post("/api/v1/topics/", {"name": name}, headers={"Idempotency-Key": "topic-1"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    with schema_context(world.alice.schema_name):
        assert Topic.objects.filter(name=name).count() == 1


def test_the_schema_states_the_topics_constraints(world, db):
    response = Api(world.alice, None).get("/api/v1/schema/", {"format": "json"})
    schema = json.loads(response.content)
    write = schema["components"]["schemas"]["TopicWriteRequest"]
    assert write["required"] == ["name"]
    properties = write["properties"]
    assert (properties["name"]["minLength"], properties["name"]["maxLength"]) == (1, 60)
    assert (properties["examples"]["maxItems"], properties["examples"]["items"]["maxLength"]) == (20, 400)
    assert (properties["keywords"]["maxItems"], properties["keywords"]["items"]["maxLength"]) == (20, 40)
    assert (properties["position"]["minimum"], properties["position"]["maximum"]) == (0, 32767)
    assert "required" not in schema["components"]["schemas"]["PatchedTopicWriteRequest"]
    topics = schema["paths"]["/api/v1/topics/"]
    assert "409" in topics["post"]["responses"]
    assert set(schema["paths"]["/api/v1/topics/{id}/"]) == {"get", "put", "patch", "delete"}
    assert "texts_7d" in schema["components"]["schemas"]["Topic"]["properties"]


def test_concurrent_creations_never_make_a_fifty_first_topic(world, live_db, live_app):
    """Over real HTTP, in parallel, with 49 topics: one creation wins the last place, the others are 409."""
    from concurrent.futures import ThreadPoolExecutor

    raw = token_for(world.alice, "olivia", name="topics race")
    host = world.alice.get_primary_domain().domain
    with schema_context(world.alice.schema_name):
        mine = [builders.topic().pk for _ in range(MAX_TOPICS - 1 - Topic.objects.count())]
    try:

        def post(i: int):
            return live_app.http(
                "POST",
                "/api/v1/topics/",
                host=host,
                json={"name": _name(f"Race {i}")},
                headers={"Authorization": f"Bearer {raw}"},
            )

        with ThreadPoolExecutor(max_workers=4) as pool:
            responses = list(pool.map(post, range(4)))
        mine += [r.json()["id"] for r in responses if r.status_code == 201]
        assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
        with schema_context(world.alice.schema_name):
            assert Topic.objects.count() == MAX_TOPICS
    finally:
        with schema_context(world.alice.schema_name):
            Topic.objects.filter(pk__in=mine).delete()
