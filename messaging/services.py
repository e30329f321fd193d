"""Workflows on texts: the priority lane for one-to-one and automatic texts, a message's delivery status,
a member's texts and broadcast deliveries erased. The inbound workflow (a fan's text stored and answered, the routing of status
callbacks between messages and broadcast deliveries) is the `inbound` interface's (inbound/services.py)."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from common import events
from members.consent import member_mark_unreachable, member_opt_out, text_refusal
from members.models import Member
from messaging.models import (
    TWILIO_STATUS_MAP,
    Conversation,
    DeliveryStatus,
    Message,
    SmsStatus,
    statuses_below,
)
from messaging.twilio.errors import TransportError


def _enqueue_send(message: Message, not_before=None) -> None:
    schema_name = connection.schema_name
    if not_before is not None and not_before > timezone.now():
        # Held until then (a member's quiet hours): a Schedule row, which survives a worker restart.
        transaction.on_commit(
            lambda: Schedule.objects.create(
                func="messaging.tasks.message_send",
                args=f"{message.pk!r}, {schema_name!r}",
                schedule_type=Schedule.ONCE,
                next_run=not_before,
                repeats=1,
                name=f"message-{schema_name}-{message.pk}"[:100],
            )
        )
        return
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
    not_before=None,
) -> Message:
    """Store one outbound text and queue it in the priority lane (replies and automatic texts).

    Call inside the leader's schema. Nothing is sent, and the message is stored as failed with the reason,
    when the leader is suspended, the phone opted out (as a member, or with a STOP before ever joining)
    or the carrier said the number cannot get texts; except the one confirmation of STOP itself,
    `to_opted_out=True`. Without `member`, the member is found by phone, so no caller can forget a STOP.
    `not_before`: an automatic text nobody is waiting for (an event's promotion) held until then, the end
    of the member's quiet hours; consent is asked again when it is sent.
    """
    now = timezone.now()
    if member is None:
        member = Member.objects.filter(phone=phone).first()
    teammate_reply = sent_by is not None and kind == Message.Kind.CONVERSATION
    if teammate_reply:
        body += reply_signature(leader=leader, user=sent_by)
    if to_opted_out:
        kind = Message.Kind.KEYWORD  # the worker lets only keyword answers reach an opted-out member
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
    elif refusal := text_refusal(phone=phone, member=member, kind=kind):
        message.status = SmsStatus.FAILED
        message.failure_reason = refusal
    message.save()
    if conversation is not None and kind == Message.Kind.CONVERSATION:
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, last_message_preview=body[:120]
        )
    if message.status == SmsStatus.QUEUED:
        _enqueue_send(message, not_before)
        if teammate_reply and conversation is not None:
            conversation_answered(conversation=conversation, by_user_id=sent_by.pk)
    return message


def reply_signature(*, leader, user) -> str:
    """What ends a teammate's reply when the leader signs replies: a new line, then "— <display name>"; the
    full name when the teammate set none, and nothing rather than a username (a login name is no way to
    sign a letter). Replies through the API are signed by the token's teammate: the token acts as them."""
    if not getattr(leader, "sign_replies", False) or user is None:
        return ""
    name = " ".join((user.display_name or user.get_full_name() or "").split())
    return f"\n— {name}" if name else ""


def conversation_answered(*, conversation: Conversation, by_user_id: int | None) -> None:
    """The team answered the fan (a reply went out, or the conversation was marked done): nothing is due
    any more, and the layers above hear of it (common.events.CONVERSATION_ANSWERED: triage closes the
    fan's texts in its matrix). One conditional UPDATE; the event is emitted every time."""
    Conversation.objects.filter(pk=conversation.pk, reply_due_at__isnull=False).update(reply_due_at=None)
    conversation.reply_due_at = None
    events.emit(events.CONVERSATION_ANSWERED, conversation_id=conversation.pk, by_user_id=by_user_id)


# -- status callbacks ---------------------------------------------------------------------------------------


def message_status_apply(*, sid: str, status: str, error_code: int | None) -> bool:
    """Apply a Twilio status callback to the outbound message with this sid, in the current schema.

    Returns False when no message has this sid (it may be a broadcast delivery). Out-of-order and repeated
    callbacks are harmless: the status only moves up in rank (one conditional UPDATE), so delivered never
    goes back to sent, and the opt-out on 21610 happens once.
    """
    new = TWILIO_STATUS_MAP.get((status or "").lower())
    if new is None:
        return Message.objects.filter(twilio_sid=sid).exists()
    changes: dict = {"status": new, "updated_at": timezone.now()}
    if error_code is not None:
        changes["error_code"] = error_code
        changes["failure_reason"] = f"Twilio error {error_code}"
    updated = Message.objects.filter(twilio_sid=sid, status__in=statuses_below(new)).update(**changes)
    if not updated:
        return Message.objects.filter(twilio_sid=sid).exists()
    if error_code is not None:
        error = TransportError("status callback", code=error_code)
        member_id = Message.objects.filter(twilio_sid=sid).values_list("member_id", flat=True).first()
        if member_id is not None and error.opts_out_recipient:
            member = Member.objects.get(pk=member_id)
            member_opt_out(member=member, source="carrier", detail=f"Twilio error {error_code}")
        elif member_id is not None and error.invalid_recipient:
            member_mark_unreachable(member_id=member_id)
    return True


def member_texts_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): their conversation and every text go."""
    Conversation.objects.filter(phone=phone).delete()  # and its messages
    Message.objects.filter(phone=phone).delete()


def member_deliveries_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): their copies of broadcasts go, from every partition
    of the delivery table, with Twilio's SIDs (Twilio's logs tie a SID to the phone) and times of sending.

    Set-based, over the partitioned table (each partition's key is its unique index on member_id). The
    broadcasts' counters are stored on the broadcast, so they do not change. A copy still queued is kept: it
    holds no SID or time, and the dispatcher, which finds the member opted out, marks it skipped and counts
    it, so a broadcast's counters still add up to its recipients. It is locked until the erasure commits, so
    no worker claims it meanwhile with the phone the member had; a copy a worker claimed before is deleted
    (waiting for that claim to commit), so the SID its worker records afterwards finds no row.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM messaging_delivery WHERE member_id = %s AND status = %s FOR UPDATE",
            [member_id, int(DeliveryStatus.QUEUED)],
        )
        cursor.execute(
            "DELETE FROM messaging_delivery WHERE member_id = %s AND status <> %s",
            [member_id, int(DeliveryStatus.QUEUED)],
        )
