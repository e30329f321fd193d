"""Workflows of districts and volunteers, in the leader's schema: districts written (checked here, whoever
calls: console, API), a member made a volunteer and their conversation given to their district's coordinator,
volunteers placed again when a district or their place changes, and what a STOP or an erasure removes.

Why a coordinator gets the conversation rather than the member's number: the member texts the leader's
number and the coordinator answers from the console, so neither learns the other's personal number. A
coordinator who is a responder sees members' numbers masked everywhere (console.masking).
"""

from __future__ import annotations

import dataclasses

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from districts.models import District, DistrictOf, Placement, Volunteer, placement_among
from members.models import Member
from messaging.models import Conversation, Message
from messaging.services import text_send
from messaging.texts import auto_text
from places.gazetteer import get_place, region_countries, region_names_for

# The roles that answer texts, so may coordinate (accounts.User.Role; as triage.routing's teams).
COORDINATOR_ROLES = ("owner", "manager", "responder")
# What a survey choice's tag says to make the member who picks it a volunteer (surveys.services).
VOLUNTEER_TAG = "volunteer"


# -- districts ----------------------------------------------------------------------------------------------


def _clean(
    *, district: District | None, name: str, place_ids, regions, coordinator_ids, countries
) -> tuple[str, list, list[str], list]:
    """Every check of a district's fields, all errors at once, keyed by field (the console's form and the
    API's serializer show them on their fields)."""
    errors: dict[str, list[ValidationError]] = {}
    name = " ".join(str(name or "").split())
    if not name:
        errors.setdefault("name", []).append(ValidationError(_("Give the district a name."), code="required"))
    elif len(name) > District.NAME_MAX_LENGTH:
        errors.setdefault("name", []).append(
            ValidationError(
                _("At most %(max)s characters."), code="max_length", params={"max": District.NAME_MAX_LENGTH}
            )
        )
    elif District.objects.filter(name__iexact=name).exclude(pk=district.pk if district else None).exists():
        errors.setdefault("name", []).append(
            ValidationError(_("Another district is called %(name)s."), code="unique", params={"name": name})
        )
    places = []
    for raw in place_ids or []:
        place = get_place(raw) if isinstance(raw, int) and not isinstance(raw, bool) else None
        if place is None:
            errors.setdefault("places", []).append(
                ValidationError(_("No place has the id %(id)s."), code="place_unknown", params={"id": raw})
            )
        elif place not in places:
            places.append(place)
    if len(places) > District.PLACES_MAX:
        errors.setdefault("places", []).append(
            ValidationError(
                _("At most %(max)s places."), code="places_many", params={"max": District.PLACES_MAX}
            )
        )
    found: list[str] = []
    wanted = {country.upper() for country in countries or []}
    for typed in regions or []:
        typed = " ".join(str(typed).split())
        if not typed:
            continue
        known = region_names_for(typed)
        if not known:
            errors.setdefault("regions", []).append(
                ValidationError(
                    _("No region is called %(name)s."), code="region_unknown", params={"name": typed}
                )
            )
            continue
        inside = [region for region in known if not wanted or region_countries(region) & wanted]
        if not inside:
            errors.setdefault("regions", []).append(
                ValidationError(
                    _("%(name)s is not a region of your accepted countries (%(countries)s)."),
                    code="region_elsewhere",
                    params={"name": typed, "countries": ", ".join(sorted(wanted))},
                )
            )
        found.extend(region for region in inside if region not in found)
    if len(found) > District.REGIONS_MAX:
        errors.setdefault("regions", []).append(
            ValidationError(
                _("At most %(max)s regions."), code="regions_many", params={"max": District.REGIONS_MAX}
            )
        )
    if not places and not found and "places" not in errors and "regions" not in errors:
        errors.setdefault("places", []).append(
            ValidationError(_("A district needs at least one place or region."), code="empty")
        )
    wanted_ids = {int(pk) for pk in coordinator_ids or []}
    coordinators = list(
        get_user_model().objects.filter(pk__in=wanted_ids, role__in=COORDINATOR_ROLES, is_active=True)
    )
    if len(coordinators) != len(wanted_ids):
        errors.setdefault("coordinators", []).append(
            ValidationError(_("Coordinators must be active teammates."), code="coordinator_unknown")
        )
    if errors:
        raise ValidationError(errors)
    return name, places, found, coordinators


@transaction.atomic
def district_save(
    *,
    district: District | None = None,
    name: str,
    place_ids=(),
    regions=(),
    coordinator_ids=(),
    countries=(),
) -> District:
    """Create (`district` None) or update a district. `place_ids` are GeoNames ids; `regions` names as people
    write them ("québec", "QC"), stored as the gazetteer's ("Quebec", as `Member.region` holds them), and
    when `countries` (the leader's accepted ones) are given, only regions of those. Volunteers are placed
    again at once: a place added, removed or now shared with another district moves them."""
    name, places, found, coordinators = _clean(
        district=district,
        name=name,
        place_ids=place_ids,
        regions=regions,
        coordinator_ids=coordinator_ids,
        countries=countries,
    )
    district = district or District()
    district.name = name
    district.places_set(places)
    district.regions = found
    try:
        with transaction.atomic():
            district.save()
    except IntegrityError:  # a concurrent save took the name between the check and the insert
        raise ValidationError(
            {"name": [ValidationError(_("Another district is called %(name)s.") % {"name": name})]}
        ) from None
    district.coordinators.set(coordinators)
    volunteers_place()
    return district


@transaction.atomic
def district_delete(*, district: District) -> None:
    """Delete a district; its volunteers stay volunteers and are placed again (in another district that
    covers their place, else in none), keeping whoever has their conversation."""
    district.delete()
    volunteers_place()


# -- volunteers ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Volunteered:
    volunteer: Volunteer
    created: bool  # False: they were a volunteer already
    coordinator: object | None  # the teammate who has their conversation now, when their district's
    conversation: Conversation


class NotReachableError(ValidationError):
    """An opted-out member cannot volunteer through anyone but themselves texting START first."""


def _coordinator_for(district: District | None, *, current_id: int | None):
    """Who of the district's active coordinators gets a volunteer: whoever of them has the conversation
    already, else the one with the fewest open conversations (ties: the earliest teammate, by id)."""
    if district is None:
        return None
    coordinators = list(
        district.coordinators.filter(is_active=True, role__in=COORDINATOR_ROLES).order_by("pk")
    )
    if not coordinators:
        return None
    for coordinator in coordinators:
        if coordinator.pk == current_id:
            return coordinator
    loads = dict(
        Conversation.objects.filter(status=Conversation.Status.OPEN, assigned_to__in=coordinators)
        .values_list("assigned_to")
        .annotate(open=Count("id"))
    )
    return min(coordinators, key=lambda user: (loads.get(user.pk, 0), user.pk))


def _conversation_of(member: Member) -> Conversation:
    """The member's conversation, made when they never texted (a teammate or a survey made them a volunteer):
    the coordinator needs a thread to write in."""
    conversation, _created = Conversation.objects.get_or_create(
        phone=member.phone, defaults={"member": member, "last_message_at": timezone.now()}
    )
    return conversation


def _route(volunteer: Volunteer, member: Member) -> tuple[Conversation, object | None]:
    conversation = Conversation.objects.select_for_update().get(pk=_conversation_of(member).pk)
    coordinator = _coordinator_for(
        volunteer.district if volunteer.has_district else None, current_id=conversation.assigned_to_id
    )
    if coordinator is not None and conversation.assigned_to_id != coordinator.pk:
        Conversation.objects.filter(pk=conversation.pk).update(assigned_to=coordinator)
        conversation.assigned_to = coordinator
    # No district, several, or no active coordinator: the conversation keeps whoever has it (or no one),
    # and the inbox's Volunteers folder marks it "no district" for owners and managers to give out.
    return conversation, coordinator


@transaction.atomic
def member_volunteer(*, leader, member: Member, source: str, by=None, confirm: bool = True) -> Volunteered:
    """`member` volunteers: placed in their district (District.objects.of_member: one district, or none when
    their place is in no district or in several), and their conversation given to that district's
    coordinator, the least loaded when several. `confirm` queues the confirmation text in their language
    (the priority lane; the inbound path answers in the webhook's TwiML instead, `volunteer_confirmation`).

    Refused for a member who opted out: consent is law, and a coordinator could not text them anyway."""
    if source not in Volunteer.Source.values:
        raise ValueError(f"unknown volunteer source {source!r}")
    member = Member.objects.select_for_update().get(pk=member.pk)
    if not member.is_subscribed:
        raise NotReachableError(
            _("This member opted out (STOP): they cannot volunteer until they text START."), code="opted_out"
        )
    volunteer = Volunteer.objects.select_for_update().filter(member=member).first()
    created = volunteer is None
    if created:
        volunteer = Volunteer(member=member, source=source, added_by=by, since=timezone.now())
    volunteer.place(District.objects.of_member(member))
    volunteer.save()
    conversation, coordinator = _route(volunteer, member)
    if confirm and created:
        text_send(
            leader=leader,
            phone=str(member.phone),
            body=volunteer_confirmation(leader=leader, volunteer=volunteer, coordinator=coordinator),
            kind=Message.Kind.NOTICE,
            member=member,
            conversation=conversation,
        )
    return Volunteered(
        volunteer=volunteer, created=created, coordinator=coordinator, conversation=conversation
    )


def volunteer_confirmation(*, leader, volunteer: Volunteer, coordinator, language: str | None = None) -> str:
    """The text a new volunteer gets, in `language` (else theirs): their district's name when a coordinator
    took them, else that the team will write."""
    language = language or volunteer.member.language or leader.default_language
    if coordinator is not None and volunteer.has_district:
        return auto_text(
            "volunteer_district", language=language, leader=leader, district=volunteer.district.name
        )
    return auto_text("volunteer_team", language=language, leader=leader)


@transaction.atomic
def volunteer_remove(*, member: Member) -> bool:
    """`member` is no longer a volunteer (a teammate's action); their conversation keeps its teammate."""
    deleted, _rows = Volunteer.objects.filter(member=member).delete()
    return bool(deleted)


def volunteers_place(*, member_ids=None) -> int:
    """Place volunteers again (all, or those of `member_ids`) after a district or their place changed: one
    read of the districts, one of the volunteers and one of their conversations' teammates, the rule in
    Python (placement_among). A volunteer in a district whose conversation is not with one of its
    coordinators (their district changed, or its coordinators did) is routed to them; the others cost
    nothing more. Returns how many changed district. Call inside a transaction, in the leader's schema."""
    districts = list(District.objects.prefetch_related("coordinators"))
    coordinators = {
        district.pk: {user.pk for user in district.coordinators.all() if user.is_active}
        for district in districts
    }
    volunteers = Volunteer.objects.select_related("member").select_for_update(of=("self",))
    if member_ids is not None:
        volunteers = volunteers.filter(member_id__in=member_ids)
    volunteers = list(volunteers)
    assignees = dict(
        Conversation.objects.filter(member_id__in=[v.member_id for v in volunteers]).values_list(
            "member_id", "assigned_to_id"
        )
    )
    changed = 0
    for volunteer in volunteers:
        member = volunteer.member
        found: DistrictOf = placement_among(
            [d for d in districts if d.contains(place_id=member.place_id, region=member.region)]
        )
        if volunteer.place(found):
            volunteer.save(update_fields=["district", "placement"])
            changed += 1
        if (
            volunteer.has_district
            and member.is_subscribed
            and assignees.get(member.pk) not in coordinators[volunteer.district_id]
        ):
            _route(volunteer, member)
    return changed


def district_volunteer_counts() -> dict[int | None, int]:
    """Volunteers per district id (None: no district, whether outside every district or in several)."""
    counts: dict[int | None, int] = {}
    rows = Volunteer.objects.values_list("district_id", "placement").annotate(n=Count("id"))
    for district_id, placement, count in rows:
        key = district_id if placement == Placement.INSIDE else None
        counts[key] = counts.get(key, 0) + count
    return counts


# -- reactions (districts.reactions subscribes them) --------------------------------------------------------


def member_volunteer_end(*, member, erasing: bool = False, **_payload) -> None:
    """A member who opted out (or is being erased) stops being a volunteer: STOP is STOP."""
    Volunteer.objects.filter(member_id=member.pk).delete()


def member_volunteer_erase(*, member_id: int, **_payload) -> None:
    Volunteer.objects.filter(member_id=member_id).delete()


def member_volunteer_moved(*, member, created: bool = False, **_payload) -> None:
    """A saved member (signup form, API, import, console) may have moved: a volunteer is placed again."""
    if not created and Volunteer.objects.filter(member_id=member.pk).exists():
        volunteers_place(member_ids=[member.pk])
