"""Reads for the events pages: the list's figures, the event page's counts by region (the engine's, arranged
for the page) and its attendees with their reminders and check-ins. The list costs three grouped queries
whatever its length; the event page one statement for the counts and two for the attendees shown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, Count, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from events import selectors as engine_selectors
from events.models import CheckIn, Event, EventAlert, Reminder, Rsvp
from members.models import Member

FIGURES = ("invited", "confirmed", "declined", "waitlisted", "reminded", "checked_in")
# The engine's names of the counts (events.selectors.COUNTS) → the page's, which are the RSVP statuses.
_ENGINE_NAMES = {"yes": "confirmed", "no": "declined", "waitlist": "waitlisted"}
TOP_REGIONS = 12
LIST_SIZE = 200
ATTENDEES_SHOWN = 500


@dataclass
class Figures:
    invited: int = 0
    confirmed: int = 0
    declined: int = 0
    waitlisted: int = 0
    reminded: int = 0
    checked_in: int = 0

    def add(self, name: str, count: int) -> None:
        setattr(self, name, getattr(self, name) + count)


@dataclass
class RegionFigures:
    key: str | None  # the members' region name, "" unknown, None for the regions past the busiest
    figures: Figures = field(default_factory=Figures)
    label: str = ""


@dataclass
class EventCounts:
    total: Figures
    regions: list[RegionFigures]


def _figures(counts: dict[str, int]) -> Figures:
    figures = Figures()
    for name, count in counts.items():
        name = _ENGINE_NAMES.get(name, name)
        if name in FIGURES:
            figures.add(name, count)
    return figures


def event_counts(*, event: Event) -> EventCounts:
    """The engine's counts (one statement: events.selectors.event_counts) as the page shows them: in all,
    and by the members' regions, the busiest TOP_REGIONS (by invitations, then yeses) and the others summed."""
    by_region = engine_selectors.event_counts(event=event)
    total = _figures(by_region.pop(engine_selectors.ALL_REGIONS, {}))
    regions = {
        ("" if key == engine_selectors.NO_REGION else key): _figures(counts)
        for key, counts in by_region.items()
    }
    ranked = sorted(
        regions.items(), key=lambda item: (-item[1].invited, -item[1].confirmed, item[0] == "", item[0])
    )
    shown = [RegionFigures(key=key, figures=figures) for key, figures in ranked[:TOP_REGIONS]]
    if len(ranked) > TOP_REGIONS:
        other = Figures()
        for _key, figures in ranked[TOP_REGIONS:]:
            for name in FIGURES:
                other.add(name, getattr(figures, name))
        shown.append(RegionFigures(key=None, figures=other))
    return EventCounts(total=total, regions=shown)


def events_summaries(*, upcoming: bool, now) -> list[tuple[Event, dict[str, int]]]:
    """Upcoming events (soonest first) or past ones (latest first), each with its RSVP and check-in counts
    (three grouped queries for the whole list)."""
    events = engine_selectors.event_list(upcoming=upcoming, now=now)
    events = list(events.order_by("starts_at" if upcoming else "-starts_at")[:LIST_SIZE])
    ids = [event.pk for event in events]
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(FIGURES, 0) for pk in ids}
    for row in (
        Rsvp.objects.filter(event_id__in=ids).values("event_id", "status").annotate(n=Count("id")).order_by()
    ):
        counts[row["event_id"]][row["status"]] = row["n"]
    for row in CheckIn.objects.filter(event_id__in=ids).values("event_id").annotate(n=Count("id")).order_by():
        counts[row["event_id"]]["checked_in"] = row["n"]
    alerts = EventAlert.objects.filter(event_id__in=ids).values("event_id").annotate(n=Count("id")).order_by()
    for row in alerts:
        counts[row["event_id"]]["alerts"] = row["n"]
    return [(event, counts[event.pk]) for event in events]


@dataclass
class Attendee:
    member: Member
    status: str  # an Rsvp.Status, or "" for a member checked in without answering
    waitlist_position: int | None
    answered_at: datetime.datetime | None
    checked_in_at: datetime.datetime | None
    reminded: int  # reminders sent to them


_STATUS_ORDER = Case(
    When(status=Rsvp.Status.CONFIRMED, then=Value(0)),
    When(status=Rsvp.Status.WAITLISTED, then=Value(1)),
    default=Value(2),
)


def _checked_in_at(event: Event) -> Subquery:
    return Subquery(CheckIn.objects.filter(event=event, member_id=OuterRef("member_id")).values("at")[:1])


def _reminded(event: Event) -> Subquery:
    sent = (
        Reminder.objects.filter(event=event, member_id=OuterRef("member_id"), status=Reminder.Status.SENT)
        .order_by()
        .values("member_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(sent), Value(0))


def _answered(event: Event, status: str | None) -> QuerySet[Rsvp]:
    rsvps = Rsvp.objects.filter(event=event)
    if status:
        rsvps = rsvps.filter(status=status)
    return rsvps.annotate(checked_in_at=_checked_in_at(event), reminded=_reminded(event))


def _unanswered_check_ins(event: Event) -> QuerySet[CheckIn]:
    """Members at the door who never answered (a teammate let them in, or they texted the code word)."""
    answered = Rsvp.objects.filter(event=event).values("member_id")
    return CheckIn.objects.filter(event=event).exclude(member_id__in=answered)


def event_attendees(*, event: Event, status: str | None = None, limit: int = ATTENDEES_SHOWN):
    """Members who answered, confirmed first, then the waitlist in its order, then those who said no; with
    the members checked in without an answer last (status "checked_in" shows only the checked in). At most
    `limit` rows, and how many there are in all."""
    rows: list[Attendee] = []
    if status == "checked_in":
        rsvps = _answered(event, None).filter(checked_in_at__isnull=False)
    else:
        rsvps = _answered(event, status)
    total = rsvps.count()
    for rsvp in rsvps.select_related("member").order_by(
        _STATUS_ORDER, "waitlist_position", "member__first_name", "member_id"
    )[:limit]:
        rows.append(
            Attendee(
                member=rsvp.member,
                status=rsvp.status,
                waitlist_position=rsvp.waitlist_position,
                answered_at=rsvp.updated_at,
                checked_in_at=rsvp.checked_in_at,
                reminded=rsvp.reminded,
            )
        )
    if status in (None, "", "checked_in"):
        walk_ins = _unanswered_check_ins(event)
        total += walk_ins.count()
        for check_in in walk_ins.select_related("member").order_by("at")[: max(0, limit - len(rows))]:
            rows.append(
                Attendee(
                    member=check_in.member,
                    status="",
                    waitlist_position=None,
                    answered_at=None,
                    checked_in_at=check_in.at,
                    reminded=0,
                )
            )
    return rows, total
