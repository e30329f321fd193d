"""Reads of events: the event page's live counts (invited, yes, no, waitlist, reminded, checked in) overall
and by region, the attendees' rows for the CSV, the lists the API pages. Call inside the leader's schema.

Counts are computed when asked, not kept as counters: an event's rows are its invitees and its answers
(thousands, not millions), each count one pass along an (event, …) index, grouped by the member's region
(Member.region). "Invited" is the alerts' deliveries that reached a phone; it reads each alert's partition
of deliveries by its key.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from common.csvcells import csv_cell
from events.models import CheckIn, Event, Reminder, Rsvp
from events.services import ALERT_DELIVERED

COUNTS = ("invited", "yes", "no", "waitlist", "reminded", "checked_in")
ALL_REGIONS = ""  # the whole event's row in event_counts' result
NO_REGION = "(none)"

_COUNTS_SQL = """
    WITH invited AS (
        SELECT DISTINCT d.member_id FROM messaging_delivery d
        WHERE d.broadcast_id = ANY(%(broadcasts)s) AND d.status = ANY(%(delivered)s)
    ), per_member AS (
        SELECT member_id, 'invited' AS what FROM invited
        UNION ALL
        SELECT member_id, CASE status WHEN 'confirmed' THEN 'yes' WHEN 'declined' THEN 'no' ELSE 'waitlist' END
        FROM events_rsvp WHERE event_id = %(event)s
        UNION ALL
        SELECT DISTINCT member_id, 'reminded' FROM events_reminder WHERE event_id = %(event)s AND status = 'sent'
        UNION ALL
        SELECT member_id, 'checked_in' FROM events_checkin WHERE event_id = %(event)s
    )
    SELECT CASE WHEN GROUPING(m.region) = 1 THEN NULL ELSE COALESCE(m.region, '') END, p.what, count(*)
    FROM per_member p LEFT JOIN signup_member m ON m.id = p.member_id
    GROUP BY GROUPING SETS ((m.region, p.what), (p.what))
"""


def event_counts(*, event: Event) -> dict[str, dict[str, int]]:
    """{region: {count name: n}}, with the whole event under ALL_REGIONS ("") and members with no known
    region under NO_REGION; every count present (0 when none). One statement."""
    broadcasts = list(event.alerts.values_list("broadcast_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTS_SQL,
            {"broadcasts": broadcasts, "delivered": [int(s) for s in ALERT_DELIVERED], "event": event.pk},
        )
        rows = cursor.fetchall()
    return _arrange(rows)


def _arrange(rows) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {ALL_REGIONS: dict.fromkeys(COUNTS, 0)}
    for region, what, count in rows:
        key = ALL_REGIONS if region is None else (region or NO_REGION)
        result.setdefault(key, dict.fromkeys(COUNTS, 0))[what] = count
    return result


def event_list(*, upcoming: bool | None = None, now: datetime.datetime | None = None) -> QuerySet[Event]:
    """Events, latest start first; `upcoming` True: not over yet; False: over."""
    events = Event.objects.all()
    if upcoming is not None:
        moment = now or timezone.now()
        events = events.filter(ends_at__gt=moment) if upcoming else events.filter(ends_at__lte=moment)
    return events


def rsvp_list(*, event: Event, status: str | None = None) -> QuerySet[Rsvp]:
    """An event's RSVPs: the waitlist in its order, the others by their latest change."""
    rsvps = Rsvp.objects.filter(event=event).select_related("member")
    if status:
        rsvps = rsvps.filter(status=status)
    return rsvps.order_by("status", "waitlist_position", "-updated_at", "-id")


def check_in_list(*, event: Event) -> QuerySet[CheckIn]:
    return CheckIn.objects.filter(event=event).select_related("member").order_by("-at", "-id")


def waitlist(*, event: Event) -> QuerySet[Rsvp]:
    return Rsvp.objects.filter(event=event, status=Rsvp.Status.WAITLISTED).order_by("waitlist_position")


ATTENDEE_COLUMNS = (
    "first_name",
    "last_name",
    "phone",
    "region",
    "place",
    "rsvp",
    "waitlist_position",
    "answered_at",
    "reminded",
    "checked_in_at",
    "checked_in_by",
)


def attendee_rows(*, event: Event, mask_phone=None) -> Iterator[list[str]]:
    """The attendees' CSV, header first: every member with an RSVP or a check-in, each cell through
    common.csvcells (formula-safe). `mask_phone(phone)` hides numbers from readers who see them masked."""
    yield list(ATTENDEE_COLUMNS)
    reminded = set(
        Reminder.objects.filter(event=event, status=Reminder.Status.SENT).values_list("member_id", flat=True)
    )
    checked = {
        check.member_id: check for check in CheckIn.objects.filter(event=event).select_related("by", "member")
    }
    seen: set[int] = set()
    for rsvp in (
        Rsvp.objects.filter(event=event).select_related("member").order_by("member_id").iterator(2000)
    ):
        seen.add(rsvp.member_id)
        yield _row(rsvp.member, rsvp, checked.get(rsvp.member_id), rsvp.member_id in reminded, mask_phone)
    walk_ins = [check for member_id, check in checked.items() if member_id not in seen]
    for check in sorted(walk_ins, key=lambda item: item.member_id):
        yield _row(check.member, None, check, False, mask_phone)


def _row(member, rsvp, check, reminded: bool, mask_phone) -> list[str]:
    phone = member.phone if mask_phone is None else mask_phone(member.phone)
    values = [
        member.first_name,
        member.last_name,
        phone,
        member.region,
        member.place_name,
        rsvp.get_status_display() if rsvp else "",
        rsvp.waitlist_position if rsvp and rsvp.waitlist_position else "",
        rsvp.updated_at if rsvp else "",
        "yes" if reminded else "",
        check.at if check else "",
        (check.by.get_username() if check and check.by else ("text" if check else "")),
    ]
    return [csv_cell(value) for value in values]
