"""The `message.triaged` webhook: when a triage batch labels texts (common.events.MESSAGES_TRIAGED), every
receiver listening gets one signed event per text, the text as the API shows it with its triage; built from
one query for the whole batch, and not at all while nobody listens."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from api.models import WebhookDelivery, WebhookEvent
from common import events
from members.models import Member
from tests import builders
from tests.api.conftest import consent
from tests.api.helpers import Receiver, docs_receiver_namespace, queued_tasks, run_queued
from tests.api.test_webhooks import register
from tests.phones import unique_phone


def _triaged_texts(count: int, *, member=None, topic_name: str | None = None) -> tuple[list[int], object]:
    topic = builders.topic(name=topic_name) if topic_name else builders.topic()
    conversation = builders.conversation(member=member) if member else builders.conversation()
    ids = []
    for i in range(count):
        text = builders.message(conversation=conversation, member=member, body=f"el agua no llega {i}")
        builders.label(
            message=text,
            topic=topic,
            confidence=0.9,
            language="es",
            country="MX",
            region="Jalisco",
            city="Zapopan",
            place_source="phone",
        )
        ids.append(text.pk)
    return ids, topic


def test_a_triage_batch_reaches_the_receiver_one_signed_event_per_text(
    world, owner_api, django_capture_on_commit_callbacks
):
    verify_signature = docs_receiver_namespace()["verify_signature"]
    with Receiver() as receiver:
        endpoint = register(owner_api, receiver.url, ["message.triaged"])
        assert endpoint["events"] == ["message.triaged"]
        with schema_context(world.alice.schema_name):
            ids, topic = _triaged_texts(3, topic_name="Water supply")
            with django_capture_on_commit_callbacks(execute=True):
                events.emit(events.MESSAGES_TRIAGED, message_ids=ids)
            assert receiver.requests == []  # nothing sent inside the batch: the queue does it
        assert len([t for t in queued_tasks("webhooks") if t["func"] == "api.tasks.webhook_deliver"]) == 3
        assert run_queued("api.tasks.webhook_deliver", "webhooks") == ["delivered"] * 3
    assert len(receiver.requests) == 3
    bodies = []
    for request in receiver.requests:
        assert verify_signature(endpoint["secret"], request.headers["X-Community-Signature"], request.body)
        assert request.headers["X-Community-Event"] == "message.triaged"
        bodies.append(json.loads(request.body))
    assert len({body["id"] for body in bodies}) == 3
    assert {body["type"] for body in bodies} == {"message.triaged"}
    by_id = {body["data"]["id"]: body["data"] for body in bodies}
    assert set(by_id) == set(ids)
    for message_id, data in by_id.items():
        assert data == owner_api.get(f"/api/v1/messages/{message_id}/").json()
        assert data["topic"] == {"id": topic.pk, "name": "Water supply"}
        assert data["place"] == {"city": "Zapopan", "region": "Jalisco", "country": "MX", "source": "phone"}
        assert data["language"] == "es" and data["triaged_at"]


def test_only_endpoints_listening_to_message_triaged_get_it(
    world, owner_api, django_capture_on_commit_callbacks
):
    with Receiver() as triaged, Receiver() as received:
        register(owner_api, triaged.url, ["message.triaged", "member.created"])
        register(owner_api, received.url, ["message.received"])
        with schema_context(world.alice.schema_name):
            ids, _topic = _triaged_texts(2)
            with django_capture_on_commit_callbacks(execute=True):
                events.emit(events.MESSAGES_TRIAGED, message_ids=ids)
        run_queued("api.tasks.webhook_deliver", "webhooks")
    assert [json.loads(r.body)["type"] for r in triaged.requests] == ["message.triaged"] * 2
    assert received.requests == []


def test_a_batch_is_read_in_one_query_however_many_texts(world, owner_api):
    register(owner_api, "https://crm.example.org/hooks", ["message.triaged"])
    with schema_context(world.alice.schema_name):
        few, _ = _triaged_texts(2)
        many, _ = _triaged_texts(40)

        def reads(ids: list[int]) -> tuple[int, int]:
            with CaptureQueriesContext(connection) as captured:
                events.emit(events.MESSAGES_TRIAGED, message_ids=ids)
            sql = [query["sql"] for query in captured.captured_queries]
            return len(sql), len([s for s in sql if s.startswith("SELECT") and "messaging_message" in s])

        reads(few)  # fills the listeners' cache
        assert reads(few) == reads(many)
        assert reads(many)[1] == 1
        assert WebhookEvent.objects.filter(name="message.triaged").count() == 2 * 2 + 40 * 2
        assert WebhookDelivery.objects.filter(event__name="message.triaged").count() == 2 * 2 + 40 * 2


def test_nobody_listening_costs_no_read_of_the_texts_and_stores_nothing(world, owner_api):
    register(owner_api, "https://crm.example.org/hooks", ["member.created"])
    with schema_context(world.alice.schema_name):
        ids, _ = _triaged_texts(5)
        before = WebhookEvent.objects.count()
        events.emit(events.MESSAGES_TRIAGED, message_ids=ids)  # fills the listeners' cache
        with CaptureQueriesContext(connection) as captured:
            events.emit(events.MESSAGES_TRIAGED, message_ids=ids)
        assert captured.captured_queries == []
        events.emit(events.MESSAGES_TRIAGED, message_ids=[])
        assert WebhookEvent.objects.count() == before


def test_erasure_scrubs_the_texts_triaged_events(world, owner_api):
    register(owner_api, "https://crm.example.org/hooks", ["message.triaged"])
    member = owner_api.post("/api/v1/members/", {"phone": unique_phone(), "consent": consent()}).json()
    with schema_context(world.alice.schema_name):
        ids, _ = _triaged_texts(1, member=Member.objects.get(pk=member["id"]))
        events.emit(events.MESSAGES_TRIAGED, message_ids=ids)
        assert WebhookEvent.objects.get(name="message.triaged", payload__id=ids[0]).payload["phone"]
    assert owner_api.delete(f"/api/v1/members/{member['id']}/").status_code == 204
    with schema_context(world.alice.schema_name):
        payloads = list(WebhookEvent.objects.filter(name="message.triaged").values_list("payload", flat=True))
    assert {"erased": True} in payloads
    assert not any(p.get("phone") == member["phone"] for p in payloads)
