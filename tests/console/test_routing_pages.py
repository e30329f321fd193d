"""The routing pages: teams and ordered rules, for owners and managers; display names; bad input answered
with the form's error and nothing saved."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from tests.console.conftest import client_for
from topics.models import Topic
from triage.models import Rule, Team


def _name(prefix: str = "Team") -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def _ids(world, *usernames) -> list[int]:
    with schema_context(world.alice.schema_name):
        return [User.objects.get(username=name).pk for name in usernames]


def test_only_owners_and_managers_reach_the_routing_pages(world, olivia, mark, rita):
    assert olivia.get("/routing/").status_code == 200
    assert mark.get("/routing/").status_code == 200
    assert rita.get("/routing/").status_code == 403
    assert rita.post("/routing/teams/new/", {"name": "Sneaky"}).status_code == 403
    anonymous = client_for(world.alice)
    assert anonymous.get("/routing/").status_code == 302
    assert 'href="/routing/"' in mark.get("/").content.decode()
    assert 'href="/routing/"' not in rita.get("/").content.decode()


def test_a_manager_makes_a_team_of_teammates_then_renames_it(world, mark, in_alice):
    name = _name("Health")
    response = mark.post("/routing/teams/new/", {"name": f"  {name} ", "users": _ids(world, "rita", "mark")})
    assert response.status_code == 302
    team = Team.objects.get(name=name)
    assert sorted(team.users.values_list("username", flat=True)) == ["mark", "rita"]
    page = mark.get("/routing/").content.decode()
    assert name in page

    renamed = _name("Santé")
    response = mark.post(f"/routing/teams/{team.pk}/", {"name": renamed, "users": _ids(world, "rita")})
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == renamed and list(team.users.values_list("username", flat=True)) == ["rita"]


@pytest.mark.parametrize(
    "users",
    [[999_999_999], ["not-a-number"]],
    ids=["an id no teammate has", "not an id"],
)
def test_a_team_with_an_unknown_teammate_is_refused_and_nothing_is_saved(world, mark, in_alice, users):
    name = _name()
    response = mark.post("/routing/teams/new/", {"name": name, "users": _ids(world, "rita") + users})
    assert response.status_code == 400
    assert "Choose teammates from the list." in response.content.decode()
    assert not Team.objects.filter(name=name).exists()


def test_another_leaders_teammate_cannot_join_a_team(world, mark, in_alice):
    with schema_context(world.bob.schema_name):
        bruno = User.objects.get(username="bruno").pk
    if User.objects.filter(pk=bruno).exists():  # the same id may be someone of alice's: use one above all
        bruno = User.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    name = _name()
    response = mark.post("/routing/teams/new/", {"name": name, "users": [bruno]})
    assert response.status_code == 400
    assert not Team.objects.filter(name=name).exists()


def test_a_team_needs_a_name_of_its_own(mark, in_alice):
    taken = Team.objects.create(name=_name())
    assert mark.post("/routing/teams/new/", {"name": "   "}).status_code == 400
    response = mark.post("/routing/teams/new/", {"name": taken.name.upper()})
    assert response.status_code == 400
    assert "A team with this name already exists." in response.content.decode()
    assert Team.objects.filter(name__iexact=taken.name).count() == 1


def test_a_rule_routes_a_topic_and_region_to_a_team_with_a_response_time(mark, in_alice):
    team = Team.objects.create(name=_name())
    topic = Topic.objects.create(name=_name("Water"))
    response = mark.post(
        "/routing/rules/new/",
        {"topic": topic.pk, "country": "mx", "region": "jalisco", "team": team.pk, "response_minutes": "90"},
    )
    assert response.status_code == 302
    rule = Rule.objects.get(team=team)
    # Stored as triage names a text's place: the gazetteer's name, the country's code.
    assert (rule.topic, rule.country, rule.region, rule.response_minutes) == (topic, "MX", "Jalisco", 90)
    page = mark.get("/routing/").content.decode()
    assert "Jalisco, MX" in page and "90 min" in page


@pytest.mark.parametrize(
    "data, error",
    [
        ({"country": "US"}, "Choose the team this rule routes to."),
        ({"team": "TEAM", "response_minutes": "-5"}, "Ensure this value is greater than or equal to 1."),
        ({"team": "TEAM", "response_minutes": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"team": "TEAM", "response_minutes": "soon"}, "Enter a whole number."),
        ({"team": "TEAM", "region": "Jalisco"}, "Give the region&#x27;s country too."),
        ({"team": "TEAM", "country": "M1"}, "A country is a two-letter code (US, CA, MX)."),
        ({"team": "TEAM", "country": "MX", "region": "Atlantis"}, "No region is called “Atlantis”."),
        ({"team": "999999999"}, "Select a valid choice."),
        ({"team": "TEAM", "topic": "999999999"}, "Select a valid choice."),
    ],
)
def test_a_bad_rule_is_refused_with_its_reason_and_nothing_is_saved(mark, in_alice, data, error):
    team = Team.objects.create(name=_name())
    data = {name: (str(team.pk) if value == "TEAM" else value) for name, value in data.items()}
    before = Rule.objects.count()
    response = mark.post("/routing/rules/new/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert Rule.objects.count() == before


def test_rules_are_moved_up_and_down_edited_and_deleted(mark, in_alice):
    team = Team.objects.create(name=_name())
    for country in ("US", "CA", "MX"):
        assert mark.post("/routing/rules/new/", {"team": team.pk, "country": country}).status_code == 302

    def order():
        return list(Rule.objects.filter(team=team).values_list("country", flat=True))

    assert order() == ["US", "CA", "MX"]
    mx = Rule.objects.get(team=team, country="MX")
    assert mark.post(f"/routing/rules/{mx.pk}/move/", {"direction": "up"}).status_code == 302
    assert order() == ["US", "MX", "CA"]
    us = Rule.objects.get(team=team, country="US")
    mark.post(f"/routing/rules/{us.pk}/move/", {"direction": "down"})
    assert order() == ["MX", "US", "CA"]
    mark.post(f"/routing/rules/{us.pk}/move/", {"direction": "sideways"})
    assert order() == ["MX", "US", "CA"]

    assert mark.get(f"/routing/rules/{us.pk}/").status_code == 200
    response = mark.post(
        f"/routing/rules/{us.pk}/", {"team": team.pk, "country": "FR", "response_minutes": "30"}
    )
    assert response.status_code == 302
    assert order() == ["MX", "FR", "CA"]
    assert mark.post(f"/routing/rules/{us.pk}/", {"team": "", "country": "DE"}).status_code == 400
    assert order() == ["MX", "FR", "CA"]

    assert mark.post(f"/routing/rules/{us.pk}/delete/").status_code == 302
    assert order() == ["MX", "CA"]
    assert mark.post(f"/routing/teams/{team.pk}/delete/").status_code == 302
    assert not Rule.objects.filter(team_id=team.pk).exists() and not Team.objects.filter(pk=team.pk).exists()
    assert mark.get(f"/routing/rules/{us.pk}/").status_code == 404


def test_each_teammate_names_themselves_and_an_owner_names_anyone(world, olivia, rita, in_alice):
    response = rita.post("/routing/name/", {"display_name": "  Dr.  Amina Diallo, MP "})
    assert response.status_code == 302 and response["Location"] == "/password/"
    assert User.objects.get(username="rita").display_name == "Dr. Amina Diallo, MP"
    assert "Dr. Amina Diallo, MP" in rita.get("/password/").content.decode()

    mark_id = User.objects.get(username="mark").pk
    assert rita.post(f"/routing/name/{mark_id}/", {"display_name": "Boss"}).status_code == 403
    assert olivia.post(f"/routing/name/{mark_id}/", {"display_name": "Mark, MP"}).status_code == 302
    assert User.objects.get(username="mark").display_name == "Mark, MP"
    assert 'value="Mark, MP"' in olivia.get("/team/").content.decode()
    assert olivia.post(f"/routing/name/{mark_id}/", {"display_name": "x" * 81}).status_code == 302
    assert User.objects.get(username="mark").display_name == "Mark, MP"
