"""The signup form during a pilot: a city outside the pilot's regions is refused with a translated error
(and the phone waitlisted for its region); a city the gazetteer cannot place asks for the nearest town; a
member updating their details is in already."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.models import Member, WaitlistEntry
from tests import builders
from tests.signup.helpers import link_issue, valid_form
from tests.signup.test_join_page import errors_of, member_of, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def pilot(world):
    leader = world.alice
    leader.pilot_regions = ["Quebec"]
    leader.save(update_fields=["pilot_regions"])
    leader_cache_clear()
    yield leader
    leader.pilot_regions = []
    leader.save(update_fields=["pilot_regions"])
    leader_cache_clear()


def test_a_city_inside_the_pilot_joins(client, pilot):
    path, phone = link_issue(pilot)

    response = post(client, pilot, path, valid_form(city="Laval"))

    assert response.status_code == 200
    assert member_of(pilot, phone).region == "Quebec"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "We're not in Ontario yet. We'll text you when we are."),
        ("fr", "Nous ne sommes pas encore en Ontario. Nous vous écrirons dès que ce sera le cas."),
        ("es", "Aún no estamos en Ontario. Te escribiremos cuando lleguemos."),
        ("de", "Wir sind noch nicht in Ontario. Wir schreiben dir, sobald es so weit ist."),
        ("ar", "لسنا في Ontario بعد. سنراسلك عندما نصل."),
    ],
)
def test_a_city_outside_the_pilot_is_refused_in_the_fans_language_and_waitlisted(
    client, pilot, language, expected
):
    path, phone = link_issue(pilot, language=language)

    response = post(client, pilot, path, valid_form(city="Toronto"))

    assert response.status_code == 400
    assert errors_of(response)["city"] == expected
    assert member_of(pilot, phone) is None
    with schema_context(pilot.schema_name):
        entry = WaitlistEntry.objects.get(phone=phone)
    assert (entry.country, entry.region, entry.language, entry.invited_at) == (
        "CA",
        "Ontario",
        language,
        None,
    )


def test_the_link_still_works_for_a_city_inside_after_the_refusal(client, pilot):
    path, phone = link_issue(pilot)
    post(client, pilot, path, valid_form(city="Toronto"))

    response = post(client, pilot, path, valid_form(city="Montréal"))

    assert response.status_code == 200
    assert member_of(pilot, phone).city == "Montréal"


def test_a_city_the_gazetteer_cannot_place_asks_for_the_nearest_town(client, pilot):
    path, phone = link_issue(pilot, language="fr")

    response = post(client, pilot, path, valid_form(city="Saint-Nulle-Part-des-Bois"))

    assert response.status_code == 400
    assert errors_of(response)["city"] == (
        "Nous ne trouvons pas cette ville. Choisissez-la dans la liste, ou tapez la ville la plus proche."
    )
    assert member_of(pilot, phone) is None
    with schema_context(pilot.schema_name):
        assert not WaitlistEntry.objects.filter(phone=phone).exists()


def test_a_member_updating_their_details_may_live_anywhere(client, pilot):
    member = builders.member(leader=pilot, first_name="Ana")
    path, _ = link_issue(pilot, phone=member.phone)

    response = post(client, pilot, path, valid_form(city="Toronto"))

    assert response.status_code == 200
    with schema_context(pilot.schema_name):
        assert Member.objects.get(pk=member.pk).region == "Ontario"


def test_without_a_pilot_any_city_joins(client, world):
    path, phone = link_issue(world.alice)

    assert post(client, world.alice, path, valid_form(city="Toronto")).status_code == 200
    assert member_of(world.alice, phone).region == "Ontario"
