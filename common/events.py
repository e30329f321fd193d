"""A small in-process event bus, so that a lower layer can set off reactions in a higher one without
importing it: the members app says "a member was erased", and the messaging, signup and api apps each
scrub what they hold; the inbound path says "a text was received", and the api app queues the webhook.

Handlers are subscribed in their app's `AppConfig.ready()` and run synchronously, in the emitter's
transaction and schema, in the order they were subscribed: a handler that fails makes the emitting
workflow fail (and roll back), so a reaction is never silently lost. Keep them quick; anything slow is
a queue task the handler enqueues on commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[..., Any]

# The events of the platform, each with the keyword arguments its handlers receive.
MEMBER_SAVED = "member.saved"  # member, created: bool (signup form, API, import, console)
MEMBER_OPTED_OUT = "member.opted_out"  # member, erasing: bool (the opt-out that starts an erasure)
MEMBER_ERASED = "member.erased"  # member_id, phone: the handlers delete or scrub what they hold of them
MESSAGE_RECEIVED = "message.received"  # message_id: a member's text, stored and filed
BROADCAST_COMPLETED = "broadcast.completed"  # broadcast: every delivery has an outcome
MESSAGES_TRIAGED = "messages.triaged"  # message_ids: list[int], labelled by one triage batch
# conversation_id, by_user_id (None for an automatic close): a teammate replied, or marked it done. Its
# fan's texts are answered: no longer open in the triage matrix, no longer due.
CONVERSATION_ANSWERED = "conversation.answered"
# leader: its pilot grew (a region added to Leader.pilot_regions) or ended; the waitlisted phones now inside
# are invited (signup.waitlist), whoever opened it (console, API, staff admin).
PILOT_OPENED = "leader.pilot_opened"
# rsvp (events.Rsvp): a member's answer to an event was recorded or changed (a promotion from the waitlist
# too); check_in (events.CheckIn): a member was checked in. The api app sends them as webhook events.
EVENT_RSVP = "event.rsvp"
EVENT_CHECKED_IN = "event.checked_in"
# texts: list of (member_id, received_at): members' yes-or-no texts that the inbound path queued for events'
# reader instead of reading them itself, now read (in the reader's transaction). The inbound path counts them
# as replies to broadcasts then, off the webhook's path, as it counts other texts at once.
ANSWERS_READ = "events.answers_read"

EVENTS = frozenset(
    {
        MEMBER_SAVED,
        MEMBER_OPTED_OUT,
        MEMBER_ERASED,
        MESSAGE_RECEIVED,
        BROADCAST_COMPLETED,
        MESSAGES_TRIAGED,
        CONVERSATION_ANSWERED,
        PILOT_OPENED,
        EVENT_RSVP,
        EVENT_CHECKED_IN,
        ANSWERS_READ,
    }
)

_handlers: dict[str, list[Handler]] = {name: [] for name in EVENTS}


def subscribe(name: str, handler: Handler) -> None:
    """Call `handler(**payload)` on every `emit(name, ...)`; subscribing the same handler twice is once."""
    if name not in _handlers:
        raise ValueError(f"unknown event {name!r}")
    if handler not in _handlers[name]:
        _handlers[name].append(handler)


def unsubscribe(name: str, handler: Handler) -> None:
    if handler in _handlers.get(name, []):
        _handlers[name].remove(handler)


def emit(name: str, **payload: Any) -> None:
    """Run every handler of `name` now, in order."""
    for handler in _handlers[name]:
        handler(**payload)


def has_handlers(name: str) -> bool:
    return bool(_handlers[name])
