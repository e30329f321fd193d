"""The phone simulator: staff text a leader as a fan through the real, signed webhook."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from messaging.models import Message
from tests.phones import unique_phone


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


@pytest.mark.django_db
def test_the_simulator_is_for_staff_only_when_debug_is_off(client, world):
    page = client.get("/simulator/")
    send = client.post("/simulator/send/", {"leader": "alice", "phone": unique_phone(), "body": "hi"})

    assert page.status_code == 302 and page["Location"].startswith("/admin/login/")
    assert send.status_code == 403
    assert "error" in send.json()


@pytest.mark.django_db
def test_the_simulator_is_open_in_debug(client, world, settings):
    settings.DEBUG = True

    assert client.get("/simulator/").status_code == 200


@pytest.mark.django_db
def test_a_simulated_text_goes_through_the_signed_webhook_and_the_thread_shows_both_sides(client, world):
    client.force_login(world.carol)
    phone = unique_phone()

    page = client.get("/simulator/?leader=alice")
    sent = client.post("/simulator/send/", {"leader": "alice", "phone": phone, "body": "Hi Alice!"})
    thread = client.get("/simulator/messages/", {"leader": "alice", "phone": phone})

    assert page.status_code == 200 and "Alice Martin" in page.content.decode()
    assert sent.status_code == 200 and sent.json()["status"] == 200
    assert "/j/" in sent.json()["twiml"]
    messages = thread.json()["messages"]
    assert [(m["direction"], m["kind"]) for m in messages] == [("in", "conversation"), ("out", "welcome")]
    assert messages[0]["body"] == "Hi Alice!"
    assert "http://alice.localhost:8000/j/" in messages[1]["body"]
    with schema_context(world.alice.schema_name):
        inbound = Message.objects.get(phone=phone, direction="in")
    assert inbound.twilio_sid == sent.json()["sid"]


@pytest.mark.django_db
def test_the_simulator_also_works_against_the_twilio_credentials(client, world, twilio):
    client.force_login(world.carol)

    sent = client.post("/simulator/send/", {"leader": "bob", "phone": unique_phone(), "body": "Bonjour"})

    assert sent.json()["status"] == 200 and "merci" in sent.json()["twiml"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"leader": "nobody", "phone": "+12025550111", "body": "hi"}, "leader"),
        ({"leader": "alice", "phone": "2025550111", "body": "hi"}, "E.164"),
        ({"leader": "alice", "phone": "+12025550111", "body": "  "}, "type a text"),
        ({"leader": "alice", "phone": "+12025550111", "body": "x" * 1601}, "1600"),
    ],
)
def test_bad_simulator_input_gets_a_clear_400(client, world, form, error):
    client.force_login(world.carol)

    response = client.post("/simulator/send/", form)

    assert response.status_code == 400
    assert error in response.json()["error"]


@pytest.mark.django_db
def test_the_fans_phone_shows_the_broadcasts_they_got_among_their_texts(client, world):
    import datetime

    from django.utils import timezone

    from messaging.models import DeliveryStatus
    from tests import builders

    client.force_login(world.carol)
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        fan = builders.member(first_name="Lea")
        sent_at = now - datetime.timedelta(minutes=5)
        broadcast = builders.broadcast(
            body="Hi {first_name}, rally Saturday!", queued_at=sent_at, status="completed"
        )
        builders.delivery(
            broadcast=broadcast, member=fan, status=DeliveryStatus.DELIVERED, due_at=sent_at, sent_at=sent_at
        )
    client.post("/simulator/send/", {"leader": "alice", "phone": fan.phone, "body": "I'll be there"})

    messages = client.get("/simulator/messages/", {"leader": "alice", "phone": fan.phone}).json()["messages"]
    assert [(m["direction"], m["kind"], m["body"]) for m in messages][:2] == [
        ("out", "broadcast", "Hi Lea, rally Saturday!"),
        ("in", "conversation", "I'll be there"),
    ]
