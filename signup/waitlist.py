"""Opening a pilot's regions: every waitlisted phone now inside gets one signup link, paced, exactly once.

Whatever opens a region (the console's Waitlist page, the settings page, the API, the staff admin) goes
through `leaders.services.leader_pilot_changed`, which emits `common.events.PILOT_OPENED`; this module's
handler queues `signup.tasks.waitlist_invite` on commit, in the broadcasts' cluster (paced, long work that
must not hold the workers of one-to-one texts).

The invitation run (`waitlist_invite`), in the leader's schema:
* takes room for a batch from the leader's shared rate limiter (`messaging.ratelimit`, the one broadcasts
  use, in segments: the longest invitation in any language), so invitations and broadcasts together stay
  within `Leader.sending_rate`;
* claims that many entries inside the open area (`members.waitlist.waitlist_claim`: `UPDATE … WHERE
  invited_at IS NULL … FOR UPDATE SKIP LOCKED RETURNING`): two openings, or two workers, never claim one
  phone twice;
* drops the entries of phones whose opt-out stands in the consent ledger (never invited) and of phones that
  became members meanwhile; stores a signup link and an outbound message for each of the others, commits,
  then sends the batch (many requests in flight) and records Twilio's answers;
* a phone Twilio said to retry later (429, 5xx) is given back, and the run is tried again in a minute; a
  refusal is recorded on the message (a carrier's "unsubscribed" also in the ledger). A worker that dies
  between its commit and Twilio's answer loses at most that batch's invitations (never sends one twice):
  those fans' regions are open, so texting the number again gets them the welcome and a link.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from common import events
from leaders.models import Leader
from members.consent import phone_consent_record, phone_opted_out, phones_opt_out_standing
from members.models import ConsentRecord, Member
from members.waitlist import waitlist_claim, waitlist_drop, waitlist_entry_erase, waitlist_unclaim
from messaging import ratelimit
from messaging.models import Message, SmsStatus
from messaging.segments import segment_info
from messaging.tasks import status_callback_url
from messaging.texts import LANGUAGES, auto_text
from messaging.twilio.transport import OutboundSms, get_transport
from signup.models import SignupToken
from signup.services import SIGNUP_LINK_LIFETIME, signup_link_new, token_hash

TASK = "signup.tasks.waitlist_invite"
BATCH_SIZE = 100  # entries claimed at most per grant; a number's rate usually allows fewer
TIME_BUDGET = 240.0  # seconds a run sends before handing over to a fresh task
RETRY_AFTER = datetime.timedelta(minutes=1)
CONCURRENCY = 50  # requests in flight per batch


@dataclasses.dataclass
class InviteResult:
    outcome: str  # "done" (nobody left to invite), "budget" (more to send), "retry" (Twilio said later),
    #               "suspended"
    invited: int = 0
    skipped: int = 0  # opted out or already members: dropped, never invited
    failed: int = 0


def cluster() -> str | None:
    return getattr(settings, "BROADCAST_CLUSTER", "broadcasts") or None


def waitlist_invite_enqueue(schema_name: str) -> None:
    async_task(TASK, schema_name, task_name=f"waitlist-invite-{schema_name}", cluster=cluster())


def waitlist_invite_later(schema_name: str, delay: datetime.timedelta = RETRY_AFTER) -> None:
    # A Schedule row, not a sleep: the retry survives a worker restart. One per leader at a time.
    Schedule.objects.update_or_create(
        name=f"waitlist-invite-{schema_name}",
        defaults={
            "func": TASK,
            "args": repr(schema_name),
            "schedule_type": Schedule.ONCE,
            "next_run": timezone.now() + delay,
            "repeats": 1,
            "cluster": cluster(),
        },
    )


def waitlist_opened(*, leader: Leader) -> None:
    """common.events.PILOT_OPENED: invite the waitlisted phones now inside, once the opening commits."""
    schema_name = leader.schema_name
    transaction.on_commit(lambda: waitlist_invite_enqueue(schema_name))


@functools.lru_cache(maxsize=256)
def _invite_segments(leader_name: str, link_length: int) -> int:
    """The most segments an invitation takes, in any language (what a grant is counted in)."""

    class _Named:
        name = leader_name

    link = "x" * link_length
    return max(
        segment_info(auto_text("waitlist_invite", language=language, leader=_Named, link=link)).segments
        for language in LANGUAGES
    )


def waitlist_invite(
    *,
    leader: Leader,
    time_budget: float = TIME_BUDGET,
    batch_size: int = BATCH_SIZE,
    clock=time.monotonic,
) -> InviteResult:
    """Invite the waitlisted phones inside the leader's open area (accepted countries; the pilot's regions,
    or every region once the pilot ended), paced at the leader's sending rate, each exactly once. Call
    inside the leader's schema; the queue task does."""
    result = InviteResult(outcome="done")
    if not leader.is_active:
        result.outcome = "suspended"  # nothing is claimed: the next opening, or START, sends them
        return result
    countries, regions = list(leader.allowed_countries), list(leader.pilot_regions)
    _, sample_link = signup_link_new(leader=leader)
    segments_each = _invite_segments(leader.name, len(sample_link))
    rate = leader.sending_rate
    deadline = clock() + time_budget
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            result.outcome = "budget"
            return result
        grant = ratelimit.acquire(rate=rate, segments_each=segments_each, wanted=batch_size)
        if grant.messages == 0:
            time.sleep(min(grant.wait, remaining))
            continue
        claimed_at = timezone.now()
        with transaction.atomic():
            claimed = waitlist_claim(
                countries=countries, regions=regions, limit=grant.messages, now=claimed_at
            )
            if not claimed:
                ratelimit.cancel(grant_id=grant.id)
                return result
            outbox = _batch_store(leader=leader, claimed=claimed, result=result)
        try:
            retry = _batch_send(leader=leader, outbox=outbox, claimed_at=claimed_at, result=result)
        finally:
            ratelimit.release(grant_ids=[grant.id], rate=rate)
        if retry:
            result.outcome = "retry"
            return result


def _batch_store(*, leader: Leader, claimed: list[tuple[int, str, str]], result: InviteResult) -> list:
    """Drop the claimed phones that must not be invited; store a link and a message for the others.
    Returns (entry id, message) pairs to send."""
    phones = [phone for _, phone, _ in claimed]
    opted_out = phones_opt_out_standing(phones)
    members = set(Member.objects.filter(phone__in=phones).values_list("phone", flat=True))
    dropped = [entry_id for entry_id, phone, _ in claimed if phone in opted_out or phone in members]
    waitlist_drop(entry_ids=dropped)
    result.skipped += len(dropped)
    now = timezone.now()
    tokens, messages, entry_ids = [], [], []
    for entry_id, phone, language in claimed:
        if entry_id in dropped:
            continue
        raw, link = signup_link_new(leader=leader)
        tokens.append(
            SignupToken(
                token_hash=token_hash(raw),
                phone=phone,
                language=language,
                created_at=now,
                expires_at=now + SIGNUP_LINK_LIFETIME,
            )
        )
        messages.append(
            Message(
                phone=phone,
                direction=Message.Direction.OUTBOUND,
                kind=Message.Kind.WELCOME,
                body=auto_text("waitlist_invite", language=language, leader=leader, link=link),
                status=SmsStatus.SENDING,
                attempts=1,
                created_at=now,
            )
        )
        entry_ids.append(entry_id)
    SignupToken.objects.bulk_create(tokens)
    Message.objects.bulk_create(messages)
    return list(zip(entry_ids, messages, strict=True))


def _batch_send(*, leader: Leader, outbox: list, claimed_at, result: InviteResult) -> bool:
    """Send the stored invitations and record Twilio's answers; True when some must be tried later."""
    if not outbox:
        return False
    sender = str(leader.phone_number)
    results = get_transport().send_many(
        [
            OutboundSms(
                to=message.phone,
                from_=sender,
                body=message.body,
                status_callback=status_callback_url(),
                reference=str(message.pk),
            )
            for _, message in outbox
        ],
        concurrency=CONCURRENCY,
    )
    now = timezone.now()
    later: list[int] = []
    sent = 0
    for (entry_id, message), answer in zip(outbox, results, strict=True):
        if answer.ok:
            Message.objects.filter(pk=message.pk).update(
                status=SmsStatus.WIRED, twilio_sid=answer.sid, sent_at=now, updated_at=now
            )
            sent += 1
            continue
        error = answer.error
        reason = "Twilio asked to try later" if error.retryable else str(error)[:200]
        Message.objects.filter(pk=message.pk).update(
            status=SmsStatus.FAILED, error_code=error.code, failure_reason=reason, updated_at=now
        )
        if error.retryable:
            later.append(entry_id)
            continue
        result.failed += 1
        if error.opts_out_recipient and not phone_opted_out(message.phone):
            phone_consent_record(
                phone=message.phone,
                kind=ConsentRecord.Kind.OPT_OUT,
                source=ConsentRecord.Source.CARRIER,
                detail=f"Twilio error {error.code}",
            )
    result.invited += sent
    if sent:
        Leader.count_messages_sent(leader.pk, sent)
    if later:
        waitlist_unclaim(entry_ids=later, claimed_at=claimed_at)
    return bool(later)


def connect() -> None:
    """Subscribe the waitlist's reactions (SignupConfig.ready)."""
    events.subscribe(events.PILOT_OPENED, waitlist_opened)
    events.subscribe(events.MEMBER_ERASED, waitlist_entry_erase)
