"""Builders and steps for the events tests: an event in Surrey (British Columbia), members placed by
coordinates around it, an alert sent through the broadcasts' own queueing and dispatch (the fake Twilio),
replies posted as Twilio posts them (signed) to the real receiver."""

from __future__ import annotations

import datetime
import math
import uuid
import zoneinfo

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from events.models import Event
from events.services import answers_read, event_alert_create, event_create
from members.models import Member
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, Message
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone
from tests.queue import run_queued

# A hall in Surrey, BC (the venue by coordinates and an address, not a gazetteer place).
SURREY = (49.1913, -122.8490)
VANCOUVER_ZONE = "America/Vancouver"


def saturday_at(hour: int, *, weeks: int = 1) -> datetime.datetime:
    """A Saturday at `hour`, Vancouver time, at least a few days ahead."""
    zone = zoneinfo.ZoneInfo(VANCOUVER_ZONE)
    today = timezone.now().astimezone(zone).date()
    days = (5 - today.weekday()) % 7 + 7 * weeks
    return datetime.datetime.combine(today + datetime.timedelta(days=days), datetime.time(hour), tzinfo=zone)


def town_hall(leader, **data) -> Event:
    start = data.pop("starts_at", None) or saturday_at(14)
    end = start + datetime.timedelta(hours=2) if isinstance(start, datetime.datetime) else start
    fields = {
        "title": "Town hall",
        "latitude": SURREY[0],
        "longitude": SURREY[1],
        "address": "City Hall, 13450 104 Ave",
        "time_zone": VANCOUVER_ZONE,
        "starts_at": start,
        "ends_at": end,
        "code_word": "HALL" + uuid.uuid4().hex[:6].upper(),
        "languages": ["en", "fr", "es", "de", "ar"],
        **data,
    }
    with schema_context(leader.schema_name):
        return event_create(leader=leader, data=fields)


def point_at(origin: tuple[float, float], *, km: float, bearing: float) -> tuple[float, float]:
    """The point `km` from `origin` along `bearing` degrees, on a sphere (the destination formula)."""
    radius = 6371.0088
    lat1, lon1, theta, delta = (
        math.radians(origin[0]),
        math.radians(origin[1]),
        math.radians(bearing),
        km / radius,
    )
    lat2 = math.asin(math.sin(lat1) * math.cos(delta) + math.cos(lat1) * math.sin(delta) * math.cos(theta))
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(lat1), math.cos(delta) - math.sin(lat1) * math.sin(lat2)
    )
    return math.degrees(lat2), math.degrees(lon2)


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The spherical law of cosines: an independent check of the audience's haversine."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    cosine = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return 6371.0088 * math.acos(max(-1.0, min(1.0, cosine)))


def resident(
    leader, *, at: tuple[float, float], language: str = "en", region: str = "British Columbia", **fields
):
    """A member living at `at` (coordinates, in Vancouver's zone unless told)."""
    with schema_context(leader.schema_name):
        return Member.objects.create(
            phone=unique_phone(),
            first_name=fields.pop("first_name", "Sam"),
            language=language,
            latitude=at[0],
            longitude=at[1],
            region=region,
            country="CA",
            time_zone=fields.pop("time_zone", VANCOUVER_ZONE),
            **fields,
        )


def alert(leader, event: Event, filters: dict, body: str = "") -> Broadcast:
    """The organiser alerts `filters`'s members; the broadcasts' queueing and dispatch send it."""
    with schema_context(leader.schema_name):
        broadcast = event_alert_create(leader=leader, event=event, filters=filters, body=body)
        broadcast_queue(leader=leader, broadcast=broadcast)
        broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
        broadcast.refresh_from_db()
    return broadcast


def answers_read_now(leader) -> int:
    """What the answers' worker does after a kick: the queued runs taken off the queue and the leader's
    waiting answers read (directly too: a kick within ANSWERS_KICK_INTERVAL of the last queues no run, and
    the running one would find the answer). The number of answers read."""
    runs = run_queued("events.tasks.answers_read", settings.ANSWERS_CLUSTER)
    read = sum(int(run.split()[1]) for run in runs if run.startswith("read "))
    with schema_context(leader.schema_name):
        return read + answers_read(leader=leader, last_look=0)


def reply(client, leader, phone: str, body: str, capture) -> list[str]:
    """The member texts `body` through the signed webhook; what comes back: the TwiML answer's texts, then
    the texts events' reader sends (a yes or no is read off the webhook's path: the reader's queued run is
    run here, as the answers' worker would)."""
    with schema_context(leader.schema_name):
        last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with capture(execute=True):
        response = text(client, leader, phone, body)
    assert response.status_code == 200
    answered = twiml_messages(response)
    answers_read_now(leader)
    with schema_context(leader.schema_name):
        sent = Message.objects.filter(pk__gt=last, phone=phone, direction=Message.Direction.OUTBOUND)
        later = list(sent.filter(kind=Message.Kind.NOTICE).order_by("pk"))
    return answered + [message.body for message in later if message.body not in answered]
