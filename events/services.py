"""Events' workflows: create and edit an event, alert an audience to it, record RSVPs (with the waitlist and
its promotions), check members in, send the reminders. Call inside the leader's schema.

* **One lock per event.** Every change to who has a seat takes the event's row lock first
  (`SELECT … FOR UPDATE`), so two replies racing for the last seat, or a "no" freeing a seat while the next
  "yes" arrives, are decided one after the other: the capacity is never exceeded and each freed seat goes
  once, to the first in line, whose promotion text is stored in the same transaction (exactly once).
* **Alerts are broadcasts.** An alert is a `messaging.Broadcast` made from the event (its audience, a body,
  the RSVP instruction as a per-language suffix) and linked as an `EventAlert`; it is then sent by the
  broadcasts' own path (`messaging.broadcasts.compose.broadcast_submit`), which features may not import: the
  interface (console, API) submits it, so approval, the announcement cap, quiet hours and exactly-once
  delivery are the broadcasts' and nothing here copies them.
* **Reminders are claimed, then sent** (`reminders_send`): a row per (event, member, offset) inserted
  before sending is the claim (its unique key stops a second worker), the texts go through the bulk lane
  (`messaging.bulk`), and the outcome is recorded on the row. A claim left by a worker that died is taken
  over when stale, unless the text it was sending was already recorded (then it is only marked sent).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import random
import re
import time
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django_q.models import Schedule
from django_q.tasks import async_task

from common import events as bus
from common.runs import batches_run
from common.sql import advisory_lock_try
from districts.keywords import volunteer_word_find
from events.models import (
    ALERT_DELIVERED,
    CHECK_IN_MARGIN,
    MAX_REMINDERS,
    CheckIn,
    Event,
    EventAlert,
    PendingAnswer,
    Reminder,
    Rsvp,
    RsvpChange,
    Source,
)
from events.replies import NO, YES, is_answer_word
from events.texts import event_text, rsvp_instructions
from leaders.models import Leader
from members.models import Member
from messaging.bulk import BulkText, texts_send_batch
from messaging.keyword_replies import keyword_reply_match
from messaging.keywords import keyword_clean, keyword_find, keyword_reserved
from messaging.models import Broadcast, Delivery, Message, SmsStatus
from messaging.services import text_send
from messaging.texts import LANGUAGES
from places import gazetteer

logger = logging.getLogger(__name__)

TASKS = "events.tasks"
REMINDERS_SCHEDULE_NAME = "events-reminders"
MAX_OFFSET_MINUTES = 14 * 24 * 60  # a reminder at most two weeks ahead
# A reminder that would fall in the member's quiet hours goes this long before they start.
QUIET_MARGIN = datetime.timedelta(minutes=15)
# A claimed reminder with no outcome after this long belongs to a worker that died.
REMINDER_STALE_AFTER = datetime.timedelta(minutes=5)
REMINDER_BATCH = 200
CODE_WORD = re.compile(r"^[^\W_]{2,40}$", re.UNICODE)  # letters and digits: read as keywords are


class EventError(ValueError):
    """An event, alert, RSVP or check-in that cannot be: one line saying why, and the field when one is at
    fault (the console puts it under that input, the API names it)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- events ---------------------------------------------------------------------------------------------------

EDITABLE = (
    "title",
    "description",
    "place_id",
    "address",
    "latitude",
    "longitude",
    "time_zone",
    "starts_at",
    "ends_at",
    "capacity",
    "rsvp_deadline",
    "code_word",
    "languages",
    "reminder_offsets",
)


def event_create(*, leader, data: dict[str, Any], created_by=None) -> Event:
    """A new event from `data` (the API's JSON, or the console form's cleaned data), checked before anything
    is written. Times without a zone are read in the venue's zone."""
    event = Event(created_by=created_by, languages=[leader.default_language])
    _event_apply(leader=leader, event=event, data=data, creating=True)
    return _event_save(event)


def event_update(*, leader, event: Event, data: dict[str, Any]) -> Event:
    """Change the fields present in `data`. A larger capacity promotes the waitlist at once, in order."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if event.is_cancelled:
            raise EventError(_("This event was cancelled; it cannot be changed."))
        _event_apply(leader=leader, event=event, data=data, creating=False)
        event = _event_save(event)
        _waitlist_promote(leader=leader, event=event)
    return event


def event_cancel(*, event: Event) -> Event:
    """Cancel it: no more RSVPs, reminders or check-ins, and its alerts that have not started (a draft, one
    awaiting a second teammate's approval, one scheduled) never go: "Reply YES" to a cancelled event would
    mislead. An alert already sending finishes (the broadcast page can stop it); what was sent stays sent."""
    with transaction.atomic():
        Event.objects.filter(pk=event.pk, cancelled_at__isnull=True).update(cancelled_at=timezone.now())
        waiting = Broadcast.objects.select_for_update().filter(
            pk__in=EventAlert.objects.filter(event=event).values("broadcast_id"),
            status__in=[
                Broadcast.Status.DRAFT,
                Broadcast.Status.AWAITING_APPROVAL,
                Broadcast.Status.SCHEDULED,
            ],
        )
        for broadcast in waiting:
            broadcast.cancel()  # its start, if scheduled, finds it cancelled and queues nothing
    event.refresh_from_db()
    return event


def _event_save(event: Event) -> Event:
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError as error:
        if "code_word" in str(error):
            raise EventError(_("Another event already uses this code word."), field="code_word") from None
        raise EventError(
            _("The event could not be saved: %(reason)s") % {"reason": str(error).splitlines()[0]}
        ) from None
    if event.reminder_offsets:
        transaction.on_commit(reminders_schedule_ensure)
    return event


def _event_apply(*, leader, event: Event, data: dict[str, Any], creating: bool) -> None:
    """Validate `data` onto `event`, in the order a reader fixes a form: first error wins, one line."""
    if not isinstance(data, dict):
        raise EventError(_("An event must be a JSON object."))
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise EventError(_("Unknown field(s): %(fields)s.") % {"fields": ", ".join(unknown)})
    if creating:
        for name in ("title", "starts_at", "ends_at", "code_word"):
            if data.get(name) in (None, ""):
                raise EventError(_("This field is required."), field=name)
    if "title" in data:
        title = " ".join(str(data["title"] or "").split())
        if not title:
            raise EventError(_("The title is empty."), field="title")
        if len(title) > 120:
            raise EventError(_("The title is longer than 120 characters."), field="title")
        event.title = title
    if "description" in data:
        description = str(data["description"] or "").strip()
        if len(description) > 1000:
            raise EventError(_("The description is longer than 1000 characters."), field="description")
        event.description = description
    if "address" in data:
        address = " ".join(str(data["address"] or "").split())
        if len(address) > 200:
            raise EventError(_("The address is longer than 200 characters."), field="address")
        event.address = address
    _venue_apply(leader=leader, event=event, data=data, creating=creating)
    zone = event.zone
    for name in ("starts_at", "ends_at", "rsvp_deadline"):
        if name in data:
            setattr(event, name, _moment(data[name], name, zone))
    if event.starts_at is None or event.ends_at is None:
        raise EventError(_("The event needs a start and an end."), field="starts_at")
    if event.ends_at <= event.starts_at:
        raise EventError(_("The event must end after it starts."), field="ends_at")
    if ("ends_at" in data or creating) and event.ends_at <= timezone.now():
        raise EventError(_("The event is over before it starts: its end is in the past."), field="ends_at")
    if event.rsvp_deadline is not None and event.rsvp_deadline > event.ends_at:
        raise EventError(_("The RSVP deadline must be before the event ends."), field="rsvp_deadline")
    if "capacity" in data:
        event.capacity = _capacity(data["capacity"])
    if "code_word" in data:
        event.code_word = _code_word(data["code_word"], leader=leader)
    if "languages" in data:
        event.languages = _languages(data["languages"], default=leader.default_language)
    if "reminder_offsets" in data:
        event.reminder_offsets = _offsets(data["reminder_offsets"])


def _venue_apply(*, leader, event: Event, data: dict[str, Any], creating: bool) -> None:
    place_given = data.get("place_id") not in (None, "")
    coordinates_given = data.get("latitude") not in (None, "") or data.get("longitude") not in (None, "")
    if place_given:
        try:
            place_id = int(data["place_id"])
        except (TypeError, ValueError):
            raise EventError(_("The place must be a GeoNames id (a number)."), field="place_id") from None
        place = gazetteer.get_place(place_id) if 0 < place_id < 2**31 else None
        if place is None:
            raise EventError(_("No place has this id in the gazetteer."), field="place_id")
        event.place_id, event.place_name, event.region = place.geoname_id, place.name, place.region
        event.country, event.time_zone = place.country, place.timezone
        event.latitude, event.longitude = place.latitude, place.longitude
    elif "place_id" in data:
        event.place_id = None
    if coordinates_given:
        try:
            latitude, longitude = float(data.get("latitude")), float(data.get("longitude"))
        except (TypeError, ValueError):
            raise EventError(_("Give both latitude and longitude, as numbers."), field="latitude") from None
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise EventError(_("The coordinates are not on Earth."), field="latitude")
        event.latitude, event.longitude = latitude, longitude
        if not place_given:
            # The nearest city tells the region and the zone; the address says where exactly.
            nearest = _nearest_place(latitude, longitude)
            event.place_name = nearest.name if nearest else ""
            event.region = nearest.region if nearest else ""
            event.country = nearest.country if nearest else ""
            event.time_zone = nearest.timezone if nearest else str(leader.zone)
    if event.place_id is None and event.latitude is None:
        raise EventError(_("Give the venue: a place from the gazetteer, or coordinates."), field="place_id")
    if data.get("time_zone"):
        try:
            zoneinfo.ZoneInfo(str(data["time_zone"]))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise EventError(
                _("Unknown time zone (use a name such as America/Vancouver)."), field="time_zone"
            ) from None
        event.time_zone = str(data["time_zone"])
    if not event.time_zone:
        event.time_zone = str(leader.zone)


def _nearest_place(latitude: float, longitude: float) -> gazetteer.Place | None:
    return gazetteer.nearest_place(latitude, longitude)


def _moment(value: Any, field: str, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    if value in (None, ""):
        if field == "rsvp_deadline":
            return None
        raise EventError(_("This field is required."), field=field)
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = parse_datetime(str(value))
        except ValueError:
            moment = None
        if moment is None:
            raise EventError(
                _("Not a date and time (use 2026-12-12T14:00, in the venue's zone)."), field=field
            )
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    return moment


def _capacity(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        capacity = int(value)
    except (TypeError, ValueError):
        raise EventError(_("The capacity must be a whole number of seats."), field="capacity") from None
    if capacity < 1 or capacity > 1_000_000:
        raise EventError(_("The capacity must be between 1 and 1,000,000 seats."), field="capacity")
    return capacity


def _code_word(value: Any, *, leader) -> str:
    # Checked as stored: upper() can lengthen a word ("ß" is "SS"), and the column holds 40 characters.
    word = str(value or "").strip().upper()
    if not CODE_WORD.match(word):
        raise EventError(_("The code word must be one word of 2 to 40 letters or digits."), field="code_word")
    # VOLUNTEER and its translations are the platform's too, and the leader's own stop words are stop words:
    # the inbound path reads all of them before a code word at the door (a stop word would opt out).
    if (
        keyword_reserved(word) is not None
        or volunteer_word_find(word) is not None
        or keyword_find(word, leader.stop_words) is not None
    ):
        raise EventError(_("The code word is a reserved keyword (STOP, START, HELP...)."), field="code_word")
    if is_answer_word(word):
        raise EventError(_("The code word would read as a yes or a no."), field="code_word")
    if keyword_reply_match(word) is not None:
        raise EventError(_("The code word is one of your keyword replies."), field="code_word")
    return word


def _languages(value: Any, *, default: str) -> list[str]:
    if value in (None, "", []):
        return [default]
    if not isinstance(value, list | tuple):
        raise EventError(_("Languages must be a list of language codes."), field="languages")
    languages: list[str] = []
    for code in value:
        code = str(code).lower()
        if code not in LANGUAGES:
            raise EventError(
                _("Unknown language %(code)s; use %(languages)s.")
                % {"code": repr(code), "languages": ", ".join(LANGUAGES)},
                field="languages",
            )
        if code not in languages:
            languages.append(code)
    return languages


def _offsets(value: Any) -> list[int]:
    if value in (None, ""):
        return []
    if not isinstance(value, list | tuple):
        raise EventError(_("Reminders must be a list of minutes before the start."), field="reminder_offsets")
    offsets: set[int] = set()
    for item in value:
        try:
            minutes = int(item)
        except (TypeError, ValueError):
            raise EventError(
                _("Each reminder is a whole number of minutes."), field="reminder_offsets"
            ) from None
        if not 1 <= minutes <= MAX_OFFSET_MINUTES:
            raise EventError(
                _("Each reminder goes between 1 minute and 14 days before the start."),
                field="reminder_offsets",
            )
        offsets.add(minutes)
    if len(offsets) > MAX_REMINDERS:
        raise EventError(
            _("At most %(count)s reminders.") % {"count": MAX_REMINDERS}, field="reminder_offsets"
        )
    return sorted(offsets, reverse=True)


# -- alerts ---------------------------------------------------------------------------------------------------


def event_alert_create(
    *, leader, event: Event, filters: dict | None, body: str = "", created_by=None, send_at=None
) -> Broadcast:
    """A draft broadcast inviting `filters`'s members to `event`, with the RSVP instruction in each member's
    language, linked to the event. The caller submits it (messaging.broadcasts.compose.broadcast_submit),
    in the same transaction: approval, the cap, quiet hours and the sending are the broadcasts'."""
    if not event.rsvp_open():
        raise EventError(_("This event no longer takes RSVPs: no alert can invite to it."))
    body = (body or "").strip() or event_text(
        "alert", language=event.languages[0], leader=leader, event=event
    )
    if send_at is not None and timezone.is_naive(send_at):
        send_at = send_at.replace(tzinfo=leader.zone)
    if send_at is not None and send_at <= timezone.now():
        raise EventError(_("The scheduled time is in the past."), field="send_at")
    with transaction.atomic():
        broadcast = Broadcast.create(
            body=body,
            filters=filters,
            suffixes=rsvp_instructions(event),
            send_at=send_at,
            created_by=created_by,
        )  # raises BroadcastError (an AudienceError: a ValueError) with its reason
        EventAlert.objects.create(event=event, broadcast=broadcast, created_by=created_by)
    # The minute sweep also follows up answers whose reader was lost: it must exist once members may answer.
    transaction.on_commit(reminders_schedule_ensure)
    return broadcast


# -- RSVPs ----------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RsvpOutcome:
    rsvp: Rsvp
    changed: bool  # False: the same answer again
    promoted: list[Rsvp] = dataclasses.field(default_factory=list)


def rsvp_record(
    *,
    leader,
    event: Event,
    member: Member,
    answer: str,
    source: str = Source.TEXT,
    message_id: int | None = None,
    now: datetime.datetime | None = None,
) -> RsvpOutcome:
    """Record `member`'s yes or no to `event`: a seat if one is free, else a place at the end of the
    waitlist; a no frees their seat for the first in line (promoted and texted, in order). The same answer
    twice changes nothing. Every change is kept (RsvpChange) with its time."""
    if answer not in (YES, NO):
        raise EventError(_("An RSVP is yes or no."), field="answer")
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not event.rsvp_open(now):
            raise EventError(_("This event no longer takes RSVPs."))
        rsvp = Rsvp.objects.filter(event=event, member=member).first()
        before = rsvp.status if rsvp else ""
        if answer == YES and before in (Rsvp.Status.CONFIRMED, Rsvp.Status.WAITLISTED):
            return RsvpOutcome(rsvp=rsvp, changed=False)
        if answer == NO and before == Rsvp.Status.DECLINED:
            return RsvpOutcome(rsvp=rsvp, changed=False)
        if rsvp is None:
            rsvp = Rsvp(event=event, member=member, created_at=now)
        rsvp.source, rsvp.updated_at = source, now
        # A seat freed without a no (an erased member's, one raised capacity left) goes to the line first: a
        # newcomer's yes never jumps those waiting.
        promoted = _waitlist_promote(leader=leader, event=event, now=now) if answer == YES else []
        if answer == YES and _seats_free(event) > 0:
            rsvp.status, rsvp.waitlist_position, rsvp.confirmed_at = Rsvp.Status.CONFIRMED, None, now
        elif answer == YES:
            rsvp.status, rsvp.waitlist_position = Rsvp.Status.WAITLISTED, _next_position(event)
        else:
            rsvp.status, rsvp.waitlist_position = Rsvp.Status.DECLINED, None
        rsvp.save()
        RsvpChange.objects.create(
            rsvp=rsvp, from_status=before, to_status=rsvp.status, source=source, message_id=message_id, at=now
        )
        bus.emit(bus.EVENT_RSVP, rsvp=rsvp)
        if before == Rsvp.Status.CONFIRMED:
            promoted += _waitlist_promote(leader=leader, event=event, now=now)
    return RsvpOutcome(rsvp=rsvp, changed=True, promoted=promoted)


def _seats_free(event: Event) -> int:
    if event.capacity is None:
        return 1 << 30
    taken = Rsvp.objects.filter(event=event, status=Rsvp.Status.CONFIRMED).count()
    return event.capacity - taken


def _next_position(event: Event) -> int:
    # Under the event's lock: no one else is numbering this line now. Positions only grow, so the line's
    # order is arrival order even after people leave it.
    last = Rsvp.objects.filter(event=event).aggregate(last=Max("waitlist_position"))["last"]
    last_change = RsvpChange.objects.filter(
        rsvp__event=event, to_status=Rsvp.Status.WAITLISTED
    ).count()  # counts every past entry, so a number is never given twice even after the line emptied
    return max(last or 0, last_change) + 1


def _waitlist_promote(*, leader, event: Event, now: datetime.datetime | None = None) -> list[Rsvp]:
    """Give the free seats to the first in line, in order, each with their text (stored now: once). Call
    with the event's row locked."""
    now = now or timezone.now()
    free = _seats_free(event)
    if free <= 0 or event.is_cancelled or now >= event.starts_at:
        return []
    promoted = list(
        Rsvp.objects.select_for_update()
        # A member who stopped texts since (or whose number the carrier says is unreachable) waits where they
        # are: a seat they would never hear of is lost.
        .filter(
            event=event,
            status=Rsvp.Status.WAITLISTED,
            member__status=Member.Status.SUBSCRIBED,
            member__unreachable_at__isnull=True,
        )
        .select_related("member")
        .order_by("waitlist_position")[: min(free, 10_000)]
    )
    for rsvp in promoted:
        rsvp.status, rsvp.waitlist_position = Rsvp.Status.CONFIRMED, None
        rsvp.confirmed_at = rsvp.updated_at = now
        rsvp.save(update_fields=["status", "waitlist_position", "confirmed_at", "updated_at"])
        RsvpChange.objects.create(
            rsvp=rsvp,
            from_status=Rsvp.Status.WAITLISTED,
            to_status=Rsvp.Status.CONFIRMED,
            source=Source.PROMOTION,
            at=now,
        )
        bus.emit(bus.EVENT_RSVP, rsvp=rsvp)
        member = rsvp.member
        # The priority lane's one text (consent checked when it is queued and when it is sent), held until
        # the member's quiet hours end when the seat frees at night.
        text_send(
            leader=leader,
            phone=member.phone,
            member=member,
            kind=Message.Kind.NOTICE,
            body=event_text("promoted", language=member.language, leader=leader, event=event),
            not_before=quiet_end(now=now, zone=_member_zone(member.time_zone, leader), leader=leader),
        )
    return promoted


def rsvp_reply_text(*, leader, event: Event, outcome: RsvpOutcome, language: str) -> str:
    """What a member who answered by text reads back: their seat, their place in line, or the no noted."""
    rsvp = outcome.rsvp
    if rsvp.status == Rsvp.Status.CONFIRMED:
        return event_text("confirmed", language=language, leader=leader, event=event)
    if rsvp.status == Rsvp.Status.WAITLISTED:
        ahead = Rsvp.objects.filter(
            event=event, status=Rsvp.Status.WAITLISTED, waitlist_position__lt=rsvp.waitlist_position
        ).count()
        return event_text("waitlisted", language=language, leader=leader, event=event, position=ahead + 1)
    return event_text("declined", language=language, leader=leader, event=event)


def event_alerted_latest(
    *, member_id: int, now: datetime.datetime | None = None
) -> tuple[Event, datetime.datetime | None] | None:
    """The most recent event still open for RSVPs whose alert reached this member, and when the alert went:
    what their yes or no answers. A few index probes: one per alert of an open event (each delivery
    partition's member key)."""
    now = now or timezone.now()
    alerts = list(
        EventAlert.objects.filter(event__in=Event.objects.open_for_rsvp(now)).values_list(
            "broadcast_id", "event_id"
        )
    )
    if not alerts:
        return None
    event_by_broadcast = dict(alerts)
    got = (
        Delivery.objects.filter(
            broadcast_id__in=list(event_by_broadcast), member_id=member_id, status__in=ALERT_DELIVERED
        )
        .order_by(F("sent_at").desc(nulls_last=True), "-broadcast_id")
        .values_list("broadcast_id", "sent_at")
        .first()
    )
    if got is None:
        return None
    event = Event.objects.filter(pk=event_by_broadcast[got[0]]).first()
    return (event, got[1]) if event is not None else None


def rsvp_by_answer(
    *, leader, member: Member, answer: str, at: datetime.datetime, message_id: int | None = None
) -> str | None:
    """A subscribed member's yes or no, texted at `at`: their RSVP to the latest event still open then whose
    alert reached them, and the text to answer. None when it answers no event (it stays in the inbox only)."""
    alerted = event_alerted_latest(member_id=member.pk, now=at)
    if alerted is None:
        return None
    event, alerted_at = alerted
    # A teammate wrote to them between the alert and this answer (a coordinator's "can you come Tuesday?"):
    # their yes or no answers the teammate, not the event.
    if (
        alerted_at is not None
        and Message.objects.filter(
            phone=member.phone,
            direction=Message.Direction.OUTBOUND,
            sent_by__isnull=False,
            created_at__gt=alerted_at,
            created_at__lt=at,
        ).exists()
    ):
        return None
    try:
        outcome = rsvp_record(
            leader=leader, event=event, member=member, answer=answer, message_id=message_id, now=at
        )
    except EventError:
        return None  # closed between the two reads: an ordinary text
    return rsvp_reply_text(leader=leader, event=event, outcome=outcome, language=member.language)


# -- answers read off the webhook's path -------------------------------------------------------------------
#
# The inbound webhook stores a subscribed member's yes or no as a PendingAnswer in the statement that stores
# the text (inbound.statements.RECEIVE), and kicks the reader (`answers_kick`). The reader (`answers_read`, a
# task on the answers' cluster) takes them oldest first in batches: each batch's RSVPs, their changes and the
# deletion of its rows in one transaction (a crash redoes the whole batch: each answer is recorded once),
# then the answers texted back in one paced batch (`messaging.bulk`), not one priority-lane task each. One
# reader per leader at a time (an advisory lock), so a member's yes then no are read in that order.

ANSWERS_BATCH = 200
ANSWERS_RUN_SECONDS = 20.0  # a run gives its worker back after this long, and queues itself again
ANSWERS_LAST_LOOK = 1.0  # a run looks once more after this long (more than ANSWERS_KICK_INTERVAL)
ANSWERS_KICK_INTERVAL = 0.5  # seconds between two kicks of one leader's reader by one process
ANSWERS_LOST_AFTER = datetime.timedelta(minutes=1)  # waiting this long: its run was lost (the minute sweep)

_answers_kicked: dict[str, float] = {}


def answers_cluster() -> str | None:
    """The cluster that reads texts off the webhook's path at a lower CPU priority (settings.ANSWERS_CLUSTER,
    by default triage's): in a burst the webhook goes first and the answers wait a little longer."""
    return getattr(settings, "ANSWERS_CLUSTER", None) or None


def answers_kick(*, schema_name: str, force: bool = False) -> bool:
    """A yes or no was queued in this leader's schema: make sure a reader follows. Throttled per process (a
    burst of a thousand answers a second queues two runs a second; a run that finds another running leaves,
    and the running one looks again before it ends). True when a run was queued."""
    now = time.monotonic()
    last = _answers_kicked.get(schema_name)
    if not force and last is not None and now - last < ANSWERS_KICK_INTERVAL:
        return False
    _answers_kicked[schema_name] = now
    async_task(
        f"{TASKS}.answers_read",
        schema_name,
        task_name=f"event-answers-{schema_name}",
        cluster=answers_cluster(),
    )
    return True


def answer_withdraw(*, message_id: int) -> None:
    """The text was read as something else first (a leader's keyword YES): it is no RSVP."""
    PendingAnswer.objects.filter(message_id=message_id).delete()


def answers_waiting(*, now: datetime.datetime | None = None) -> bool:
    """Whether this leader has answers waiting longer than ANSWERS_LOST_AFTER (their run was lost)."""
    now = now or timezone.now()
    return PendingAnswer.objects.filter(received_at__lt=now - ANSWERS_LOST_AFTER).exists()


def answers_read(
    *, leader, seconds: float | None = None, last_look: float | None = None, batch_size: int | None = None
) -> int:
    """Read this leader's waiting yes and no answers, oldest first, for at most `seconds`; the number read.
    Call inside the leader's schema, outside a transaction. A second run while one is reading leaves at once."""
    seconds = ANSWERS_RUN_SECONDS if seconds is None else seconds
    last_look = ANSWERS_LAST_LOOK if last_look is None else last_look
    with advisory_lock_try(f"community.events.answers.{connection.schema_name}") as taken:
        if not taken:
            return 0
        read, more = batches_run(
            lambda: _answers_batch_read(leader=leader, batch_size=batch_size or ANSWERS_BATCH),
            seconds=seconds,
            last_look=last_look,
        )
    if more:
        answers_kick(schema_name=connection.schema_name, force=True)  # behind other leaders' runs
    return read


def _answers_batch_read(*, leader, batch_size: int) -> int:
    with transaction.atomic():
        batch = list(PendingAnswer.objects.select_for_update(skip_locked=True).order_by("pk")[:batch_size])
        if not batch:
            return 0
        members = Member.objects.in_bulk({answer.member_id for answer in batch})
        # The webhook left these texts for this reader: they count as replies to broadcasts now (inbound).
        bus.emit(
            bus.ANSWERS_READ,
            texts=[(answer.member_id, answer.received_at) for answer in batch if answer.member_id in members],
        )
        replies: list[BulkText] = []
        for answer in batch:
            member = members.get(answer.member_id)
            if member is None:
                continue
            try:
                with transaction.atomic():
                    body = rsvp_by_answer(
                        leader=leader,
                        member=member,
                        answer=answer.answer,
                        at=answer.received_at,
                        message_id=answer.message_id,
                    )
            except Exception:
                # One answer that cannot be read never holds the others back: it stays in the inbox.
                logger.exception("an RSVP by text could not be read (message %s)", answer.message_id)
                continue
            if body is not None:
                replies.append(BulkText(member_id=member.pk, phone=member.phone, body=body))
        PendingAnswer.objects.filter(pk__in=[answer.pk for answer in batch]).delete()
    # After the commit: a crash here loses these answers' texts back, never an RSVP (a member who texts again
    # gets their seat's text again).
    texts_send_batch(leader=leader, texts=replies)
    return len(batch)


# -- check-ins ------------------------------------------------------------------------------------------------


def check_in_record(
    *,
    event: Event,
    member: Member,
    source: str,
    by=None,
    message_id: int | None = None,
    now: datetime.datetime | None = None,
) -> tuple[CheckIn, bool]:
    """Check `member` in (once: a second check-in returns the first, False). A teammate may check anyone
    in, any time before the event is long over; the code word works only at the door (CHECK_IN_MARGIN)."""
    now = now or timezone.now()
    if event.is_cancelled:
        raise EventError(_("This event was cancelled."))
    if source == Source.TEXT and not event.check_in_open(now):
        raise EventError(
            _("Check-in by text is open from 2 hours before the start to 2 hours after the end.")
        )
    if now > event.ends_at + CHECK_IN_MARGIN * 12:
        raise EventError(_("This event is long over."))
    with transaction.atomic():
        check_in, created = CheckIn.objects.get_or_create(
            event=event,
            member=member,
            defaults={"source": source, "by": by, "message_id": message_id, "at": now},
        )
        if created:
            bus.emit(bus.EVENT_CHECKED_IN, check_in=check_in)
    return check_in, created


def check_in_by_text(*, leader, member_id: int, text: str, message_id: int | None = None) -> str | None:
    """A member texted an event's code word at its door: checked in, and welcomed (once: a second text of
    the word is an ordinary text). None when it is no open door's code word."""
    word = keyword_clean(text)  # "  hall! " is HALL, as keywords are read
    event = Event.objects.checking_in().filter(code_word=word).first() if CODE_WORD.match(word) else None
    if event is None:
        return None
    member = Member.objects.get(pk=member_id)
    try:
        _check_in, created = check_in_record(
            event=event, member=member, source=Source.TEXT, message_id=message_id
        )
    except EventError:
        return None
    if not created:
        return None
    return event_text("checked_in", language=member.language, leader=leader, event=event)


# -- reminders ------------------------------------------------------------------------------------------------


def reminders_schedule_ensure() -> None:
    """The minute sweep (events.tasks.reminders_sweep) in the bulk lane, made with the first event that has
    reminders."""
    if not Schedule.objects.filter(name=REMINDERS_SCHEDULE_NAME).exists():
        Schedule.objects.get_or_create(
            name=REMINDERS_SCHEDULE_NAME,
            defaults={
                "func": f"{TASKS}.reminders_sweep",
                "schedule_type": Schedule.MINUTES,
                "minutes": 1,
                "repeats": -1,
                "cluster": cluster(),
            },
        )


def cluster() -> str | None:
    """The bulk lane, as surveys': EVENTS_CLUSTER, else SURVEY_CLUSTER, else the broadcasts' cluster."""
    return (
        getattr(settings, "EVENTS_CLUSTER", None)
        or getattr(settings, "SURVEY_CLUSTER", None)
        or getattr(settings, "BROADCAST_CLUSTER", None)
        or None
    )


def _quiet(local: datetime.datetime, *, start: datetime.time, end: datetime.time) -> bool:
    moment = local.time()
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def reminder_due(*, at: datetime.datetime, zone: zoneinfo.ZoneInfo, leader) -> datetime.datetime:
    """When a reminder meant for `at` goes to a member living in `zone`: at `at`, or, when that falls in
    their quiet hours, QUIET_MARGIN before those quiet hours began (never after: it would be too late)."""
    start, end = leader.quiet_hours_start, leader.quiet_hours_end
    local = at.astimezone(zone)
    if not _quiet(local, start=start, end=end):
        return at
    day = local.date()
    if start > end and local.time() < end:  # after midnight: the quiet hours began the evening before
        day -= datetime.timedelta(days=1)
    began = datetime.datetime.combine(day, start, tzinfo=zone)
    return began - QUIET_MARGIN


def in_quiet_hours(*, now: datetime.datetime, zone: zoneinfo.ZoneInfo, leader) -> bool:
    return _quiet(now.astimezone(zone), start=leader.quiet_hours_start, end=leader.quiet_hours_end)


def quiet_end(*, now: datetime.datetime, zone: zoneinfo.ZoneInfo, leader) -> datetime.datetime | None:
    """When the quiet hours a member is in now end (their zone), or None when they are in none."""
    start, end = leader.quiet_hours_start, leader.quiet_hours_end
    local = now.astimezone(zone)
    if not _quiet(local, start=start, end=end):
        return None
    day = local.date()
    if local.time() >= end:  # quiet since this evening: it ends tomorrow morning
        day += datetime.timedelta(days=1)
    return datetime.datetime.combine(day, end, tzinfo=zone)


@dataclasses.dataclass
class ReminderResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    taken_over: int = 0


def _member_zone(time_zone: str, leader) -> zoneinfo.ZoneInfo:
    if time_zone:
        try:
            return zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return leader.zone


def reminders_stale_release(*, now: datetime.datetime) -> int:
    """Claims of workers that died: a claim whose text was recorded (the worker died after handing it over)
    is marked sent with it; one that never got as far is deleted, so the next pass claims and sends it."""
    released = 0
    stale = list(
        Reminder.objects.filter(status=Reminder.Status.CLAIMED, claimed_at__lt=now - REMINDER_STALE_AFTER)
    )
    for reminder in stale:
        message = (
            Message.objects.filter(
                member_id=reminder.member_id,
                direction=Message.Direction.OUTBOUND,
                kind=Message.Kind.NOTICE,
                details__event_reminder=[reminder.event_id, reminder.offset_minutes],
            )
            .order_by("id")
            .first()
        )
        if message is not None and message.status != SmsStatus.FAILED:
            # It may have reached Twilio: at most once rather than twice.
            Reminder.objects.filter(pk=reminder.pk, claim_token=reminder.claim_token).update(
                status=Reminder.Status.SENT, message_id=message.pk, sent_at=message.sent_at or now
            )
        else:
            Reminder.objects.filter(pk=reminder.pk, claim_token=reminder.claim_token).delete()
            released += 1
    return released


_CLAIM_SQL = """
    INSERT INTO events_reminder (event_id, member_id, offset_minutes, status, claim_token, claimed_at)
    SELECT %(event)s, v.member_id, v.offset_minutes, %(status)s, %(token)s, %(now)s
    FROM unnest(%(members)s::bigint[], %(offsets)s::integer[], %(states)s::varchar[])
         AS v(member_id, offset_minutes, wanted)
    WHERE EXISTS (SELECT 1 FROM events_rsvp r
                  WHERE r.event_id = %(event)s AND r.member_id = v.member_id AND r.status = 'confirmed')
    ON CONFLICT (event_id, member_id, offset_minutes) DO NOTHING
    RETURNING member_id, offset_minutes
"""


def reminders_send(
    *, leader, now: datetime.datetime | None = None, batch_size: int = REMINDER_BATCH, crash_after_claim=None
) -> ReminderResult:
    """Send the reminders that are due, in every event about to start: to those with a seat, at the
    organiser's offsets, each shifted before the member's quiet hours when it would fall in them, never in
    quiet hours and never once the event started. Exactly once per (event, member, offset): claimed by an
    insert on that key before sending. Call inside the leader's schema, outside a transaction.

    `crash_after_claim` is for tests: called after a claim is committed, as a worker dying there would."""
    now = now or timezone.now()
    result = ReminderResult()
    result.taken_over = reminders_stale_release(now=now)
    if not leader.is_active:
        return result
    # Events starting soon enough for one of their offsets to be due (a day of leeway for quiet shifts).
    horizon = now + datetime.timedelta(minutes=MAX_OFFSET_MINUTES) + datetime.timedelta(days=1)
    for event in Event.objects.filter(cancelled_at__isnull=True, starts_at__gt=now, starts_at__lte=horizon):
        if not event.reminder_offsets:
            continue
        if now < event.starts_at - datetime.timedelta(
            minutes=max(event.reminder_offsets)
        ) - datetime.timedelta(days=1):
            continue
        _event_reminders_send(
            leader=leader,
            event=event,
            now=now,
            batch_size=batch_size,
            result=result,
            crash_after_claim=crash_after_claim,
        )
    return result


def _event_reminders_send(*, leader, event, now, batch_size, result, crash_after_claim) -> None:
    done = set(Reminder.objects.filter(event=event).values_list("member_id", "offset_minutes"))
    rows = (
        Rsvp.objects.filter(event=event, status=Rsvp.Status.CONFIRMED)
        .filter(Q(member__status=Member.Status.SUBSCRIBED), member__unreachable_at__isnull=True)
        .values_list("member_id", "confirmed_at", "member__time_zone", "member__language", "member__phone")
        .order_by("member_id")
    )
    wanted: list[tuple[int, int, str, str, str]] = []  # member, offset, "send" | "skip", language, phone
    for member_id, confirmed_at, time_zone, language, phone in rows:
        zone = _member_zone(time_zone, leader)
        quiet_now = in_quiet_hours(now=now, zone=zone, leader=leader)
        due_offsets = []
        for offset in event.reminder_offsets:
            if (member_id, offset) in done:
                continue
            at = event.starts_at - datetime.timedelta(minutes=offset)
            if confirmed_at is not None and confirmed_at >= at:
                continue  # they said yes after this reminder's moment: the confirmation told them
            if now >= reminder_due(at=at, zone=zone, leader=leader):
                due_offsets.append(offset)
        if not due_offsets or quiet_now:
            continue  # in quiet hours: later, while the event has not started
        # Several due at once (a worker was down): only the latest reminder goes, the others are skipped.
        due_offsets.sort()
        wanted.append((member_id, due_offsets[0], "send", language, phone))
        wanted.extend((member_id, offset, "skip", language, phone) for offset in due_offsets[1:])
    for start in range(0, len(wanted), batch_size):
        _claim_and_send(
            leader=leader,
            event=event,
            batch=wanted[start : start + batch_size],
            now=now,
            result=result,
            crash_after_claim=crash_after_claim,
        )


def _claim_and_send(*, leader, event, batch, now, result, crash_after_claim) -> None:
    token = random.randint(1, 2**62)
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {
                "event": event.pk,
                "status": Reminder.Status.CLAIMED,
                "token": token,
                "now": now,
                "members": [row[0] for row in batch],
                "offsets": [row[1] for row in batch],
                "states": [row[2] for row in batch],
            },
        )
        claimed = set(cursor.fetchall())
    if not claimed:
        return
    skips = [(row[0], row[1]) for row in batch if row[2] == "skip" and (row[0], row[1]) in claimed]
    for member_id, offset in skips:
        Reminder.objects.filter(
            event=event, member_id=member_id, offset_minutes=offset, claim_token=token
        ).update(status=Reminder.Status.SKIPPED)
        result.skipped += 1
    if crash_after_claim is not None:
        crash_after_claim()
    texts = [
        BulkText(
            member_id=member_id,
            phone=phone,
            body=event_text("reminder", language=language, leader=leader, event=event),
            key=(member_id, offset),
            details={"event_reminder": [event.pk, offset]},
        )
        for member_id, offset, state, language, phone in batch
        if state == "send" and (member_id, offset) in claimed
    ]
    if not texts:
        return
    outcomes = texts_send_batch(leader=leader, texts=texts, kind=Message.Kind.NOTICE)
    sent_at = now  # the pass's moment (the real one, but in tests)
    for outcome in outcomes:
        member_id, offset = outcome.key
        status = {
            "sent": Reminder.Status.SENT,
            "retry": Reminder.Status.SENT,  # queued again in the priority lane, which retries it
            "refused": Reminder.Status.SKIPPED,
        }.get(outcome.outcome, Reminder.Status.FAILED)
        Reminder.objects.filter(
            event=event, member_id=member_id, offset_minutes=offset, claim_token=token
        ).update(status=status, message_id=outcome.message_id, sent_at=sent_at if status == "sent" else None)
        if status == Reminder.Status.SENT:
            result.sent += 1
        elif status == Reminder.Status.SKIPPED:
            result.skipped += 1
        else:
            result.failed += 1


def reminders_due_exist(*, now: datetime.datetime | None = None) -> bool:
    """Whether this leader has events close enough to their start for a reminder to be due (cheap: the
    minute sweep asks it of every leader)."""
    now = now or timezone.now()
    horizon = now + datetime.timedelta(minutes=MAX_OFFSET_MINUTES) + datetime.timedelta(days=1)
    return (
        Event.objects.filter(cancelled_at__isnull=True, starts_at__gt=now, starts_at__lte=horizon)
        .exclude(reminder_offsets=[])
        .exists()
    )


# -- erasure --------------------------------------------------------------------------------------------------


def member_events_erase(*, member_id: int, phone: str) -> None:
    """An erased member's RSVPs (with their history), reminders and check-ins go: whether someone went to a
    political event is theirs to take back."""
    seated = list(
        Rsvp.objects.filter(member_id=member_id, status=Rsvp.Status.CONFIRMED).values_list(
            "event_id", flat=True
        )
    )
    Rsvp.objects.filter(member_id=member_id).delete()
    PendingAnswer.objects.filter(member_id=member_id).delete()
    Reminder.objects.filter(member_id=member_id).delete()
    CheckIn.objects.filter(member_id=member_id).delete()
    if seated:
        # Their seats go to the first in line now, in order, as a no would give them.
        leader = _leader()
        with transaction.atomic():
            for event in Event.objects.select_for_update().filter(pk__in=seated).order_by("pk"):
                _waitlist_promote(leader=leader, event=event)


def _leader() -> Leader:
    return Leader.objects.get(schema_name=connection.schema_name)
