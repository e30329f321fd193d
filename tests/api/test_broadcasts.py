"""Broadcasts through the API: audience preview, create now or later, follow to completion, cancel."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from api.models import WebhookEvent
from leaders.models import Leader, schema_name_for
from members.models import Member
from messaging.broadcasts.feedback import delivery_status_apply
from messaging.models import Broadcast, Delivery, DeliveryStatus
from tests import builders
from tests.api.conftest import Api, token_for
from tests.api.helpers import Receiver, run_queued


def make_members(leader: Leader, tag: str, count: int, **fields) -> list[int]:
    """The ids of `count` fans of `leader` tagged `tag` (in Montréal), so a test's audience is only its own."""
    return [builders.fan(leader=leader, tag=tag, **fields).pk for _ in range(count)]


pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_alice(db, world, settings):
    """Alice sending fast (her long code's 1 segment/s has its own tests), with a callback base URL.

    Changed in the database only (rolled back after the test): the session's `world.alice` stays as is.
    """
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    Leader.objects.filter(pk=world.alice.pk).update(segments_per_second=1000)


def in_an_hour() -> str:
    return (timezone.now() + datetime.timedelta(hours=1)).replace(microsecond=0).isoformat()


def run_alice_tasks(func: str) -> list:
    """Run the queued broadcast tasks calling `func` for alice's schema, as the broadcast lane's workers
    would (tasks of other leaders, e.g. the schema fuzzer's, stay in the queue)."""
    return run_queued(
        f"messaging.broadcasts.tasks.{func}",
        django_settings.BROADCAST_CLUSTER,
        where=lambda task: task["args"][1] == schema_name_for("alice"),
    )


def run_broadcast_tasks() -> None:
    """Queue the recipients, then send."""
    run_alice_tasks("broadcast_start")
    run_alice_tasks("broadcast_dispatch")


# -- audience preview -----------------------------------------------------------------------------------


def test_a_manager_previews_a_segment_and_its_cost(world, fast_alice, manager_api):
    tag = builders.new_tag()
    make_members(world.alice, tag, 3)
    make_members(world.alice, tag, 2, gender="male")
    make_members(world.alice, tag, 1, status=Member.Status.OPTED_OUT)

    response = manager_api.post(
        "/api/v1/audience/preview/",
        {"filter": {"tags": [tag], "genders": ["female"]}, "body": "Rally tonight’s at 7"},
    )
    assert response.status_code == 200, response.content
    preview = response.json()
    assert preview["count"] == 3  # the opted-out woman is never in an audience
    # The filter as the broadcast engine stores it: `tags` is the API's earlier name for `tags_any`.
    assert preview["filter"] == {"genders": ["female"], "tags_any": [tag]}
    assert preview["approval_required"] is False
    cost = preview["cost"]
    assert (cost["recipients"], cost["encoding"], cost["segments_per_message"]) == (3, "UCS-2", 1)
    assert cost["total_segments"] == 3
    assert cost["segments_per_second"] == 1000
    assert cost["estimated_seconds"] >= 0
    assert cost["gsm7_suggestions"] == {"’": "'"}


def test_a_preview_without_a_body_counts_only(world, manager_api):
    tag = builders.new_tag()
    make_members(world.alice, tag, 2)
    preview = manager_api.post("/api/v1/audience/preview/", {"filter": {"tags": [tag]}}).json()
    assert (preview["count"], preview["cost"]) == (2, None)


def test_the_preview_the_members_listing_and_a_broadcast_select_the_same_members(
    world, fast_alice, manager_api, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 2, birth_date=datetime.date(1960, 1, 1))
    young = make_members(world.alice, tag, 3, birth_date=datetime.date(2004, 1, 1), country="US")
    criteria = {"tags": [tag], "age_max": 30, "countries": ["us"]}
    listed = manager_api.get("/api/v1/members/", {"tags": tag, "age_max": 30, "countries": "us"}).json()
    assert {m["id"] for m in listed["results"]} == set(young)
    assert manager_api.post("/api/v1/audience/preview/", {"filter": criteria}).json()["count"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_api.post(
            "/api/v1/broadcasts/", {"body": "Hello", "filter": criteria, "send_at": in_an_hour()}
        ).json()
    assert created["filter"] == {"age_max": 30, "countries": ["US"], "tags_any": [tag]}
    with schema_context(world.alice.schema_name):
        from members.audience import audience_members

        stored = Broadcast.objects.get(pk=created["id"]).filters
        assert set(audience_members(stored).values_list("pk", flat=True)) == set(young)


def test_the_members_listing_still_lists_opted_out_members_when_asked(world, manager_api):
    tag = builders.new_tag()
    [gone] = make_members(world.alice, tag, 1, status=Member.Status.OPTED_OUT)
    make_members(world.alice, tag, 1)
    listed = manager_api.get("/api/v1/members/", {"tags": tag, "status": "opted_out"}).json()
    assert [m["id"] for m in listed["results"]] == [gone]
    assert len(manager_api.get("/api/v1/members/", {"tags": tag}).json()["results"]) == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filter": {"town": ["Montréal"]}}, "filter.town"),
        ({"filter": {"genders": ["robot"]}}, "filter.genders.0"),
        ({"filter": {"countries": ["USA"]}}, "filter.countries.0"),
        ({"filter": {"age_min": 40, "age_max": 30}}, "filter.age_min"),
        ({"filter": {"age_min": 400}}, "filter.age_min"),
        ({"filter": {"joined_after": "yesterday"}}, "filter.joined_after"),
        ({"filter": {"tags": "volunteer"}}, "filter.tags"),
        ({"filter": ["tags"]}, "filter.non_field_errors"),
        ({"body": "x" * 401}, "body"),
    ],
)
def test_a_bad_preview_gets_a_400_naming_the_field(manager_api, body, field):
    response = manager_api.post("/api/v1/audience/preview/", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error


# -- roles and tenants ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/broadcasts/"),
        ("POST", "/api/v1/broadcasts/"),
        ("POST", "/api/v1/audience/preview/"),
        ("GET", "/api/v1/broadcasts/1/"),
        ("POST", "/api/v1/broadcasts/1/cancel/"),
    ],
)
def test_a_responder_may_not_touch_broadcasts(responder_api, method, path):
    response = responder_api.request(method, path, {"body": "hi"} if method == "POST" else None)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_manager_and_an_owner_may(owner_api, manager_api):
    for api in (owner_api, manager_api):
        assert api.get("/api/v1/broadcasts/").status_code == 200
        assert api.post("/api/v1/audience/preview/", {}).status_code == 200


def test_another_leaders_token_and_broadcasts_stay_out_of_reach(
    world, fast_alice, owner_api, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 1)
    with django_capture_on_commit_callbacks(execute=True):
        alices = owner_api.post(
            "/api/v1/broadcasts/", {"body": "Hi", "filter": {"tags": [tag]}, "send_at": in_an_hour()}
        ).json()
    bob_token = token_for(world.bob, "bruno")
    on_alice_host = Api(world.alice, bob_token)
    assert on_alice_host.get("/api/v1/broadcasts/").status_code == 401
    assert on_alice_host.post("/api/v1/broadcasts/", {"body": "Hi"}).status_code == 401
    on_bob_host = Api(world.bob, bob_token)
    assert on_bob_host.get(f"/api/v1/broadcasts/{alices['id']}/").status_code == 404
    assert on_bob_host.post(f"/api/v1/broadcasts/{alices['id']}/cancel/").status_code == 404
    assert alices["id"] not in {b["id"] for b in on_bob_host.get("/api/v1/broadcasts/").json()["results"]}
    assert owner_api.get(f"/api/v1/broadcasts/{alices['id']}/").json()["status"] == "scheduled"


# -- validation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": 42}, "body"),
        ({"body": "x" * 401}, "body"),
        ({"body": "hi", "filter": {"cities": ["Nowhereville Qqq"]}}, "filter.cities"),
        ({"body": "hi", "filter": {"near": {"city": "Montréal"}}}, "filter.near.km"),
        ({"body": "hi", "filter": {"near": {"km": 0, "city": "Montréal"}}}, "filter.near.km"),
        ({"body": "hi", "filter": {"near": {"km": 30}}}, "filter.near"),
        ({"body": "hi", "filter": {"near": {"km": 30, "town": "Montréal"}}}, "filter.near.town"),
        ({"body": "hi", "filter": {"near": {"km": "30", "city": "Montréal"}}}, "filter.near.km"),
        ({"body": "hi", "filter": {"place_ids": ["montreal"]}}, "filter.place_ids.0"),
        ({"body": "hi", "send_at": "2020-01-01T09:00:00Z"}, "send_at"),
        ({"body": "hi", "send_at": "2999-01-01T09:00:00"}, "send_at"),
        ({"body": "hi", "send_at": "tomorrow"}, "send_at"),
        ({"body": "hi", "ignore_quiet_hours": "perhaps"}, "ignore_quiet_hours"),
    ],
)
def test_a_bad_broadcast_gets_a_400_naming_the_field_and_stores_nothing(world, manager_api, body, field):
    with schema_context(world.alice.schema_name):
        before = Broadcast.objects.count()
    response = manager_api.post("/api/v1/broadcasts/", body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.count() == before


def test_a_broadcast_above_the_approval_threshold_is_refused_with_409(world, manager_api):
    tag = builders.new_tag()
    make_members(world.alice, tag, 3)
    Leader.objects.filter(pk=world.alice.pk).update(approval_threshold=2)
    with schema_context(world.alice.schema_name):
        before = Broadcast.objects.count()
    preview = manager_api.post("/api/v1/audience/preview/", {"filter": {"tags": [tag]}}).json()
    assert (preview["approval_required"], preview["approval_threshold"]) == (True, 2)

    response = manager_api.post("/api/v1/broadcasts/", {"body": "Hi", "filter": {"tags": [tag]}})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "approval_required"
    assert "3 members, above the approval threshold of 2" in error["message"]
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.count() == before


def test_a_suspended_leader_cannot_broadcast(world, manager_api):
    Leader.objects.filter(pk=world.alice.pk).update(status=Leader.Status.SUSPENDED)
    response = manager_api.post(
        "/api/v1/broadcasts/", {"body": "Hi", "filter": {"tags": [builders.new_tag()]}}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "leader_suspended"


# -- sending --------------------------------------------------------------------------------------------


def test_a_broadcast_sent_now_is_queued_sent_and_followed_to_completion_with_a_webhook(
    world, fast_alice, owner_api, manager_api, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    members = make_members(world.alice, tag, 4)
    with Receiver() as receiver:
        endpoint = owner_api.post(
            "/api/v1/webhooks/", {"url": receiver.url, "events": ["broadcast.completed"]}
        ).json()
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_api.post(
                "/api/v1/broadcasts/",
                {"body": "Rally at 7, {first_name}!", "filter": {"tags": [tag]}, "ignore_quiet_hours": True},
            )
        assert response.status_code == 201, response.content
        created = response.json()
        assert created["status"] == "draft"  # the broadcast lane queues it, not the request
        assert (created["encoding"], created["segments_per_message"]) == ("GSM-7", 1)

        run_alice_tasks("broadcast_start")
        queued = manager_api.get(f"/api/v1/broadcasts/{created['id']}/").json()
        assert queued["status"] == "sending"
        assert (queued["stats"]["recipients"], queued["stats"]["queued"]) == (4, 4)
        with schema_context(world.alice.schema_name):
            assert set(
                Delivery.objects.filter(broadcast_id=created["id"]).values_list("member_id", flat=True)
            ) == set(members)

        with django_capture_on_commit_callbacks(execute=True):
            run_alice_tasks("broadcast_dispatch")
        assert sorted(m["body"] for m in twilio.messages) == ["Rally at 7, Sam!"] * 4
        with schema_context(world.alice.schema_name):
            for message in twilio.messages[:3]:
                assert delivery_status_apply(sid=message["sid"], status="delivered")

        done = manager_api.get(f"/api/v1/broadcasts/{created['id']}/").json()
        assert done["status"] == "completed" and done["completed_at"]
        stats = done["stats"]
        assert (stats["recipients"], stats["queued"], stats["sent"], stats["delivered"]) == (4, 0, 4, 3)
        assert (stats["failed"], stats["skipped"], stats["segments_sent"]) == (0, 0, 4)

        with schema_context(world.alice.schema_name):
            event = WebhookEvent.objects.get(name="broadcast.completed", payload__id=created["id"])
        assert event.payload["status"] == "completed" and event.payload["sent"] == 4
        assert set(event.payload) == {"id", "status", *stats}  # as docs/api.md describes it
        run_queued("api.tasks.webhook_deliver", "webhooks")
    [request] = [r for r in receiver.requests if json.loads(r.body)["type"] == "broadcast.completed"]
    assert json.loads(request.body)["data"]["id"] == created["id"]
    assert endpoint["id"]


def test_a_scheduled_broadcast_waits_for_its_time_and_can_be_cancelled(
    world, fast_alice, manager_api, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 2)
    send_at = (timezone.now() + datetime.timedelta(days=1)).astimezone(
        datetime.timezone(datetime.timedelta(hours=-4))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_api.post(
            "/api/v1/broadcasts/",
            {"body": "Tomorrow's rally", "filter": {"tags": [tag]}, "send_at": send_at.isoformat()},
        )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "scheduled"
    assert datetime.datetime.fromisoformat(created["send_at"]) == send_at  # the same moment, in UTC
    with schema_context("public"):
        from django_q.models import Schedule

        assert Schedule.objects.filter(name__endswith=f"-{created['id']}").exists()

    cancelled = manager_api.post(f"/api/v1/broadcasts/{created['id']}/cancel/")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancelled_at"]
    again = manager_api.post(f"/api/v1/broadcasts/{created['id']}/cancel/")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_cancellable"
    run_broadcast_tasks()
    assert twilio.messages == []


def test_a_scheduled_broadcast_starts_when_its_time_comes(
    world, fast_alice, manager_api, twilio, django_capture_on_commit_callbacks
):
    from messaging.broadcasts.tasks import broadcasts_sweep

    tag = builders.new_tag()
    make_members(world.alice, tag, 2)
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_api.post(
            "/api/v1/broadcasts/",
            {
                "body": "Doors open",
                "filter": {"tags": [tag]},
                "send_at": in_an_hour(),
                "ignore_quiet_hours": True,
            },
        ).json()
    broadcasts_sweep(now=timezone.now())
    run_broadcast_tasks()
    assert manager_api.get(f"/api/v1/broadcasts/{created['id']}/").json()["status"] == "scheduled"
    assert twilio.messages == []

    broadcasts_sweep(now=timezone.now() + datetime.timedelta(hours=1, minutes=1))
    run_broadcast_tasks()
    done = manager_api.get(f"/api/v1/broadcasts/{created['id']}/").json()
    assert (done["status"], done["stats"]["sent"]) == ("completed", 2)
    assert [m["body"] for m in twilio.messages] == ["Doors open"] * 2


def test_cancelling_a_sending_broadcast_leaves_the_rest_unsent(
    world, fast_alice, manager_api, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 3)
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_api.post(
            "/api/v1/broadcasts/", {"body": "Hi", "filter": {"tags": [tag]}, "ignore_quiet_hours": True}
        ).json()
    run_alice_tasks("broadcast_start")
    cancelled = manager_api.post(f"/api/v1/broadcasts/{created['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled"
    assert (cancelled["stats"]["recipients"], cancelled["stats"]["cancelled"]) == (3, 3)
    run_alice_tasks("broadcast_dispatch")
    assert twilio.messages == []
    with schema_context(world.alice.schema_name):
        statuses = set(Delivery.objects.filter(broadcast_id=created["id"]).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.CANCELLED}


def test_retrying_a_create_with_the_same_idempotency_key_returns_the_same_broadcast(
    world, fast_alice, manager_api, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 1)
    body = {"body": "Once", "filter": {"tags": [tag]}, "send_at": in_an_hour()}
    headers = {"Idempotency-Key": f"create-{tag}"}
    with django_capture_on_commit_callbacks(execute=True):
        first = manager_api.post("/api/v1/broadcasts/", body, headers=headers)
        second = manager_api.post("/api/v1/broadcasts/", body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.filter(body="Once", filters__tags_any=[tag]).count() == 1
    other = manager_api.post("/api/v1/broadcasts/", {**body, "body": "Twice"}, headers=headers)
    assert other.status_code == 422


def test_the_list_is_newest_first_and_paginated_by_cursor(
    world, fast_alice, manager_api, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    make_members(world.alice, tag, 1)
    ids = []
    with django_capture_on_commit_callbacks(execute=True):
        for index in range(3):
            response = manager_api.post(
                "/api/v1/broadcasts/",
                {"body": f"Note {index}", "filter": {"tags": [tag]}, "send_at": in_an_hour()},
            )
            ids.append(response.json()["id"])
    page = manager_api.get("/api/v1/broadcasts/", {"limit": 2}).json()
    assert [b["id"] for b in page["results"]] == ids[::-1][:2]
    assert page["results"][0]["stats"]["recipients"] == 0
    following = manager_api.client.get(page["next"], HTTP_AUTHORIZATION=f"Bearer {manager_api.token}").json()
    assert following["results"][0]["id"] == ids[0]
    assert manager_api.get("/api/v1/broadcasts/", {"cursor": "garbage"}).status_code == 400


def test_the_schema_describes_the_broadcast_endpoints_and_their_errors(world, db):
    response = Api(world.alice, None).get("/api/v1/schema/", {"format": "json"})
    paths = json.loads(response.content)["paths"]
    create = paths["/api/v1/broadcasts/"]["post"]
    assert {"201", "400", "401", "403", "409", "415", "422", "429"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert {"200", "400", "403"} <= set(paths["/api/v1/audience/preview/"]["post"]["responses"])
    assert {"200", "404", "409"} <= set(paths["/api/v1/broadcasts/{id}/cancel/"]["post"]["responses"])
    assert {"200", "404"} <= set(paths["/api/v1/broadcasts/{id}/"]["get"]["responses"])
    assert any(p["name"] == "cursor" for p in paths["/api/v1/broadcasts/"]["get"]["parameters"])
