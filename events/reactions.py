"""What events do when something happens elsewhere (common.events): an erased member's RSVPs, reminders and
check-ins go. Connected in EventsConfig.ready()."""

from __future__ import annotations

from common import events
from events.services import member_events_erase


def connect() -> None:
    events.subscribe(events.MEMBER_ERASED, member_events_erase)
