"""Workflows on texts: queueing one-to-one and automatic texts in the priority lane."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from messaging.models import Conversation, Message, SmsStatus
from signup.models import Member


def _enqueue_send(message: Message) -> None:
    from django_q.tasks import async_task

    schema_name = connection.schema_name
    # After commit, so the worker never looks for a row it cannot see yet.
    transaction.on_commit(
        lambda: async_task(
            "messaging.tasks.message_send",
            message.pk,
            schema_name,
            task_name=f"message-{schema_name}-{message.pk}",
        )
    )


def text_send(
    *,
    leader,
    phone: str,
    body: str,
    kind: str = Message.Kind.CONVERSATION,
    member: Member | None = None,
    conversation: Conversation | None = None,
    sent_by=None,
    to_opted_out: bool = False,
) -> Message:
    """Store one outbound text and queue it in the priority lane (replies and automatic texts).

    Call inside the leader's schema. Nothing is sent, and the message is stored as failed with the reason,
    when the leader is suspended or the member opted out (except the one confirmation of STOP itself,
    `to_opted_out=True`).
    """
    now = timezone.now()
    message = Message(
        conversation=conversation,
        member=member,
        phone=phone,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        status=SmsStatus.QUEUED,
        sent_by=sent_by,
        created_at=now,
    )
    if not leader.is_active:
        message.status = SmsStatus.FAILED
        message.failure_reason = "leader suspended"
    elif member is not None and not member.is_subscribed and not to_opted_out:
        message.status = SmsStatus.FAILED
        message.failure_reason = "member opted out"
    message.save()
    if conversation is not None and kind == Message.Kind.CONVERSATION:
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, last_message_preview=body[:120]
        )
    if message.status == SmsStatus.QUEUED:
        _enqueue_send(message)
    return message
