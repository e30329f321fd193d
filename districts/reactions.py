"""What districts do when something happens elsewhere (common.events): a member who opts out or is erased
is no longer a volunteer; a member saved (who may have moved) is placed again if they volunteer. Connected
in DistrictsConfig.ready()."""

from __future__ import annotations

from common import events
from districts.services import member_volunteer_end, member_volunteer_erase, member_volunteer_moved


def connect() -> None:
    events.subscribe(events.MEMBER_OPTED_OUT, member_volunteer_end)
    events.subscribe(events.MEMBER_ERASED, member_volunteer_erase)
    events.subscribe(events.MEMBER_SAVED, member_volunteer_moved)
