"""Rows the tests build, built one way: members, fans at a place, broadcasts, conversations and their texts.

Every builder saves in the current schema, or in `leader`'s when one is given, and takes keyword arguments
only: any model field given overrides the builder's default. Phones are fresh fictional numbers
(tests.phones.unique_phone) unless given.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid

from django.utils import timezone
from django_tenants.utils import schema_context

from members.models import Member
from messaging.models import Broadcast, Conversation, Delivery, Message, SmsStatus
from places.gazetteer import Place
from tests.phones import unique_phone
from tests.places import MONTREAL
from topics.models import Topic
from triage.models import Count, Label

FAN_BIRTH_DATE = datetime.date(1990, 5, 17)


def _schema(leader):
    return schema_context(leader.schema_name) if leader is not None else contextlib.nullcontext()


def member(*, leader=None, **fields) -> Member:
    """A saved member: the model's defaults (subscribed, English, joined now) and a fresh phone."""
    fields["phone"] = fields.get("phone") or unique_phone()
    with _schema(leader):
        return Member.objects.create(**fields)


def fan(*, place: Place | None = MONTREAL, tag: str | None = None, leader=None, **fields) -> Member:
    """A member living at a gazetteer place, as broadcasts' audiences are drawn from: Sam, a woman born
    1990-05-17, who typed the place's name as her city. `place=None` is a city the gazetteer did not know
    (no place, no coordinates); `tag` tags the fan with it alone, so a test's audience is only its own fans."""
    row = Member(
        phone=unique_phone(),
        first_name="Sam",
        gender=Member.Gender.FEMALE,
        birth_date=FAN_BIRTH_DATE,
        city=place.name if place is not None else "",
    )
    row.place_set(place)
    if tag is not None:
        row.tags = [tag]
    for name, value in fields.items():
        setattr(row, name, value)
    with _schema(leader):
        row.save(force_insert=True)
    return row


def broadcast(*, leader=None, body: str = "Rally at 7pm", filters: dict | None = None, **fields) -> Broadcast:
    """A broadcast made as the console makes one (`Broadcast.create`: a draft), then given `fields` as they
    stand in the table (status, queued_at, counts…) without going through the transitions."""
    composed = {
        name: fields.pop(name) for name in ("send_at", "ignore_quiet_hours", "created_by") if name in fields
    }
    with _schema(leader):
        row = Broadcast.create(body=body, filters=filters, **composed)
        if fields:
            Broadcast.objects.filter(pk=row.pk).update(**fields)
            row.refresh_from_db()
    return row


def delivery(*, leader=None, broadcast: Broadcast, member: Member, **fields) -> Delivery:
    """A broadcast's copy for one member (queued and due now, unless `fields` say otherwise), in the broadcast's
    own partition, attached first when it is not yet."""
    fields.setdefault("due_at", timezone.now())
    with _schema(leader):
        Delivery.partition_ensure(broadcast.pk)
        return Delivery.objects.create(broadcast=broadcast, member=member, **fields)


def conversation(*, leader=None, member: Member | None = None, **fields) -> Conversation:
    """An inbox conversation, with `member`'s phone unless a phone is given (a fresh one without a member)."""
    if member is not None:
        fields["member"] = member
    fields.setdefault("phone", member.phone if member is not None else unique_phone())
    with _schema(leader):
        return Conversation.objects.create(**fields)


def message(
    *,
    leader=None,
    conversation: Conversation | None = None,
    member: Member | None = None,
    direction: str = Message.Direction.INBOUND,
    body: str = "Hello",
    **fields,
) -> Message:
    """A text, received from the fan by default (delivered, when outbound). Its phone is the one given, or
    the conversation's, or the member's, or a fresh one; it belongs to `member` only when one is given."""
    if "phone" not in fields:
        fields["phone"] = conversation.phone if conversation else member.phone if member else unique_phone()
    if "status" not in fields:
        inbound = direction == Message.Direction.INBOUND
        fields["status"] = SmsStatus.RECEIVED if inbound else SmsStatus.DELIVERED
    if member is not None:
        fields["member"] = member
    with _schema(leader):
        return Message.objects.create(conversation=conversation, direction=direction, body=body, **fields)


def new_tag(prefix: str = "t") -> str:
    """A tag no other test uses: a test tags its own members with it, so its audience is only them."""
    return prefix + uuid.uuid4().hex[:10]


def topic(*, leader=None, name: str | None = None, **fields) -> Topic:
    """A leader's topic (a fresh name unless given), last in order."""
    fields.setdefault("position", 0)
    with _schema(leader):
        return Topic.objects.create(name=name or "topic " + uuid.uuid4().hex[:8], **fields)


def label(*, leader=None, message: Message, topic: Topic | None = None, **fields) -> Label:
    """What triage would write for an inbound text: its topic (None: unsorted), language and place; the
    conversation, member and arrival copied from the message."""
    fields.setdefault("conversation_id", message.conversation_id)
    fields.setdefault("member_id", message.member_id)
    fields.setdefault("received_at", message.created_at)
    fields.setdefault("confidence", 0.9 if topic is not None else 0.2)
    with _schema(leader):
        return Label.objects.create(message=message, topic=topic, **fields)


def count(*, leader=None, hour: datetime.datetime | None = None, topic_id: int = 0, **fields) -> Count:
    """A matrix counter row (topic_id 0: unsorted), for the hour of `hour` (default: this hour)."""
    hour = (hour or timezone.now()).replace(minute=0, second=0, microsecond=0)
    with _schema(leader):
        return Count.objects.create(hour=hour, topic_id=topic_id, **fields)
