"""Reads of districts and volunteers for the console and the API, in the leader's schema."""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Q

from districts.models import District, DistrictOf, Placement, Volunteer
from members.models import Member


@dataclasses.dataclass(frozen=True)
class Overlap:
    """A place or region listed, directly or through its region, by several districts: its members are in
    none (never guessed) until the leader draws the districts apart."""

    what: str
    districts: tuple[str, ...]


def district_overlaps(districts: list[District]) -> list[Overlap]:
    """Places and regions several of these districts claim: a city listed twice, a region listed twice, or a
    city of one district whose region another lists (its label names the region)."""
    by_place: dict[str, list[str]] = {}
    by_region: dict[str, list[str]] = {}
    for district in districts:
        for label in district.place_labels:
            by_place.setdefault(label, []).append(district.name)
        for region in district.regions:
            by_region.setdefault(region, []).append(district.name)
    overlaps = [Overlap(region, tuple(names)) for region, names in by_region.items() if len(names) > 1]
    for label, names in by_place.items():
        parts = [part.strip() for part in label.split(",")]
        region_names = {name for part in parts[1:] for name in by_region.get(part, [])}
        claimed = tuple(dict.fromkeys([*names, *sorted(region_names)]))
        if len(claimed) > 1:
            overlaps.append(Overlap(label, claimed))
    return overlaps


def districts_overview() -> dict:
    """The Districts page: every district with its coordinators and volunteer count, the overlaps, and the
    volunteers without a district (outside every district, or in several)."""
    districts = list(
        District.objects.prefetch_related("coordinators").annotate(
            volunteer_count=Count("volunteer_rows", filter=Q(volunteer_rows__placement=Placement.INSIDE))
        )
    )
    return {
        "districts": districts,
        "overlaps": district_overlaps(districts),
        "volunteers_without": Volunteer.objects.exclude(placement=Placement.INSIDE).count(),
    }


def member_district(member: Member) -> tuple[DistrictOf, Volunteer | None]:
    """Where the member's place puts them now, and their volunteer row if they volunteered."""
    volunteer = Volunteer.objects.select_related("district", "added_by").filter(member=member).first()
    return District.objects.of_member(member), volunteer
