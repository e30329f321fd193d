"""One filter language (docs/broadcasts.md) for the API, the console and `manage.py broadcast`: the same
keys select the same members wherever they are written, the radius filter ("within N km of a place")
included. Through HTTP for the API and the console, through call_command for the command."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests import builders
from tests.api.conftest import Api
from tests.console.conftest import client_for
from tests.places import LAVAL_QC, LONGUEUIL, MONTREAL, OTTAWA, TORONTO

pytestmark = pytest.mark.django_db


@pytest.fixture
def around_montreal(world):
    """A tag of the test's own on fans in and around Montréal (within 30 km) and farther away."""
    tag = builders.new_tag()
    fans = {place.name: builders.fan(leader=world.alice, place=place, tag=tag).pk for place in PLACES}
    return tag, {fans["Montréal"], fans["Laval"], fans["Longueuil"]}, fans


PLACES = (MONTREAL, LAVAL_QC, LONGUEUIL, OTTAWA, TORONTO)


def _listed(api: Api, params: dict) -> set[int]:
    response = api.get("/api/v1/members/", params)
    assert response.status_code == 200, response.content
    return {member["id"] for member in response.json()["results"]}


def test_the_members_listing_takes_the_radius_filter_as_the_broadcasts_write_it(manager_api, around_montreal):
    tag, near, fans = around_montreal
    by = {"tags_any": tag, "near[km]": "30"}
    assert _listed(manager_api, {**by, "near[city]": "Montréal"}) == near
    assert _listed(manager_api, {**by, "near[place_id]": str(MONTREAL.geoname_id)}) == near
    assert _listed(manager_api, {**by, "near[lat]": "45.50884", "near[lon]": "-73.58781"}) == near
    assert (
        len(_listed(manager_api, {"tags_any": tag, "near[city]": "Montréal", "near[km]": "200"})) == 4
    )  # Ottawa
    # The broadcasts' other keys too: cities (repeated, a country after a comma), tags_all, and `tags`, the
    # API's earlier name for tags_any.
    assert _listed(manager_api, {"cities": ["Laval, CA", "Longueuil"], "tags_all": tag}) == {
        fans["Laval"],
        fans["Longueuil"],
    }
    assert _listed(manager_api, {"tags": tag, "near[city]": "Montréal", "near[km]": "30"}) == near


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near[city]": "Montréal"}, "near"),  # no distance
        ({"near[km]": "30"}, "near"),  # no place
        ({"near[km]": "0", "near[city]": "Montréal"}, "near"),
        ({"near[km]": "2001", "near[city]": "Montréal"}, "near"),
        ({"near[km]": "thirty", "near[city]": "Montréal"}, "near"),
        ({"near[km]": "30", "near[city]": "Nowhereville Qqq"}, "near"),
        ({"near[km]": "30", "near[lat]": "91", "near[lon]": "0"}, "near"),
        ({"near[km]": "30", "near[town]": "Montréal"}, "near"),
        ({"cities": "Nowhereville Qqq"}, "cities"),
        ({"countries": "U1"}, "countries"),
        ({"tags_all": "a,,b"}, "tags_all"),
    ],
)
def test_a_bad_radius_or_city_in_the_listing_is_a_400_naming_it(manager_api, params, field):
    response = manager_api.get("/api/v1/members/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_the_api_the_console_and_the_command_count_the_same_audience_for_one_filter(
    world, manager_api, around_montreal
):
    tag, near, _fans = around_montreal
    preview = manager_api.post(
        "/api/v1/audience/preview/", {"filter": {"tags_any": [tag], "near": {"city": "Montréal", "km": 30}}}
    )
    assert preview.status_code == 200, preview.content
    answer = preview.json()
    assert answer["count"] == len(near)
    # Normalised as the broadcast engine stores it: the place and its coordinates.
    assert answer["filter"] == {
        "tags_any": [tag],
        "near": {
            "lat": MONTREAL.latitude,
            "lon": MONTREAL.longitude,
            "km": 30.0,
            "place_id": MONTREAL.geoname_id,
        },
    }
    # The normalised filter, as the API answered it, means the same thing to the command line...
    out = io.StringIO()
    call_command("broadcast", "alice", "preview", "--filter", json.dumps(answer["filter"]), stdout=out)
    assert out.getvalue().startswith(f"{len(near)} members")
    # ... to the API again ...
    again = manager_api.post("/api/v1/audience/preview/", {"filter": answer["filter"]}).json()
    assert again["count"] == len(near) and again["filter"] == answer["filter"]
    # ... and to the console's composer, whose form writes the same JSON.
    count = client_for(world.alice, "mark").get(
        "/broadcasts/new/count.json", {"near_place": "Montréal", "near_km": "30", "tags_any": tag}
    )
    assert count.status_code == 200 and count.json()["count"] == len(near)


def test_a_broadcast_to_everyone_within_n_km_of_a_place_is_created_through_the_api(
    world, manager_api, around_montreal
):
    tag, near, _fans = around_montreal
    response = manager_api.post(
        "/api/v1/broadcasts/",
        {
            "body": "Rally at the Old Port!",
            "filter": {"tags_any": [tag], "near": {"place_id": MONTREAL.geoname_id, "km": 30}},
        },
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["filter"]["near"]["place_id"] == MONTREAL.geoname_id
    shown = manager_api.get(f"/api/v1/broadcasts/{created['id']}/").json()
    assert shown["filter"] == created["filter"]


@pytest.mark.parametrize(
    "name", ["countries", "cities", "tags_any", "age_min", "joined_after", "status", "near[km]"]
)
def test_an_empty_parameter_is_refused_rather_than_read_as_any(manager_api, name):
    """The schema says a list has a value and a number is a number: leaving the parameter out means any."""
    response = manager_api.get("/api/v1/members/", {name: ""})
    assert response.status_code == 400, response.content
    assert name.split("[")[0] in response.json()["error"]["fields"]
    assert manager_api.get("/api/v1/members/", {"q": ""}).status_code == 200


def test_a_zone_offset_postgresql_would_refuse_is_read_in_utc(manager_api):
    # ISO 8601 (and Python) allow offsets up to ±23:59, PostgreSQL only ±15:59: this was a 500.
    assert (
        manager_api.get("/api/v1/members/", {"joined_after": "2026-05-01T09:00:00+17:32"}).status_code == 200
    )
    preview = manager_api.post(
        "/api/v1/audience/preview/", {"filter": {"joined_before": "2026-05-01T09:00:00+17:32"}}
    )
    assert (
        preview.status_code == 200
        and preview.json()["filter"]["joined_before"] == "2026-04-30T15:28:00+00:00"
    )
    created = manager_api.post(
        "/api/v1/broadcasts/",
        {
            "body": "Later",
            "filter": {"tags_any": [builders.new_tag()]},
            "send_at": "2999-05-01T09:00:00+17:32",
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["send_at"] == "2999-04-30T15:28:00Z"
