"""Districts and volunteers through their services: a member's district follows from their place (a place in
several districts is unknown, never guessed), a volunteer's conversation goes to their district's least
loaded coordinator with a confirmation in their language, and a STOP ends volunteering."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from console.team.services import team_member_update
from districts.models import District, Placement, Volunteer
from districts.services import NotReachableError, district_delete, district_save, member_volunteer
from members.consent import member_opt_out
from members.services import member_erase
from messaging.models import Conversation, Message
from messaging.texts import auto_text
from tests import builders
from tests.districts.helpers import district, teammate
from tests.places import LAVAL_QC, MONTREAL, OTTAWA, TORONTO


def test_a_members_district_is_the_one_that_lists_their_place_or_region(alice_schema):
    plateau = district("Plateau", places=[MONTREAL])
    ontario = district("Ontario side", regions=["ON"])

    assert District.objects.of_member(builders.fan(place=MONTREAL)).district == plateau
    assert District.objects.of_member(builders.fan(place=TORONTO)).district == ontario
    outside = District.objects.of_member(builders.fan(place=LAVAL_QC))
    assert (outside.placement, outside.district) == (Placement.OUTSIDE, None)
    unknown_city = District.objects.of_member(builders.fan(place=None))
    assert unknown_city.placement == Placement.OUTSIDE


def test_a_place_in_several_districts_is_unknown_never_guessed(alice_schema):
    district("Plateau", places=[MONTREAL])
    district("All Quebec", regions=["Québec"])

    found = District.objects.of_member(builders.fan(place=MONTREAL))

    assert found.placement == Placement.SEVERAL
    assert found.district is None
    assert found.candidates == ("All Quebec", "Plateau")
    # Laval is only in the region's district.
    assert District.objects.of_member(builders.fan(place=LAVAL_QC)).district.name == "All Quebec"


def test_district_errors_are_clear_and_all_at_once(alice_schema):
    district("Plateau", places=[MONTREAL])
    owner_gone = teammate("owner", is_active=False)

    with pytest.raises(ValidationError) as caught:
        district_save(
            name="plateau", place_ids=[999999999], regions=["Atlantis"], coordinator_ids=[owner_gone.pk]
        )

    errors = caught.value.message_dict
    assert errors["name"] == ["Another district is called plateau."]
    assert errors["places"] == ["No place has the id 999999999."]
    assert errors["regions"] == ["No region is called Atlantis."]
    assert errors["coordinators"] == ["Coordinators must be active teammates."]
    with pytest.raises(ValidationError) as caught:
        district_save(name="Empty")
    assert caught.value.message_dict["places"] == ["A district needs at least one place or region."]
    with pytest.raises(ValidationError) as caught:
        district_save(name="Far", regions=["Jalisco"], countries=["US", "CA"])
    assert "not a region of your accepted countries" in caught.value.message_dict["regions"][0]


def test_a_volunteer_goes_to_the_least_loaded_coordinator_and_is_told_in_their_language(alice_schema, world):
    busy, idle = teammate(), teammate()
    for _ in range(2):
        builders.conversation(assigned_to=busy)
    district("Plateau", places=[MONTREAL], coordinators=[busy, idle])
    fan = builders.fan(place=MONTREAL, language="fr")

    done = member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)

    assert done.created and done.coordinator == idle
    conversation = Conversation.objects.get(phone=fan.phone)
    assert conversation.assigned_to == idle
    volunteer = Volunteer.objects.get(member=fan)
    assert (volunteer.district.name, volunteer.placement, volunteer.source) == (
        "Plateau",
        "inside",
        "console",
    )
    (sent,) = Message.objects.filter(phone=fan.phone, direction=Message.Direction.OUTBOUND)
    assert sent.body == auto_text("volunteer_district", language="fr", leader=world.alice, district="Plateau")
    assert sent.conversation == conversation
    # Twice is once: no second text, the coordinator keeps them.
    again = member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.API)
    assert not again.created and again.coordinator == idle
    assert Message.objects.filter(phone=fan.phone, direction=Message.Direction.OUTBOUND).count() == 1


def test_a_volunteer_without_a_district_stays_with_whoever_has_them_and_hears_from_the_team(
    alice_schema, world
):
    coordinator = teammate()
    district("Plateau", places=[MONTREAL], coordinators=[coordinator])
    district("Quebec", regions=["Quebec"], coordinators=[coordinator])
    fan = builders.fan(place=MONTREAL)

    done = member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)

    assert done.coordinator is None
    assert done.volunteer.placement == Placement.SEVERAL
    assert Conversation.objects.get(phone=fan.phone).assigned_to is None
    sent = Message.objects.get(phone=fan.phone, direction=Message.Direction.OUTBOUND)
    assert sent.body == auto_text("volunteer_team", language="en", leader=world.alice)


def test_redrawing_a_district_moves_its_volunteers_to_its_coordinator(alice_schema, world):
    first, second = teammate(), teammate()
    ottawa = district("Ottawa", places=[OTTAWA], coordinators=[first])
    fan = builders.fan(place=TORONTO)
    member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)
    assert Volunteer.objects.get(member=fan).placement == Placement.OUTSIDE

    district_save(district=ottawa, name="Ontario", regions=["Ontario"], coordinator_ids=[second.pk])

    volunteer = Volunteer.objects.get(member=fan)
    assert volunteer.district == ottawa and volunteer.placement == Placement.INSIDE
    assert Conversation.objects.get(phone=fan.phone).assigned_to == second

    district_delete(district=ottawa)
    volunteer.refresh_from_db()
    assert (volunteer.district, volunteer.placement) == (None, Placement.OUTSIDE)
    assert Conversation.objects.get(phone=fan.phone).assigned_to == second  # nobody takes work away


def test_stop_ends_volunteering_and_an_opted_out_member_cannot_be_made_one(alice_schema, world):
    district("Plateau", places=[MONTREAL], coordinators=[teammate()])
    fan = builders.fan(place=MONTREAL)
    member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)

    member_opt_out(member=fan, source="sms_keyword", detail="STOP", text="stopped")

    assert not Volunteer.objects.filter(member=fan).exists()
    with pytest.raises(NotReachableError):
        member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)
    assert not Volunteer.objects.filter(member=fan).exists()


def test_an_erased_volunteer_is_no_volunteer(alice_schema, world):
    district("Plateau", places=[MONTREAL], coordinators=[teammate()])
    fan = builders.fan(place=MONTREAL)
    member_volunteer(leader=world.alice, member=fan, source=Volunteer.Source.CONSOLE)

    member_erase(member=fan, source="console")

    assert not Volunteer.objects.filter(member_id=fan.pk).exists()


def test_a_deactivated_coordinators_volunteers_go_to_the_districts_other_coordinator(alice_schema, world):
    leaving, staying = teammate(), teammate()
    for _ in range(3):
        builders.conversation(assigned_to=staying)
    district("Plateau", places=[MONTREAL], coordinators=[leaving, staying])
    fan = builders.fan(place=MONTREAL)
    assert member_volunteer(leader=world.alice, member=fan, source="console").coordinator == leaving

    olivia = User.objects.get(username="olivia")
    team_member_update(actor=olivia, user=leaving, role="responder", is_active=False)

    assert Conversation.objects.get(phone=fan.phone).assigned_to == staying
