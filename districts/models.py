"""A leader's districts (a riding, a county: a set of gazetteer places and regions) and the members who
volunteer in them. In each leader's schema.

A member's district is derived, never stored on the member: it follows from their place and the districts
as they are now (`District.objects.placement`), so redrawing a district needs no rewrite of a million
members. Only volunteers keep theirs (`Volunteer.district`), because their conversation was given to that
district's coordinators; it is recomputed when a district or their place changes (districts.services).
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from members.models import Member


class Placement(models.TextChoices):
    """Where a member's place puts them among the leader's districts."""

    INSIDE = "inside", "In a district"
    # Their place is in no district, or unknown (a city the gazetteer could not place): no district.
    OUTSIDE = "outside", "In no district"
    # Their place is in several districts (a city listed in one and its region in another): unknown, never
    # guessed, because a guess would hand a volunteer to a coordinator of the wrong area.
    SEVERAL = "several", "In several districts"


@dataclasses.dataclass(frozen=True, slots=True)
class DistrictOf:
    placement: str  # Placement
    district: District | None  # only when INSIDE
    candidates: tuple[str, ...] = ()  # the districts' names when SEVERAL, for the console to say which


def placement_among(containing) -> DistrictOf:
    """The one rule for a place's district, given the districts that contain it: that district when
    exactly one does; "several" when more than one does (unknown, never guessed); "outside" when none."""
    containing = sorted(containing, key=lambda district: district.name.lower())
    if not containing:
        return DistrictOf(Placement.OUTSIDE, None)
    if len(containing) > 1:
        return DistrictOf(Placement.SEVERAL, None, tuple(district.name for district in containing))
    return DistrictOf(Placement.INSIDE, containing[0])


class DistrictQuerySet(models.QuerySet):
    def containing(self, *, place_id: int | None, region: str) -> DistrictQuerySet:
        """The districts that list this place, or its region."""
        condition = models.Q(pk__in=[])
        if place_id is not None:
            condition |= models.Q(place_ids__contains=[place_id])
        if region:
            condition |= models.Q(regions__contains=[region])
        return self.filter(condition)

    def placement(self, *, place_id: int | None, region: str) -> DistrictOf:
        """A place's district (placement_among), read with one query."""
        if place_id is None and not region:
            return DistrictOf(Placement.OUTSIDE, None)
        return placement_among(self.containing(place_id=place_id, region=region)[:10])

    def of_member(self, member: Member) -> DistrictOf:
        return self.placement(place_id=member.place_id, region=member.region)


class District(models.Model):
    """A riding, a county, a borough: the places (GeoNames cities) and regions (gazetteer region names, as
    `Member.region` stores them) it covers, and the teammates who coordinate its volunteers."""

    NAME_MAX_LENGTH = 80
    PLACES_MAX = 500
    REGIONS_MAX = 50

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    # GeoNames ids and, in the same order, their labels ("Montréal, Quebec, Canada") as they were when the
    # district was saved: the console lists them without loading the gazetteer's city index.
    place_ids = ArrayField(models.PositiveIntegerField(), default=list, blank=True)
    place_labels = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    regions = ArrayField(models.CharField(max_length=120), default=list, blank=True)
    coordinators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            # One name per leader (the schema is the leader), whatever its case: "Centre" and "centre" would
            # read as one district in every list.
            models.UniqueConstraint(Lower("name"), name="districts_district_name_uniq"),
        ]

    def __str__(self) -> str:
        return self.name

    def places_set(self, places) -> None:
        """Take these gazetteer places (places.gazetteer.Place) as the district's cities: ids and labels
        together, repeats dropped, in the order given."""
        ids: list[int] = []
        labels: list[str] = []
        for place in places:
            if place.geoname_id not in ids:
                ids.append(place.geoname_id)
                labels.append(place.label[:200])
        self.place_ids, self.place_labels = ids, labels

    def contains(self, *, place_id: int | None, region: str) -> bool:
        """Whether this district lists the place or its region (DistrictQuerySet.containing, in Python)."""
        return (place_id is not None and place_id in self.place_ids) or bool(
            region and region in self.regions
        )

    @property
    def places(self) -> list[tuple[int, str]]:
        return list(zip(self.place_ids, self.place_labels, strict=False))


class Volunteer(models.Model):
    """A member who said they want to help: their conversation goes to their district's coordinators.

    One row per member (volunteering again changes nothing but the district, which follows their place).
    Deleted when they opt out (STOP is STOP: a coordinator could not text them anyway) or are erased."""

    class Source(models.TextChoices):
        SURVEY = "survey", "Survey answer"
        KEYWORD = "keyword", "Text keyword"
        CONSOLE = "console", "Teammate"
        API = "api", "API"

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="volunteer")
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.SET_NULL, related_name="volunteer_rows"
    )
    placement = models.CharField(max_length=8, choices=Placement.choices, default=Placement.OUTSIDE)
    source = models.CharField(max_length=8, choices=Source.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["district", "since"])]

    def __str__(self) -> str:
        return f"volunteer {self.member_id}"

    def place(self, found: DistrictOf) -> bool:
        """Take the district `found` for this member (Placement rule above); whether it changed."""
        district_id = found.district.pk if found.district is not None else None
        changed = (self.district_id, self.placement) != (district_id, found.placement)
        self.district, self.placement = found.district, found.placement
        return changed

    @property
    def has_district(self) -> bool:
        return self.placement == Placement.INSIDE and self.district_id is not None
