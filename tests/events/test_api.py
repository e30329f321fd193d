"""Events through the API: created and changed with the console's rules (one-line reasons naming the field),
alerted, RSVPs and check-ins recorded and listed (numbers masked for a responder's token), counts by region,
the `event.rsvp` and `event.checked_in` webhook events; never seen by another leader."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from api.models import WebhookEndpoint, WebhookEvent
from api.webhooks import webhook_listeners_clear, webhook_secret_new
from events.models import Event
from leaders.routing import leader_cache_clear
from members.services import member_erase
from tests.api.conftest import Api, token_for
from tests.events.helpers import SURREY, resident
from tests.surveys.helpers import open_all_day

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _open(world, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    open_all_day(world.alice)
    leader_cache_clear()
    yield
    leader_cache_clear()


def _body(**overrides) -> dict:
    start = (timezone.now() + datetime.timedelta(days=3)).astimezone(datetime.UTC).replace(microsecond=0)
    return {
        "title": "Town hall",
        "latitude": SURREY[0],
        "longitude": SURREY[1],
        "address": "City Hall",
        "time_zone": "America/Vancouver",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": 1,
        "code_word": "SURREY" + str(start.second),
        "languages": ["en", "fr"],
        **overrides,
    }


def test_an_owner_creates_an_event_reads_it_and_changes_it(owner_api):
    response = owner_api.post("/api/v1/events/", _body())
    assert response.status_code == 201, response.content
    event = response.json()
    assert event["time_zone"] == "America/Vancouver"
    assert event["starts_at_local"].endswith("-08:00") or event["starts_at_local"].endswith("-07:00")
    assert event["reminder_offsets"] == [1440, 120] and event["capacity"] == 1
    assert owner_api.get(f"/api/v1/events/{event['id']}/").json() == event
    changed = owner_api.patch(
        f"/api/v1/events/{event['id']}/", {"capacity": 50, "title": "Town hall (moved)"}
    )
    assert changed.status_code == 200 and changed.json()["capacity"] == 50
    assert owner_api.get("/api/v1/events/").json()["results"][0]["id"] == event["id"]


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"code_word": "STOP"}, "code_word"),
        ({"ends_at": "2020-01-01T00:00"}, "ends_at"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"capacity": 0}, "capacity"),
        ({"latitude": None, "longitude": None}, "place_id"),
        ({"languages": ["xx"]}, "languages.0"),
        ({"title": 42}, "title"),
    ],
)
def test_what_the_rules_refuse_is_a_400_naming_the_field(owner_api, override, field):
    response = owner_api.post("/api/v1/events/", _body(**override))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()


def test_responders_read_but_do_not_create(world, owner_api, responder_api):
    event = owner_api.post("/api/v1/events/", _body()).json()
    assert responder_api.get(f"/api/v1/events/{event['id']}/").status_code == 200
    assert responder_api.post("/api/v1/events/", _body(code_word="OTHERWORD")).status_code == 403
    assert responder_api.get(f"/api/v1/events/{event['id']}/rsvps/").status_code == 403


def test_rsvps_check_ins_counts_and_webhook_events(world, owner_api, responder_api, twilio):
    with schema_context(world.alice.schema_name):
        WebhookEndpoint.objects.create(
            url="https://crm.example.org/hooks",
            events=["event.rsvp", "event.checked_in"],
            secret=webhook_secret_new(),
        )
    webhook_listeners_clear()
    event = owner_api.post("/api/v1/events/", _body()).json()
    first, second = resident(world.alice, at=SURREY), resident(world.alice, at=SURREY, region="Washington")

    seat = owner_api.post(f"/api/v1/events/{event['id']}/rsvps/", {"member_id": first.pk, "answer": "yes"})
    line = owner_api.post(f"/api/v1/events/{event['id']}/rsvps/", {"member_id": second.pk, "answer": "yes"})
    assert (seat.json()["status"], line.json()["status"]) == ("confirmed", "waitlisted")
    assert line.json()["waitlist_position"] == 1
    assert (
        owner_api.post(
            f"/api/v1/events/{event['id']}/rsvps/", {"member_id": 10**9, "answer": "yes"}
        ).status_code
        == 400
    )

    # At the door (the API's teammate may check in anyone; the code word has its own window).
    checked = responder_api.post(f"/api/v1/events/{event['id']}/check-ins/", {"member_id": first.pk})
    again = responder_api.post(f"/api/v1/events/{event['id']}/check-ins/", {"member_id": first.pk})
    assert (checked.status_code, again.status_code) == (201, 200)
    listed = responder_api.get(f"/api/v1/events/{event['id']}/check-ins/").json()["results"]
    assert [row["member_id"] for row in listed] == [first.pk]
    assert listed[0]["phone"] != first.phone and listed[0]["phone"].endswith(first.phone[-4:])  # masked

    rsvps = owner_api.get(f"/api/v1/events/{event['id']}/rsvps/", {"status": "waitlisted"}).json()["results"]
    assert [row["member_id"] for row in rsvps] == [second.pk]
    assert owner_api.get(f"/api/v1/events/{event['id']}/rsvps/", {"status": "maybe"}).status_code == 400
    counts = owner_api.get(f"/api/v1/events/{event['id']}/counts/").json()
    assert counts["total"] == {"invited": 0, "yes": 1, "no": 0, "waitlist": 1, "reminded": 0, "checked_in": 1}
    assert counts["by_region"]["Washington"]["waitlist"] == 1

    with schema_context(world.alice.schema_name):
        names = list(WebhookEvent.objects.order_by("id").values_list("name", flat=True))
        assert names == ["event.rsvp", "event.rsvp", "event.checked_in"]
        payload = WebhookEvent.objects.filter(name="event.rsvp").order_by("id").last().payload
        assert payload["member"] == {"id": second.pk, "phone": second.phone}
        assert payload["status"] == "waitlisted" and payload["event"] == event["id"]
        # An erased member's RSVPs go, and the payloads about them are scrubbed.
        member_erase(member=first, source="api")
        assert not Event.objects.get(pk=event["id"]).rsvps.filter(member_id=first.pk).exists()
        erased = WebhookEvent.objects.filter(name="event.checked_in").get().payload
        assert erased == {"member": {"id": first.pk}, "erased": True}


def test_an_alert_through_the_api_is_a_broadcast_with_the_rsvp_instruction(world, owner_api):
    event = owner_api.post("/api/v1/events/", _body()).json()
    response = owner_api.post(
        f"/api/v1/events/{event['id']}/alert/",
        {"filter": {"near": {"lat": SURREY[0], "lon": SURREY[1], "km": 25}}},
    )
    assert response.status_code == 201, response.content
    assert response.json()["body"].startswith("Alice Martin: Town hall")
    with schema_context(world.alice.schema_name):
        alert = Event.objects.get(pk=event["id"]).alerts.get()
        assert alert.broadcast.suffixes["fr"] == "Répondez OUI ou NON."
        assert alert.broadcast.suffixes["de"] == "Reply YES or NO."  # not one of the event's languages
    bad = owner_api.post(f"/api/v1/events/{event['id']}/alert/", {"filter": {"near": {"km": 25}}})
    assert bad.status_code == 400


def test_another_leaders_token_never_sees_alices_events(world, owner_api):
    event = owner_api.post("/api/v1/events/", _body()).json()
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    assert bob.get(f"/api/v1/events/{event['id']}/").status_code == 404
    assert bob.get("/api/v1/events/").json()["results"] == []
