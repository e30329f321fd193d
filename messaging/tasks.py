"""Queue tasks for messaging: ids and a schema name in, schema_context inside, claim before acting."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule
from django_tenants.utils import schema_context

from common.phones import phone_mask
from leaders.models import Leader
from members.consent import (
    member_mark_unreachable,
    member_opt_out,
    phone_consent_record,
    phone_opted_out,
    text_refusal,
)
from members.models import ConsentRecord
from messaging.models import Message, SmsStatus
from messaging.twilio.transport import OutboundSms, get_transport

logger = logging.getLogger(__name__)

# One-to-one and automatic texts: a few quick retries, then the message is marked failed.
RETRY_DELAYS = (datetime.timedelta(seconds=5), datetime.timedelta(seconds=30), datetime.timedelta(minutes=2))


def status_callback_url() -> str:
    return settings.PUBLIC_BASE_URL + "/webhooks/twilio/status/"


def message_send(message_id: int, schema_name: str) -> str:
    """Send one queued outbound message exactly once: claim it, call Twilio, record the answer."""
    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    with schema_context(schema_name):
        claimed = Message.objects.filter(pk=message_id, status=SmsStatus.QUEUED).update(
            status=SmsStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        if not claimed:
            return "already claimed"
        message = Message.objects.select_related("member").get(pk=message_id)
        refusal = _refusal(leader, message)
        if refusal:
            Message.objects.filter(pk=message_id).update(status=SmsStatus.FAILED, failure_reason=refusal)
            return refusal
        try:
            result = get_transport().send(
                OutboundSms(
                    to=message.phone,
                    from_=str(leader.phone_number),
                    body=message.body,
                    status_callback=status_callback_url(),
                    reference=str(message.pk),
                )
            )
        except Exception:
            # The transport reports Twilio's refusals in the result; an exception is a bug. Whether Twilio
            # got the message is unknown, so it is not retried (a retry could text the fan twice).
            logger.exception("unexpected error sending message %s", message_id)
            Message.objects.filter(pk=message_id, status=SmsStatus.SENDING).update(
                status=SmsStatus.FAILED, failure_reason="unexpected error while sending"
            )
            return "failed"
        if result.ok:
            Message.objects.filter(pk=message_id, status=SmsStatus.SENDING).update(
                status=SmsStatus.WIRED, twilio_sid=result.sid, sent_at=timezone.now()
            )
            Leader.count_messages_sent(leader.pk, 1)
            return "sent"
        error = result.error
        if error.retryable and message.attempts <= len(RETRY_DELAYS):
            delay = RETRY_DELAYS[message.attempts - 1]
            Message.objects.filter(pk=message_id, status=SmsStatus.SENDING).update(
                status=SmsStatus.QUEUED, error_code=error.code
            )
            retry_later(message_id, schema_name, delay)
            logger.info(
                "retrying message %s to %s in %s: %s", message_id, phone_mask(message.phone), delay, error
            )
            return "retry"
        Message.objects.filter(pk=message_id).update(
            status=SmsStatus.FAILED, error_code=error.code, failure_reason=str(error)[:200]
        )
        if error.opts_out_recipient:
            if message.member_id:
                member_opt_out(member=message.member, source="carrier", detail=f"Twilio error {error.code}")
            else:
                _phone_opt_out(message.phone, error.code)
        elif message.member_id and error.invalid_recipient:
            member_mark_unreachable(member_id=message.member_id)
        return "failed"


def _refusal(leader, message: Message) -> str:
    """Why this message must not be sent now, or "" to send it. Checked again at sending time: the fan may
    have texted STOP, or the leader been suspended, since it was queued."""
    if not leader.is_active:
        return "leader suspended"
    # A keyword answer (the STOP confirmation itself, HELP) is the one text an opted-out member may get.
    return text_refusal(phone=message.phone, member=message.member, kind=message.kind)


def _phone_opt_out(phone: str, code: int | None) -> None:
    """The carrier says a phone that is no member unsubscribed: remember it like a STOP (no more links)."""
    if not phone_opted_out(phone):
        phone_consent_record(
            phone=phone,
            kind=ConsentRecord.Kind.OPT_OUT,
            source=ConsentRecord.Source.CARRIER,
            detail=f"Twilio error {code}",
        )


def retry_later(message_id: int, schema_name: str, delay: datetime.timedelta) -> None:
    # A Schedule row rather than a sleep in the worker: the retry survives a worker restart, and the
    # worker is free for other texts meanwhile. Names are unique in django-q: the attempt makes it so.
    Schedule.objects.create(
        func="messaging.tasks.message_send",
        args=f"{message_id!r}, {schema_name!r}",
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + delay,
        repeats=1,
        name=f"retry-{schema_name}-{message_id}-{timezone.now().timestamp():.6f}"[:100],
    )
