"""The Districts page (owners and managers) and the member page's volunteer action, through the console's
HTTP pages on alice's host: cities and regions typed as people write them, clear form errors (never a 500),
overlaps named, a volunteer made by a teammate and texted in their language."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from districts.models import District, Placement, Volunteer
from districts.services import member_volunteer
from messaging.models import Conversation, Message
from messaging.texts import auto_text
from tests import builders
from tests.districts.helpers import district, teammate
from tests.places import MONTREAL, TORONTO

pytestmark = pytest.mark.django_db


def test_responders_cannot_open_districts_and_the_menu_lists_them_for_managers(rita, mark):
    assert rita.get("/districts/").status_code == 403
    page = mark.get("/districts/")
    assert page.status_code == 200
    assert 'href="/districts/"' in page.content.decode()


def test_a_manager_adds_a_district_from_typed_cities_and_regions(mark, world):
    with schema_context(world.alice.schema_name):
        coordinator = teammate()

    answer = mark.post(
        "/districts/",
        {
            "name": "Island",
            "places": "Montréal\nLaval, QC\n",
            "regions": "on",
            "coordinators": [coordinator.pk],
        },
    )

    assert answer.status_code == 302, answer.content.decode()[:2000]
    with schema_context(world.alice.schema_name):
        island = District.objects.get(name="Island")
        assert island.place_ids == [MONTREAL.geoname_id, 6050610]
        assert island.place_labels[0] == "Montréal, Quebec, Canada"
        assert island.regions == ["Ontario"]
        assert list(island.coordinators.all()) == [coordinator]
    listing = mark.get("/districts/").content.decode()
    assert "Montréal, Quebec, Canada" in listing and coordinator.username in listing


def test_bad_input_gets_form_errors_on_its_fields(mark, world):
    with schema_context(world.alice.schema_name):
        district("Plateau", places=[MONTREAL])

    answer = mark.post(
        "/districts/",
        {
            "name": "PLATEAU",
            "places": "Xyzzyville\n",
            "regions": "Atlantis\nJalisco",
            "coordinators": ["999999"],
        },
    )

    assert answer.status_code == 400
    page = answer.content.decode()
    assert "No city called “Xyzzyville”" in page
    assert "Choose coordinators from the list." in page
    answer = mark.post("/districts/", {"name": "PLATEAU", "places": "", "regions": "Atlantis\nJalisco"})
    page = answer.content.decode()
    assert answer.status_code == 400
    assert "Another district is called PLATEAU." in page
    assert "No region is called Atlantis." in page
    assert "Jalisco is not a region of your accepted countries (CA, US)." in page


def test_overlapping_districts_are_named_on_the_page_and_editing_or_deleting_them_works(mark, world):
    with schema_context(world.alice.schema_name):
        plateau = district("Plateau", places=[MONTREAL])
        district("All Quebec", regions=["Quebec"])

    page = mark.get("/districts/").content.decode()
    assert "Places in several districts" in page
    assert "Montréal, Quebec, Canada: Plateau, All Quebec" in page

    edit = mark.get(f"/districts/{plateau.pk}/").content.decode()
    assert "Montréal, Quebec, Canada" in edit
    answer = mark.post(
        f"/districts/{plateau.pk}/", {"name": "Toronto", "places": "Toronto, ON", "regions": ""}
    )
    assert answer.status_code == 302
    plateau.refresh_from_db()
    assert (plateau.name, plateau.place_ids) == ("Toronto", [TORONTO.geoname_id])
    assert "Places in several districts" not in mark.get("/districts/").content.decode()

    assert mark.post(f"/districts/{plateau.pk}/delete/").status_code == 302
    with schema_context(world.alice.schema_name):
        assert not District.objects.filter(pk=plateau.pk).exists()
    assert mark.post("/districts/999999/delete/").status_code == 404


def test_a_manager_makes_a_member_a_volunteer_from_the_member_page(mark, world):
    with schema_context(world.alice.schema_name):
        coordinator = teammate()
        district("Plateau", places=[MONTREAL], coordinators=[coordinator])
        fan = builders.fan(place=MONTREAL, language="de")

    page = mark.get(f"/members/{fan.pk}/").content.decode()
    assert "District: Plateau" in page and "Make a volunteer" in page

    answer = mark.post(f"/districts/volunteer/{fan.pk}/", {"action": "add"}, follow=True)

    page = answer.content.decode()
    assert f"Now a volunteer of Plateau: their conversation is with {coordinator.username}" in page
    assert "No longer a volunteer" in page
    with schema_context(world.alice.schema_name):
        volunteer = Volunteer.objects.get(member=fan)
        assert (volunteer.source, volunteer.added_by.username, volunteer.placement) == (
            "console",
            "mark",
            Placement.INSIDE,
        )
        assert Conversation.objects.get(phone=fan.phone).assigned_to == coordinator
        sent = Message.objects.get(phone=fan.phone, direction=Message.Direction.OUTBOUND)
        assert sent.body == auto_text(
            "volunteer_district", language="de", leader=world.alice, district="Plateau"
        )

    mark.post(f"/districts/volunteer/{fan.pk}/", {"action": "remove"})
    with schema_context(world.alice.schema_name):
        assert not Volunteer.objects.filter(member=fan).exists()


def test_an_opted_out_member_cannot_be_made_a_volunteer(mark, world):
    with schema_context(world.alice.schema_name):
        fan = builders.fan(place=MONTREAL, status="opted_out")

    page = mark.get(f"/members/{fan.pk}/").content.decode()
    assert "Make a volunteer" not in page
    answer = mark.post(f"/districts/volunteer/{fan.pk}/", {"action": "add"}, follow=True)
    assert "they cannot volunteer until they text START" in answer.content.decode()
    with schema_context(world.alice.schema_name):
        assert not Volunteer.objects.filter(member=fan).exists()
        assert not Message.objects.filter(phone=fan.phone).exists()


def test_volunteers_without_a_district_wait_in_the_inbox_volunteers_folder_for_managers(mark, world):
    with schema_context(world.alice.schema_name):
        district("Plateau", places=[MONTREAL], coordinators=[teammate()])
        district("Quebec", regions=["Quebec"])
        lost = builders.fan(place=MONTREAL, first_name="Lucie")
        far = builders.fan(place=TORONTO, first_name="Tariq")
        plain = builders.fan(place=TORONTO, first_name="Paulo")
        builders.conversation(member=plain)
        for fan in (lost, far):
            member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)

    folder = mark.get("/inbox/?folder=volunteers").content.decode()

    assert "Lucie" in folder and "Volunteer · several districts" in folder
    assert "Tariq" in folder and "Volunteer · no district" in folder
    assert "Paulo" not in folder
    districts_page = mark.get("/districts/").content.decode()
    assert "Volunteers without a district (in none, or in several): 2." in districts_page
