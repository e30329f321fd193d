"""Districts and a member's volunteering through the API: owners and managers write them with the console's
rules and errors (400 on the field, never a 500); responders are refused; an opted-out member is a 409;
bob's token never sees alice's districts."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from districts.models import Volunteer
from messaging.models import Conversation
from tests import builders
from tests.api.conftest import Api, token_for
from tests.districts.helpers import district, teammate
from tests.places import MONTREAL, TORONTO

pytestmark = pytest.mark.django_db


def test_a_manager_creates_changes_lists_and_deletes_a_district(world, manager_api):
    with schema_context(world.alice.schema_name):
        coordinator = teammate()

    created = manager_api.post(
        "/api/v1/districts/",
        {
            "name": "Island",
            "places": [MONTREAL.geoname_id],
            "regions": ["qc"],
            "coordinators": [coordinator.pk],
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["places"] == [{"id": MONTREAL.geoname_id, "label": "Montréal, Quebec, Canada"}]
    assert (body["regions"], body["coordinators"], body["volunteers"]) == (["Quebec"], [coordinator.pk], 0)

    changed = manager_api.patch(f"/api/v1/districts/{body['id']}/", {"regions": []})
    assert changed.status_code == 200
    assert changed.json()["regions"] == [] and changed.json()["coordinators"] == [coordinator.pk]
    assert [row["name"] for row in manager_api.get("/api/v1/districts/").json()] == ["Island"]
    assert manager_api.delete(f"/api/v1/districts/{body['id']}/").status_code == 204
    assert manager_api.get(f"/api/v1/districts/{body['id']}/").status_code == 404


def test_bad_districts_get_400_on_their_fields_and_responders_403(world, manager_api, responder_api):
    answer = manager_api.post(
        "/api/v1/districts/", {"name": "", "places": [1], "regions": ["Atlantis"], "coordinators": [99999]}
    )
    assert answer.status_code == 400
    answer = manager_api.post(
        "/api/v1/districts/", {"name": "X", "places": [1], "regions": ["Atlantis"], "coordinators": [99999]}
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "No place has the id 1." in text and "No region is called Atlantis." in text
    assert "Coordinators must be active teammates." in text
    assert manager_api.post("/api/v1/districts/", {"name": "X", "places": ["Montréal"]}).status_code == 400
    assert responder_api.get("/api/v1/districts/").status_code == 403


def test_a_member_volunteers_through_the_api_and_bob_sees_nothing_of_alice(world, manager_api):
    with schema_context(world.alice.schema_name):
        coordinator = teammate()
        manager_api.post(
            "/api/v1/districts/",
            {"name": "Toronto", "places": [TORONTO.geoname_id], "coordinators": [coordinator.pk]},
        )
        fan = builders.fan(place=TORONTO)
        stopped = builders.fan(place=TORONTO, status="opted_out")

    assert manager_api.get(f"/api/v1/members/{fan.pk}/volunteer/").json()["volunteer"] is False
    answer = manager_api.request("PUT", f"/api/v1/members/{fan.pk}/volunteer/", {})
    assert answer.status_code == 200, answer.content
    assert answer.json() | {"since": None} == {
        "member": fan.pk,
        "volunteer": True,
        "district": "Toronto",
        "placement": "inside",
        "source": "api",
        "since": None,
    }
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(phone=fan.phone).assigned_to == coordinator
    assert manager_api.request("PUT", f"/api/v1/members/{stopped.pk}/volunteer/", {}).status_code == 409
    assert manager_api.delete(f"/api/v1/members/{fan.pk}/volunteer/").status_code == 204
    with schema_context(world.alice.schema_name):
        assert not Volunteer.objects.filter(member=fan).exists()

    bob = Api(world.bob, token_for(world.bob, "bruno"))
    assert bob.get("/api/v1/districts/").json() == []
    # The same id on bob's host is bob's member, if any, and none of bob's members volunteered.
    seen = bob.get(f"/api/v1/members/{fan.pk}/volunteer/")
    assert seen.status_code == 404 or seen.json()["volunteer"] is False
    alice_token = Api(world.bob, manager_api.token)  # alice's token on bob's host is worthless
    assert alice_token.get("/api/v1/districts/").status_code == 401


def test_a_volunteer_who_moves_follows_their_new_districts_coordinator(world, manager_api):
    with schema_context(world.alice.schema_name):
        montreal, toronto = teammate(), teammate()
        district("Plateau", places=[MONTREAL], coordinators=[montreal])
        district("Toronto", places=[TORONTO], coordinators=[toronto])
        fan = builders.fan(place=MONTREAL)
    assert manager_api.request("PUT", f"/api/v1/members/{fan.pk}/volunteer/", {}).status_code == 200

    moved = manager_api.patch(f"/api/v1/members/{fan.pk}/", {"city": "Toronto, ON"})

    assert moved.status_code == 200, moved.content
    assert manager_api.get(f"/api/v1/members/{fan.pk}/volunteer/").json()["district"] == "Toronto"
    with schema_context(world.alice.schema_name):
        assert Conversation.objects.get(phone=fan.phone).assigned_to == toronto
