"""Outbound webhooks: registered by owners, signed, sent from the queue, retried with backoff."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.tasks import stale_after, webhook_deliver, webhooks_sweep
from api.webhooks import webhook_event_emit, webhook_secret_new
from tests.api.conftest import consent
from tests.api.helpers import (
    Receiver,
    TricklingReceiver,
    docs_receiver_namespace,
    queued_tasks,
    run_queued,
    tls_client_context,
)
from tests.phones import unique_phone


def register(api, url: str, events: list[str]) -> dict:
    response = api.post("/api/v1/webhooks/", {"url": url, "events": events, "description": "CRM"})
    assert response.status_code == 201, response.content
    return response.json()


def due_now(leader, delivery_id: int) -> None:
    """The retry's time has come (as when its schedule fires): what time passing would do."""
    with schema_context(leader.schema_name):
        WebhookDelivery.objects.filter(pk=delivery_id, next_attempt_at__isnull=False).update(
            next_attempt_at=timezone.now()
        )


def attempt_when_due(leader, delivery_id: int) -> str:
    due_now(leader, delivery_id)
    return webhook_deliver(delivery_id, leader.schema_name)


def test_an_owner_registers_an_endpoint_and_sees_its_secret_once(owner_api):
    created = register(owner_api, "https://crm.example.org/hooks", ["member.created", "member.opted_out"])
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["member.created", "member.opted_out"]
    listed = owner_api.get("/api/v1/webhooks/").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in owner_api.get(f"/api/v1/webhooks/{created['id']}/").json()


def test_a_deleted_endpoint_is_gone_from_the_api_but_its_log_is_kept(world, owner_api):
    created = register(owner_api, "https://crm.example.org/hooks", ["member.created"])
    assert owner_api.delete(f"/api/v1/webhooks/{created['id']}/").status_code == 204
    assert owner_api.get(f"/api/v1/webhooks/{created['id']}/").status_code == 404
    assert owner_api.get("/api/v1/webhooks/").json() == []
    with schema_context(world.alice.schema_name):
        assert WebhookEndpoint.objects.filter(pk=created["id"], is_active=False).exists()
        assert webhook_event_emit(name="member.created", payload={"id": 1}) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.org/hooks", "events": ["member.created"]}, "url"),
        ({"url": "file:///etc/passwd", "events": ["member.created"]}, "url"),
        ({"url": "javascript:alert(1)", "events": ["member.created"]}, "url"),
        ({"url": "https://user:pw@example.org/", "events": ["member.created"]}, "url"),
        ({"url": "https://example.org/", "events": []}, "events"),
        ({"url": "https://example.org/", "events": ["member.deleted"]}, "events.0"),
        ({"url": "https://example.org/"}, "events"),
    ],
)
def test_bad_endpoints_are_refused_with_the_field_named(owner_api, body, field):
    response = owner_api.post("/api/v1/webhooks/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://localhost/",
        "http://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://alice.localhost/",
    ],
)
def test_in_production_endpoints_on_internal_addresses_are_refused(owner_api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    response = owner_api.post("/api/v1/webhooks/", {"url": url, "events": ["member.created"]})
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]


def test_in_production_an_attempt_to_an_internal_address_is_refused_and_recorded(world, owner_api, settings):
    with Receiver() as receiver:
        endpoint = register(owner_api, receiver.url, ["member.updated"])
        settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
        with schema_context(world.alice.schema_name):
            event = webhook_event_emit(name="member.updated", payload={"id": 1})
            delivery = WebhookDelivery.objects.get(event=event)
        assert webhook_deliver(delivery.pk, world.alice.schema_name) == "retry"
    assert receiver.requests == []
    with schema_context(world.alice.schema_name):
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert attempt.status_code is None and attempt.error.startswith("refused")
    assert endpoint["id"]


def test_a_member_created_through_the_api_reaches_the_receiver_signed_and_verifiable_from_the_docs(
    world, owner_api, django_capture_on_commit_callbacks
):
    verify_signature = docs_receiver_namespace()["verify_signature"]
    with Receiver() as receiver:
        endpoint = register(owner_api, receiver.url, ["member.created"])
        with django_capture_on_commit_callbacks(execute=True):
            member = owner_api.post(
                "/api/v1/members/", {"phone": unique_phone(), "first_name": "Maya", "consent": consent()}
            ).json()
        # Nothing is sent inside the request: the delivery waits in the queue.
        assert receiver.requests == []
        assert any(task["func"] == "api.tasks.webhook_deliver" for task in queued_tasks("webhooks"))
        assert run_queued("api.tasks.webhook_deliver", "webhooks") == ["delivered"]
    [request] = receiver.requests
    assert verify_signature(endpoint["secret"], request.headers["X-Community-Signature"], request.body)
    assert not verify_signature("whsec_wrong", request.headers["X-Community-Signature"], request.body)
    assert not verify_signature(
        endpoint["secret"], request.headers["X-Community-Signature"], request.body + b" "
    )
    body = json.loads(request.body)
    assert body["type"] == "member.created" and body["leader"] == "alice"
    assert body["data"]["id"] == member["id"] and body["data"]["first_name"] == "Maya"
    assert body["id"].startswith("evt_") and request.headers["X-Community-Event-Id"] == body["id"]
    assert request.headers["X-Community-Event"] == "member.created"
    assert request.headers["Content-Type"] == "application/json"
    deliveries = owner_api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    assert deliveries[0]["status"] == "succeeded"
    assert deliveries[0]["attempt_log"][0]["status_code"] == 200


def test_the_docs_receiver_refuses_an_old_timestamp(world, owner_api):
    from api.webhooks import webhook_signature

    verify_signature = docs_receiver_namespace()["verify_signature"]
    old = int(timezone.now().timestamp()) - 3600
    header = webhook_signature(secret="whsec_x", timestamp=old, body=b"{}")
    assert not verify_signature("whsec_x", header, b"{}")
    assert verify_signature("whsec_x", header, b"{}", tolerance=7200)
    assert not verify_signature("whsec_x", "garbage", b"{}")


def test_events_reach_only_endpoints_subscribed_to_them(world, owner_api, django_capture_on_commit_callbacks):
    with Receiver() as created_only, Receiver() as updates_only:
        register(owner_api, created_only.url, ["member.created"])
        register(owner_api, updates_only.url, ["member.updated", "member.opted_out"])
        with django_capture_on_commit_callbacks(execute=True):
            member = owner_api.post(
                "/api/v1/members/", {"phone": unique_phone(), "consent": consent()}
            ).json()
            owner_api.patch(f"/api/v1/members/{member['id']}/", {"add_tags": ["vip"]})
            owner_api.patch(f"/api/v1/members/{member['id']}/", {"status": "opted_out"})
        run_queued("api.tasks.webhook_deliver", "webhooks")
    assert [json.loads(r.body)["type"] for r in created_only.requests] == ["member.created"]
    types = sorted(json.loads(r.body)["type"] for r in updates_only.requests)
    assert types == ["member.opted_out", "member.updated"]


def test_a_failed_delivery_is_retried_with_backoff_and_the_event_id_kept(
    world, owner_api, django_capture_on_commit_callbacks
):
    verify_signature = docs_receiver_namespace()["verify_signature"]
    with Receiver(statuses=[500, 503]) as receiver:
        endpoint = register(owner_api, receiver.url, ["member.created"])
        with django_capture_on_commit_callbacks(execute=True):
            owner_api.post("/api/v1/members/", {"phone": unique_phone(), "consent": consent()})
        before = timezone.now()
        assert run_queued("api.tasks.webhook_deliver", "webhooks") == ["retry"]
        with schema_context(world.alice.schema_name):
            delivery = WebhookDelivery.objects.get(endpoint_id=endpoint["id"])
            assert delivery.status == "pending" and delivery.attempts == 1
            assert (
                before + datetime.timedelta(seconds=55)
                < delivery.next_attempt_at
                < before + datetime.timedelta(seconds=65)
            )
        [retry] = Schedule.objects.filter(
            func="api.tasks.webhook_deliver", name__endswith=f"-{delivery.pk}-2"
        )
        assert (
            retry.schedule_type == Schedule.ONCE
            and abs((retry.next_run - delivery.next_attempt_at).total_seconds()) < 1
        )
        assert retry.args == f"{delivery.pk!r}, {world.alice.schema_name!r}"
        assert retry.cluster == "webhooks"  # run by the webhooks cluster's workers, never the texts' ones
        # Run early (a duplicate task), it does nothing: the retry waits for its time.
        assert webhook_deliver(delivery.pk, world.alice.schema_name) == "not due yet"
        # The schedule fires: second attempt (503), next in 5 minutes; third attempt succeeds.
        assert attempt_when_due(world.alice, delivery.pk) == "retry"
        with schema_context(world.alice.schema_name):
            delivery.refresh_from_db()
            assert delivery.next_attempt_at - timezone.now() > datetime.timedelta(minutes=4, seconds=50)
        assert attempt_when_due(world.alice, delivery.pk) == "delivered"
        # A duplicate run of the same task does nothing: the delivery is claimed once.
        assert webhook_deliver(delivery.pk, world.alice.schema_name) == "already claimed"
    assert len(receiver.requests) == 3
    assert len({json.loads(r.body)["id"] for r in receiver.requests}) == 1
    assert [r.headers["X-Community-Delivery-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert all(
        verify_signature(endpoint["secret"], r.headers["X-Community-Signature"], r.body)
        for r in receiver.requests
    )
    log = owner_api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"][0]
    assert [a["status_code"] for a in log["attempt_log"]] == [500, 503, 200]
    with schema_context(world.alice.schema_name):  # what each answer said, kept for the delivery log
        excerpts = list(
            WebhookAttempt.objects.filter(delivery=delivery).values_list("response_excerpt", flat=True)
        )
    assert excerpts == ["not now", "not now", "ok"]
    assert log["status"] == "succeeded" and log["attempts"] == 3


def test_a_delivery_gives_up_after_about_a_day_of_retries(world, owner_api):
    delays = WebhookDelivery.RETRY_DELAYS
    assert [d.total_seconds() for d in delays] == [60, 300, 1800, 7200, 21600, 43200]
    assert datetime.timedelta(hours=20) < sum(delays, datetime.timedelta()) <= datetime.timedelta(hours=24)
    with Receiver(statuses=[500] * 10) as receiver:
        register(owner_api, receiver.url, ["member.updated"])
        with schema_context(world.alice.schema_name):
            event = webhook_event_emit(name="member.updated", payload={"id": 7})
            delivery = WebhookDelivery.objects.get(event=event)
        results = [attempt_when_due(world.alice, delivery.pk) for _ in range(len(delays) + 1)]
    assert results == ["retry"] * len(delays) + ["failed"]
    with schema_context(world.alice.schema_name):
        delivery.refresh_from_db()
        assert delivery.status == "failed" and delivery.attempts == 7 and delivery.completed_at
        assert WebhookAttempt.objects.filter(delivery=delivery).count() == 7


def test_an_unreachable_receiver_is_a_recorded_failed_attempt(world, owner_api):
    with Receiver() as receiver:
        url = receiver.url
    register(owner_api, url, ["member.updated"])  # the server is closed now: connection refused
    with schema_context(world.alice.schema_name):
        event = webhook_event_emit(name="member.updated", payload={"id": 7})
        delivery = WebhookDelivery.objects.get(event=event)
    assert webhook_deliver(delivery.pk, world.alice.schema_name) == "retry"
    with schema_context(world.alice.schema_name):
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert attempt.status_code is None and "ConnectionError" in attempt.error


def test_emit_stores_nothing_when_no_endpoint_listens_and_refuses_unknown_events(alice_schema):
    before = WebhookEvent.objects.count()
    assert webhook_event_emit(name="message.received", payload={"body": "hi"}) is None
    assert WebhookEvent.objects.count() == before
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhook_event_emit(name="member.deleted", payload={})


def test_events_of_a_rolled_back_change_are_never_sent(world, owner_api, django_capture_on_commit_callbacks):
    from django.db import transaction

    register(owner_api, "https://crm.example.org/hooks", ["message.received"])
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        schema_context(world.alice.schema_name),
    ):
        try:
            with transaction.atomic():
                webhook_event_emit(name="message.received", payload={"body": "hi"})
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == []
    assert not any(task["func"] == "api.tasks.webhook_deliver" for task in queued_tasks("webhooks"))


def test_erasure_scrubs_stored_event_payloads(world, owner_api, django_capture_on_commit_callbacks):
    register(owner_api, "https://crm.example.org/hooks", ["member.created"])
    member = owner_api.post(
        "/api/v1/members/", {"phone": unique_phone(), "first_name": "Maya", "consent": consent()}
    ).json()
    assert owner_api.delete(f"/api/v1/members/{member['id']}/").status_code == 204
    with schema_context(world.alice.schema_name):
        payloads = list(WebhookEvent.objects.filter(name="member.created").values_list("payload", flat=True))
    assert {"id": member["id"], "erased": True} in payloads
    assert not any(p.get("first_name") == "Maya" for p in payloads)


def test_only_owners_manage_webhooks(manager_api):
    assert (
        manager_api.post(
            "/api/v1/webhooks/", {"url": "https://example.org/", "events": ["member.created"]}
        ).status_code
        == 403
    )


# --- one attempt, one deadline; nothing left `sending`; ports that cannot be -----------------------------


def delivery_of(leader, event_name: str = "member.updated") -> WebhookDelivery:
    with schema_context(leader.schema_name):
        event = webhook_event_emit(name=event_name, payload={"id": 7})
        return WebhookDelivery.objects.get(event=event)


def test_a_receiver_that_trickles_its_answer_is_cut_at_the_deadline_and_retried(world, owner_api, settings):
    settings.WEBHOOK_ATTEMPT_SECONDS = 2
    # A whole, valid 200, but a byte every 0.2 s: about 20 s in all, and no read ever waits long enough for a
    # timeout per read to trip.
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Padding: " + b"." * 60 + b"\r\n\r\nok"
    with TricklingReceiver(interval=0.2, answer=answer) as receiver:
        endpoint = register(owner_api, receiver.url, ["member.updated"])
        delivery = delivery_of(world.alice)
        assert webhook_deliver(delivery.pk, world.alice.schema_name) == "retry"
        trickled = receiver.bytes_sent
    assert 3 < trickled < len(answer)  # it was answering, a byte at a time, and was cut before the end
    with schema_context(world.alice.schema_name):
        attempt = WebhookAttempt.objects.get(delivery=delivery)
        delivery.refresh_from_db()
    assert attempt.status_code is None
    assert attempt.error == "Timeout: no complete answer within 2 s"
    assert attempt.duration_ms >= 2000
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.claimed_at is None
    assert delivery.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    log = owner_api.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"][0]
    assert log["attempt_log"][0]["error"].startswith("Timeout")


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.org:0/hooks",
        "https://crm.example.org:65536/hooks",
        "https://crm.example.org:99999/hooks",
        "https://crm.example.org:https/hooks",
        "http://203.0.113.7:123456/hooks",
    ],
)
def test_a_url_whose_port_cannot_be_is_refused_at_registration(owner_api, settings, production, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = not production
    response = owner_api.post("/api/v1/webhooks/", {"url": url, "events": ["member.created"]})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["fields"]["url"] == ["The port must be a number from 1 to 65535."]
    assert owner_api.get("/api/v1/webhooks/").json() == []


def test_a_stored_url_whose_port_cannot_be_fails_its_attempt_and_is_never_left_sending(db, world, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    with schema_context(world.alice.schema_name):  # registered before ports were checked
        WebhookEndpoint.objects.create(
            url="https://crm.example.org:99999/hooks", events=["member.updated"], secret=webhook_secret_new()
        )
    delivery = delivery_of(world.alice)
    assert webhook_deliver(delivery.pk, world.alice.schema_name) == "retry"
    with schema_context(world.alice.schema_name):
        delivery.refresh_from_db()
        attempt = WebhookAttempt.objects.get(delivery=delivery)
    assert delivery.status == "pending"
    assert attempt.error == "refused: The port must be a number from 1 to 65535."


def test_the_sweep_retries_a_delivery_whose_worker_stopped_mid_attempt(world, owner_api):
    from api.tasks import _claim

    with Receiver() as receiver:
        register(owner_api, receiver.url, ["member.updated"])
        delivery = delivery_of(world.alice)
        with schema_context(world.alice.schema_name):
            assert _claim(delivery.pk) == "claimed"  # a worker claims it... and is killed before answering
        assert webhooks_sweep() == "put back 0, queued again 0"  # within its deadline: still its worker's
        later = timezone.now() + stale_after() + datetime.timedelta(seconds=1)
        assert webhooks_sweep(now=later) == "put back 1, queued again 0"
        assert webhooks_sweep(now=later) == "put back 0, queued again 0"  # once
        with schema_context(world.alice.schema_name):
            delivery.refresh_from_db()
            attempt = WebhookAttempt.objects.get(delivery=delivery)
        assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("pending", 1, None)
        assert attempt.number == 1 and attempt.status_code is None
        assert attempt.error == "Timeout: the attempt never finished (its worker stopped)"
        [retry] = Schedule.objects.filter(name__endswith=f"-{delivery.pk}-2")
        assert retry.cluster == "webhooks" and retry.next_run == delivery.next_attempt_at
        assert delivery.next_attempt_at - later == datetime.timedelta(minutes=1)
        # The retry, when due, is delivered as attempt 2.
        assert attempt_when_due(world.alice, delivery.pk) == "delivered"
    assert [r.headers["X-Community-Delivery-Attempt"] for r in receiver.requests] == ["2"]


def test_the_sweep_queues_again_what_lost_its_task_and_moves_old_retries_to_the_webhooks_lane(
    world, owner_api
):
    register(owner_api, "https://crm.example.org/hooks", ["member.updated"])
    delivery = delivery_of(world.alice)
    with schema_context(world.alice.schema_name):  # due three minutes ago, and no worker has it
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - datetime.timedelta(minutes=3)
        )
    old_retry = Schedule.objects.create(  # scheduled by a release before the webhooks cluster
        func="api.tasks.webhook_deliver",
        args="1, 'leader_gone'",
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + datetime.timedelta(hours=1),
        name="webhook-leader_gone-1-2",
    )
    before = [t for t in queued_tasks("webhooks") if t["args"] == (delivery.pk, world.alice.schema_name)]
    assert webhooks_sweep() == "put back 0, queued again 1"
    after = [t for t in queued_tasks("webhooks") if t["args"] == (delivery.pk, world.alice.schema_name)]
    assert len(after) == len(before) + 1
    old_retry.refresh_from_db()
    assert old_retry.cluster == "webhooks"
    assert Schedule.objects.filter(name="webhooks-sweep", cluster="webhooks", func="api.tasks.webhooks_sweep")


def test_https_receivers_are_verified_and_their_answers_cut_at_the_deadline_too(
    world, owner_api, settings, monkeypatch
):
    from api import webhooks

    settings.WEBHOOK_ATTEMPT_SECONDS = 2
    with Receiver(tls=True) as receiver:
        register(owner_api, receiver.url, ["member.updated"])
        # A certificate nobody vouches for: refused, recorded, retried.
        untrusted = delivery_of(world.alice)
        assert webhook_deliver(untrusted.pk, world.alice.schema_name) == "retry"
        assert receiver.requests == []
        # Trusted (as a public CA's would be), it is delivered, signed, over TLS to the name in the URL.
        monkeypatch.setattr(webhooks, "_tls", tls_client_context)
        trusted = delivery_of(world.alice)
        assert webhook_deliver(trusted.pk, world.alice.schema_name) == "delivered"
    [request] = receiver.requests
    assert request.headers["Host"] == receiver.url.split("/")[2]
    with schema_context(world.alice.schema_name):
        refused = WebhookAttempt.objects.get(delivery=untrusted)
        answered = WebhookAttempt.objects.get(delivery=trusted)
        WebhookEndpoint.objects.update(is_active=False)
    assert refused.error.startswith("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED]")
    assert (answered.status_code, answered.response_excerpt) == (200, "ok")

    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Padding: " + b"." * 60 + b"\r\n\r\nok"
    with TricklingReceiver(interval=0.2, answer=answer, tls=True) as trickling:
        register(owner_api, trickling.url, ["member.updated"])
        delivery = delivery_of(world.alice)
        assert webhook_deliver(delivery.pk, world.alice.schema_name) == "retry"
        assert 3 < trickling.bytes_sent < len(answer)
    with schema_context(world.alice.schema_name):
        assert WebhookAttempt.objects.get(delivery=delivery).error == "Timeout: no complete answer within 2 s"
