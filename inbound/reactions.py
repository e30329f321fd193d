"""What the inbound path does when other apps report on texts it handed them (common.events)."""

from __future__ import annotations

import datetime

from common import events
from messaging.broadcasts.feedback import broadcast_replies_record


def answers_read(*, texts: list[tuple[int, datetime.datetime]]) -> None:
    """Yes-or-no texts that RECEIVE queued for events' reader (so the webhook neither read them nor counted
    them as replies) were read: counted now as replies to the broadcasts their members got, in one statement
    for the reader's batch, in its transaction. On the webhook each would have updated its broadcast's one
    counter row, where a burst of answers to an alert queued on that row's lock."""
    broadcast_replies_record(texts=texts)


def connect() -> None:
    events.subscribe(events.ANSWERS_READ, answers_read)
