"""The pilot and its waitlist through the API (owners): settings/ shows the pilot's regions, waitlist/ counts
the waitlist by region, waitlist/open/ opens regions or everywhere and invites their waitlist once."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.models import WaitlistEntry
from signup.waitlist import TASK
from tests.queue import queue_clear, run_queued

BROADCASTS = "broadcasts"


@pytest.fixture
def pilot(db, world, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    queue_clear(BROADCASTS)
    Leader.objects.filter(pk=world.alice.pk).update(pilot_regions=["Quebec"], segments_per_second=100)
    with schema_context(world.alice.schema_name):
        WaitlistEntry.objects.create(phone="+14165550181", country="CA", region="Ontario", language="de")
        WaitlistEntry.objects.create(phone="+14165550182", country="CA", region="Ontario")
        WaitlistEntry.objects.create(phone="+16045550183", country="CA", region="British Columbia")
    yield world.alice
    queue_clear(BROADCASTS)


def test_the_settings_show_the_pilots_regions(pilot, owner_api):
    assert owner_api.get("/api/v1/settings/").json()["pilot_regions"] == ["Quebec"]


def test_the_waitlist_is_counted_by_region(pilot, owner_api):
    body = owner_api.get("/api/v1/waitlist/").json()

    assert body == {
        "pilot_regions": ["Quebec"],
        "waiting": 3,
        "invited": 0,
        "regions": [
            {"country": "CA", "region": "Ontario", "waiting": 2, "invited": 0, "open": False},
            {"country": "CA", "region": "British Columbia", "waiting": 1, "invited": 0, "open": False},
        ],
    }


def test_only_owners_reach_the_waitlist(pilot, manager_api, responder_api):
    for api in (manager_api, responder_api):
        assert api.get("/api/v1/waitlist/").status_code == 403
        assert api.post("/api/v1/waitlist/open/", {"regions": ["Ontario"]}).status_code == 403
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec"]


def test_opening_a_region_invites_its_waitlist_once(
    pilot, owner_api, twilio, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post("/api/v1/waitlist/open/", {"regions": ["on"]})

    assert response.status_code == 200
    assert response.json()["opened"] == ["Ontario"]
    assert response.json()["pilot_regions"] == ["Quebec", "Ontario"]
    run_queued(TASK, BROADCASTS)
    assert sorted(message["to"] for message in twilio.messages) == ["+14165550181", "+14165550182"]
    assert any("Wir sind jetzt bei dir!" in message["body"] for message in twilio.messages)

    with django_capture_on_commit_callbacks(execute=True):
        again = owner_api.post("/api/v1/waitlist/open/", {"regions": ["Ontario"]})
    run_queued(TASK, BROADCASTS)
    assert again.json()["opened"] == [] and len(twilio.messages) == 2
    ontario = owner_api.get("/api/v1/waitlist/").json()["regions"][-1]
    assert ontario == {"country": "CA", "region": "Ontario", "waiting": 0, "invited": 2, "open": True}


def test_opening_everywhere_ends_the_pilot(pilot, owner_api, twilio, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post("/api/v1/waitlist/open/", {"everywhere": True})

    assert response.json()["opened"] == ["*"] and response.json()["pilot_regions"] == []
    run_queued(TASK, BROADCASTS)
    assert len(twilio.messages) == 3


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"regions": ["Narnia"]}, "regions", "No region is called Narnia."),
        ({"regions": ["Jalisco"], "everywhere": True}, "regions", "Jalisco is not a region of your accepted"),
        ({"everywhere": "yes"}, "everywhere", ""),
        ({"regions": "Ontario"}, "regions", ""),
    ],
)
def test_bad_input_is_a_400_that_names_the_field_and_opens_nothing(pilot, owner_api, body, field, message):
    response = owner_api.post("/api/v1/waitlist/open/", body)

    assert response.status_code == 400
    details = response.json()["error"]["fields"]
    assert field in details and message in " ".join(details[field])
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec"]
