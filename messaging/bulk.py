"""Many one-to-one texts at once, paced: each recorded as an outbound message (in the member's conversation,
so the team sees it in the inbox), sent in one batch at the leader's rate, with the answers recorded in one
statement. For features that text many members a personal text each (a survey's first question), where one
queue task per text (`services.text_send`, the priority lane) would flood the lane the team's replies use.

The rate comes from the leader's shared limiter (`messaging.ratelimit`), the one broadcasts use, so a survey
and a broadcast sending at once stay within the number's rate together. Consent is asked again right before
sending (`Member.objects.reachable()`, the SQL spelling of `Member.may_receive`): a member who said STOP
since the caller chose them is recorded as refused and not texted. A retryable refusal by Twilio goes back to
the priority lane's retries (`tasks.message_send`, from a django-q schedule); a carrier's opt-out (21610) or
unreachable number is recorded as `tasks.message_send` records it. Call inside the leader's schema, outside
a transaction (the texts are recorded first, then sent, then their outcome recorded).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from leaders.models import Leader
from members.consent import member_mark_unreachable, member_opt_out
from members.models import REFUSED_OPTED_OUT, Member
from messaging import ratelimit
from messaging.models import Conversation, Message, SmsStatus
from messaging.segments import segment_info
from messaging.tasks import RETRY_DELAYS, retry_later, status_callback_url
from messaging.twilio.transport import OutboundSms, get_transport

logger = logging.getLogger(__name__)

CONCURRENCY = 100  # requests in flight at once for one batch


@dataclasses.dataclass(frozen=True)
class BulkText:
    member_id: int
    phone: str
    body: str
    key: object = None  # the caller's own reference for this text (a run's id), handed back in the outcome
    # Stored with the message (Message.details): what the caller needs to find it again after a crash (an
    # event reminder's key), never personal data.
    details: dict | None = None


@dataclasses.dataclass(frozen=True)
class BulkOutcome:
    key: object
    message_id: int
    outcome: str  # "sent" (Twilio has it), "retry" (queued again in the priority lane), "failed", "refused"


def texts_send_batch(
    *, leader, texts: Sequence[BulkText], kind: str = Message.Kind.NOTICE, concurrency: int = CONCURRENCY
) -> list[BulkOutcome]:
    """Record `texts` as outbound messages, send them at the leader's rate and record what Twilio said; the
    outcome of each, in order. Waits for the limiter when the number's rate is used (size batches to about
    one second of the rate). A suspended leader's texts are recorded as failed and not sent."""
    if not texts:
        return []
    now = timezone.now()
    reachable = set(
        Member.objects.reachable()
        .filter(pk__in=[text.member_id for text in texts])
        .values_list("pk", flat=True)
    )
    conversations = dict(
        Conversation.objects.filter(phone__in=[text.phone for text in texts]).values_list("phone", "pk")
    )
    messages = []
    for text in texts:
        message = Message(
            conversation_id=conversations.get(text.phone),
            member_id=text.member_id,
            phone=text.phone,
            direction=Message.Direction.OUTBOUND,
            kind=kind,
            body=text.body,
            status=SmsStatus.SENDING,
            attempts=1,
            created_at=now,
            details=text.details,
        )
        if not leader.is_active:
            message.status, message.failure_reason = SmsStatus.FAILED, "leader suspended"
        elif text.member_id not in reachable:
            message.status, message.failure_reason = SmsStatus.FAILED, REFUSED_OPTED_OUT
        messages.append(message)
    Message.objects.bulk_create(messages)  # ids come back (PostgreSQL's RETURNING)
    outcomes: dict[int, str] = {
        message.pk: "refused" for message in messages if message.status == SmsStatus.FAILED
    }
    sending = [
        (text, message) for text, message in zip(texts, messages, strict=True) if message.pk not in outcomes
    ]
    if sending:
        outcomes.update(_send(leader=leader, sending=sending, concurrency=concurrency))
    return [
        BulkOutcome(key=text.key, message_id=message.pk, outcome=outcomes[message.pk])
        for text, message in zip(texts, messages, strict=True)
    ]


def _send(*, leader, sending: list[tuple[BulkText, Message]], concurrency: int) -> dict[int, str]:
    rate = leader.sending_rate
    needed = sum(max(1, segment_info(message.body).segments) for _text, message in sending)
    grant_id = None
    while grant_id is None:  # the batch's exact cost, all at once, before anything is sent
        grant = ratelimit.acquire(rate=rate, segments_each=needed, wanted=1)
        if grant.messages:
            grant_id = grant.id
        else:
            time.sleep(min(grant.wait, 0.25))
    callback = status_callback_url()
    sender = str(leader.phone_number)
    try:
        results = get_transport().send_many(
            [
                OutboundSms(
                    to=message.phone,
                    from_=sender,
                    body=message.body,
                    status_callback=callback,
                    reference=str(message.pk),
                )
                for _text, message in sending
            ],
            concurrency=concurrency,
        )
    finally:
        ratelimit.release(grant_ids=[grant_id], rate=rate)
    return _record(leader=leader, sending=sending, results=results)


# One statement for the batch's answers: status, SID, error code and reason, four arrays through unnest.
_RECORD_SQL = """
    UPDATE messaging_message m
    SET status = v.status, twilio_sid = v.sid, error_code = v.code, failure_reason = v.reason,
        sent_at = CASE WHEN v.status = %(wired)s THEN %(now)s::timestamptz END, updated_at = %(now)s
    FROM unnest(%(ids)s::bigint[], %(statuses)s::varchar[], %(sids)s::varchar[], %(codes)s::integer[],
                %(reasons)s::varchar[]) AS v(id, status, sid, code, reason)
    WHERE m.id = v.id AND m.status = %(sending)s
"""


def _record(*, leader, sending: list[tuple[BulkText, Message]], results: list) -> dict[int, str]:
    outcomes: dict[int, str] = {}
    rows: list[tuple] = []
    retries: list[int] = []
    opt_outs: list[tuple[int, int | None]] = []
    unreachable: list[int] = []
    for (text, message), result in zip(sending, results, strict=True):
        if result.ok:
            rows.append((message.pk, SmsStatus.WIRED, result.sid, None, ""))
            outcomes[message.pk] = "sent"
            continue
        error = result.error
        if error.retryable:
            # Back in the priority lane's retries (the first of RETRY_DELAYS), as message_send would do.
            rows.append((message.pk, SmsStatus.QUEUED, None, error.code, ""))
            retries.append(message.pk)
            outcomes[message.pk] = "retry"
            continue
        rows.append((message.pk, SmsStatus.FAILED, None, error.code, str(error)[:200]))
        outcomes[message.pk] = "failed"
        if error.opts_out_recipient:
            opt_outs.append((text.member_id, error.code))
        elif error.invalid_recipient:
            unreachable.append(text.member_id)
    ids, statuses, sids, codes, reasons = (list(column) for column in zip(*rows, strict=True))
    sent = statuses.count(SmsStatus.WIRED)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _RECORD_SQL,
                {
                    "ids": ids,
                    "statuses": [str(status) for status in statuses],
                    "sids": sids,
                    "codes": codes,
                    "reasons": reasons,
                    "now": timezone.now(),
                    "wired": str(SmsStatus.WIRED),
                    "sending": str(SmsStatus.SENDING),
                },
            )
        for member in Member.objects.filter(pk__in=[member_id for member_id, _code in opt_outs]):
            code = dict(opt_outs)[member.pk]
            member_opt_out(member=member, source="carrier", detail=f"Twilio error {code}")
        for member_id in unreachable:
            member_mark_unreachable(member_id=member_id)
        for message_id in retries:
            retry_later(message_id, connection.schema_name, RETRY_DELAYS[0])
        if sent:
            Leader.count_messages_sent(leader.pk, sent)
    return outcomes
