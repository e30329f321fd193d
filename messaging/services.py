"""Workflows on texts: the priority lane for one-to-one and automatic texts, inbound texts, delivery statuses."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import threading
import time
from typing import TYPE_CHECKING

import phonenumbers
from django.db import connection, transaction
from django.utils import timezone

from common import events
from members.consent import phone_consent_record, phone_hash, phone_opted_out, text_refusal
from members.models import Member
from messaging.models import Conversation, Message, SmsStatus

if TYPE_CHECKING:
    from leaders.models import Leader


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
    when the leader is suspended, the phone opted out (as a member, or with a STOP before ever joining)
    or the carrier said the number cannot get texts; except the one confirmation of STOP itself,
    `to_opted_out=True`. Without `member`, the member is found by phone, so no caller can forget a STOP.
    """
    now = timezone.now()
    if member is None:
        member = Member.objects.filter(phone=phone).first()
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
        _enqueue_send(message)
    return message


# -- inbound texts -----------------------------------------------------------------------------------------
#
# The webhook's hot path (docs/architecture.md, "Inbound texts"): the leader comes from an in-process cache,
# and an ordinary text from a member costs one SQL statement, which reads the member, stores the text once
# (INSERT … ON CONFLICT DO NOTHING), files it in the conversation and counts it as a broadcast reply; a
# newcomer's welcome costs one more. Automatic answers go back in the TwiML answer, recorded as outbound
# messages; only keywords take the slower path (the ORM, in a transaction).

RESEND_LINK_AFTER = datetime.timedelta(minutes=5)
LEADER_CACHE_SECONDS = 5.0  # how stale a leader's settings (suspension included) may be in a web process
_LEADER_CACHE_MAX = 10_000

_leader_cache: dict[str, tuple[float, object | None]] = {}
_leader_cache_lock = threading.Lock()


def leader_for_number(number: str) -> Leader | None:
    """The active or suspended leader whose published number is `number` (E.164), or None.

    Cached in the process for a few seconds, misses included: a burst of texts to one number does not
    read the public table once per text. A leader's change of settings is seen within LEADER_CACHE_SECONDS.
    """
    from leaders.models import Leader

    now = time.monotonic()
    cached = _leader_cache.get(number)
    if cached is not None and cached[0] > now:
        return cached[1]
    leader = Leader.objects.filter(phone_number=number).first()
    with _leader_cache_lock:
        if len(_leader_cache) >= _LEADER_CACHE_MAX:
            _leader_cache.clear()
        _leader_cache[number] = (now + LEADER_CACHE_SECONDS, leader)
    return leader


def leader_cache_clear(**_signal_kwargs) -> None:
    with _leader_cache_lock:
        _leader_cache.clear()


def _leader_cache_watch() -> None:
    # A leader saved in this process (suspended in the admin, settings changed in a test) is seen at once
    # here; other processes see it within LEADER_CACHE_SECONDS. Connected when this module is imported,
    # which is also when the cache starts being filled.
    from django.db.models.signals import post_save

    from leaders.models import Leader

    post_save.connect(leader_cache_clear, sender=Leader, dispatch_uid="messaging.leader_cache_clear")


_leader_cache_watch()


@dataclasses.dataclass(frozen=True)
class InboundSms:
    """One inbound text as Twilio posted it, already checked (E.164 numbers, a plausible sid)."""

    sid: str
    from_: str
    to: str
    body: str
    details: dict[str, str] | None = None


@dataclasses.dataclass(frozen=True)
class InboundResult:
    message_id: int | None  # None: a retry of a text already stored
    reply: str | None = None  # what to answer in the TwiML, if anything

    @property
    def duplicate(self) -> bool:
        return self.message_id is None


# One statement stores the text and, for a member's ordinary text, files it in their conversation and counts
# it as a reply to the broadcast they got last:
# - `fan` reads the member (if any) by phone;
# - `filing` is that member when the text belongs in the inbox (not a keyword; START from someone already
#   subscribed is an answer, "YES", not an opt-in);
# - `existing`/`created` find or create the conversation (created with unread_count 1 for this text);
# - `stored` inserts the text once (ON CONFLICT on the sid: Twilio's retries change nothing);
# - `bumped` counts it unread in an existing conversation, only if `stored` really inserted it;
# - `recent`: for a filed text, the broadcasts queued recently enough to hold a delivery sent within
#   REPLY_WINDOW; broadcast_reply_record then counts the text as a reply to the latest one the member got,
#   once per member and broadcast (broadcast results, docs/broadcasts.md).
# Every table is qualified with the leader's schema ({schema}), so the statement needs no `SET search_path`
# and runs as a prepared statement, parsed and planned once per connection. A single statement is atomic by
# itself: no transaction round trips on the hot path.
_RECEIVE_SQL = """
WITH fan AS (SELECT id, status, language FROM {schema}.signup_member WHERE phone = %(phone)s),
filing AS (SELECT id FROM fan WHERE %(plain)s OR (%(start)s AND status = 'subscribed')),
existing AS (
    SELECT id FROM {schema}.messaging_conversation
    WHERE phone = %(phone)s AND EXISTS (SELECT 1 FROM filing)
),
created AS (
    INSERT INTO {schema}.messaging_conversation
        (phone, member_id, status, unread_count, last_message_at, last_message_preview, created_at)
    SELECT %(phone)s, filing.id, 'open', 1, %(now)s, %(preview)s, %(now)s FROM filing
    WHERE NOT EXISTS (SELECT 1 FROM existing)
        AND NOT EXISTS (SELECT 1 FROM {schema}.messaging_message WHERE twilio_sid = %(sid)s)
    ON CONFLICT (phone) DO NOTHING
    RETURNING id
),
stored AS (
    INSERT INTO {schema}.messaging_message
        (member_id, conversation_id, phone, direction, kind, body, status, twilio_sid, failure_reason,
         attempts, created_at, updated_at, details)
    VALUES ((SELECT id FROM fan), COALESCE((SELECT id FROM existing), (SELECT id FROM created)), %(phone)s,
            'in', 'conversation', %(body)s, 'received', %(sid)s, '', 0, %(now)s, %(now)s, %(details)s::jsonb)
    ON CONFLICT (twilio_sid) DO NOTHING
    RETURNING id, conversation_id
),
bumped AS (
    UPDATE {schema}.messaging_conversation SET
        unread_count = unread_count + 1,
        last_message_at = GREATEST(last_message_at, %(now)s),
        last_message_preview = %(preview)s,
        status = 'open',
        member_id = COALESCE(member_id, (SELECT id FROM filing))
    WHERE id = (SELECT id FROM existing) AND EXISTS (SELECT 1 FROM stored)
),
recent AS (
    -- The broadcasts recent enough to hold a delivery to this member within the reply window: a few ids,
    -- from the index on queued_at. Their deliveries are read afterwards by a statement that names them
    -- (broadcast_reply_record): named here, the partitioned table would make this prepared statement's
    -- plan hold, and lock on every run, every partition of every broadcast ever sent.
    SELECT array_agg(broadcast.id) AS ids FROM {schema}.messaging_broadcast AS broadcast
    WHERE broadcast.queued_at >= %(queued_since)s
        AND EXISTS (SELECT 1 FROM filing) AND EXISTS (SELECT 1 FROM stored)
)
SELECT (SELECT id FROM stored), (SELECT conversation_id FROM stored), fan.id, fan.status, (SELECT ids FROM recent)
FROM (SELECT 1) AS one LEFT JOIN fan ON TRUE
"""

# The rare fallback when a member's first two texts arrive at the same moment and the other one created
# the conversation between our read and our insert: file the stored text in it.
_FILE_SQL = """
WITH conversation AS (
    INSERT INTO messaging_conversation
        (phone, member_id, status, unread_count, last_message_at, last_message_preview, created_at)
    VALUES (%(phone)s, %(member_id)s, 'open', 1, %(now)s, %(preview)s, %(now)s)
    ON CONFLICT (phone) DO UPDATE SET
        unread_count = messaging_conversation.unread_count + 1,
        last_message_at = GREATEST(messaging_conversation.last_message_at, EXCLUDED.last_message_at),
        last_message_preview = EXCLUDED.last_message_preview,
        status = 'open',
        member_id = COALESCE(messaging_conversation.member_id, EXCLUDED.member_id)
    RETURNING id
)
UPDATE messaging_message SET conversation_id = (SELECT id FROM conversation) WHERE id = %(message_id)s
"""

# A newcomer's plain text (a phone that is not a member) gets the welcome and a personal link, or the polite
# refusal of their country, in one statement: nothing when the consent ledger's last member-less record for
# the phone is an opt-out (STOP before joining), or a link or refusal went out within RESEND_LINK_AFTER;
# otherwise the link's token (when there is one) and the answer are recorded. Schema-qualified and prepared,
# like _RECEIVE_SQL: a viral burst is thousands of these a second.
_WELCOME_SQL = """
WITH stopped AS (
    SELECT kind = 'opt_out' AS yes FROM {schema}.signup_consentrecord
    WHERE phone_hash = %(phone_hash)s AND member_id IS NULL
    ORDER BY created_at DESC, id DESC
    LIMIT 1
),
recent AS (
    SELECT 1 FROM {schema}.messaging_message
    WHERE phone = %(phone)s AND direction = 'out' AND kind IN ('welcome', 'notice')
        AND created_at >= %(recent_since)s
    LIMIT 1
),
answering AS (
    SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM recent) AND NOT COALESCE((SELECT yes FROM stopped), FALSE)
),
link AS (
    INSERT INTO {schema}.signup_signuptoken (token_hash, phone, language, created_at, expires_at)
    SELECT %(token_hash)s, %(phone)s, %(language)s, %(now)s, %(expires_at)s FROM answering
    WHERE %(token_hash)s::varchar IS NOT NULL
),
answer AS (
    INSERT INTO {schema}.messaging_message
        (phone, direction, kind, body, status, failure_reason, attempts, created_at, sent_at, updated_at)
    SELECT %(phone)s, 'out', %(kind)s, %(body)s, 'wired', '', 1, %(now)s, %(now)s, %(now)s FROM answering
    RETURNING id
),
counted AS ({count_sent} AND EXISTS (SELECT 1 FROM answer))
SELECT EXISTS (SELECT 1 FROM answer)
"""

_schema_sql_cache: dict[tuple[str, str], str] = {}


@functools.cache
def _welcome_sql() -> str:
    from leaders.models import Leader

    return _WELCOME_SQL.replace("{count_sent}", Leader.COUNT_SENT_SQL)


def _in_schema(template: str, schema_name: str) -> str:
    """`template` with {schema} as the quoted schema name, built once per schema."""
    key = (template, schema_name)
    sql = _schema_sql_cache.get(key)
    if sql is None:
        from psycopg import sql as psycopg_sql

        quoted = psycopg_sql.Identifier(schema_name).as_string(None)
        sql = _schema_sql_cache[key] = template.replace("{schema}", quoted)
    return sql


def _prepared_fetchone(sql: str, params: dict) -> tuple:
    """One statement on Django's connection, as a server-side prepared statement: PostgreSQL parses and
    plans it once per connection, then only binds and runs it (Django's cursors bind on the client, so they
    send and parse the whole text every time). It takes part in the current transaction, if any.

    A connection that broke while idle (the server restarted, a proxy closed it) is reopened once: the
    statements run this way are idempotent (keyed by Twilio's sid), so running one again is safe.
    """
    import psycopg
    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db import Error as DatabaseError

    database = connections[DEFAULT_DB_ALIAS]  # once: each attribute of the `connection` proxy is a lookup
    for attempt in (1, 2):
        database.ensure_connection()
        try:
            with database.wrap_database_errors, psycopg.Cursor(database.connection) as cursor:
                cursor.execute(sql, params, prepare=True)
                row = cursor.fetchone()
            # The connection just answered: Django's `SELECT 1` check before the request's next query
            # (CONN_HEALTH_CHECKS) would only cost a round trip.
            database.health_check_done = True
            return row
        except DatabaseError:
            if attempt == 2 or database.in_atomic_block or database.is_usable():
                raise
            database.close()
    raise AssertionError("unreachable")


def inbound_sms_receive(*, leader, sms: InboundSms) -> InboundResult:
    """Store a fan's text exactly once and decide the automatic answer, if any. Works in the leader's schema
    itself (the caller may be in any schema).

    A retry of a text already stored (same MessageSid) changes nothing and gets no answer. Keywords act at
    once (STOP opts out before this returns), in the same transaction as storing the text, so a crash can
    never leave a STOP stored but not acted on. A suspended leader's texts are stored and acted on, but the
    answer is recorded as failed and not returned.
    """
    from django_tenants.utils import schema_context

    from messaging.broadcasts.feedback import reply_broadcasts_since
    from messaging.keywords import Keyword, keyword_match

    keyword = keyword_match(sms.body)
    now = timezone.now()
    params = {
        "phone": sms.from_,
        "body": sms.body,
        "sid": sms.sid,
        "now": now,
        "preview": sms.body[:120],
        "details": json.dumps(sms.details) if sms.details else None,
        "plain": keyword is None,
        "start": keyword == Keyword.START,
        # Lets the index on broadcasts bound the ones that may hold a delivery sent within the window.
        "queued_since": reply_broadcasts_since(now),
    }
    sql = _in_schema(_RECEIVE_SQL, leader.schema_name)
    if keyword is None:
        # An ordinary text is one atomic statement, outside any transaction and with no query to enter the
        # schema; a newcomer's welcome one more. A crash between the two only loses the welcome (Twilio's
        # retry is a duplicate): they text again and get their link.
        message_id, conversation_id, member_id, member_status, recent = _prepared_fetchone(sql, params)
        if message_id is None:
            return InboundResult(message_id=None)
        if member_id is None:
            return InboundResult(
                message_id=message_id, reply=_newcomer_welcome(leader=leader, sms=sms, now=now)
            )
        with schema_context(leader.schema_name):
            reply = _member_text_filed(
                leader=leader,
                sms=sms,
                params=params,
                ids=(message_id, conversation_id, member_id),
                subscribed=member_status == Member.Status.SUBSCRIBED,
                recent_broadcasts=recent,
            )
        return InboundResult(message_id=message_id, reply=reply)
    # Keywords: storing the text and acting on it (the opt-out, the opt-in) in one transaction.
    with schema_context(leader.schema_name), transaction.atomic():
        message_id, conversation_id, member_id, member_status, recent = _prepared_fetchone(sql, params)
        if message_id is None:
            return InboundResult(message_id=None)
        if member_id is not None and keyword == Keyword.START and member_status == Member.Status.SUBSCRIBED:
            # "YES" from a subscribed member answers the team: filed like any text, no opt-in.
            _member_text_filed(
                leader=leader,
                sms=sms,
                params=params,
                ids=(message_id, conversation_id, member_id),
                subscribed=False,
                recent_broadcasts=recent,
            )
            return InboundResult(message_id=message_id)
        if member_id is None:
            return InboundResult(
                message_id=message_id,
                reply=_newcomer_keyword_answer(leader=leader, sms=sms, keyword=keyword, now=now),
            )
        member = Member.objects.get(pk=member_id)
        reply = _member_keyword_answer(leader=leader, member=member, keyword=keyword)
        if reply is None:
            return InboundResult(message_id=message_id)
        kind, body = reply
        return InboundResult(
            message_id=message_id,
            reply=_reply_record(leader=leader, phone=sms.from_, member=member, kind=kind, body=body),
        )


def _member_text_filed(
    *,
    leader,
    sms: InboundSms,
    params: dict,
    ids: tuple[int, int | None, int],
    subscribed: bool,
    recent_broadcasts: list[int] | None,
) -> str | None:
    """A member's text was stored and (by _RECEIVE_SQL) filed in their conversation; what else it sets off:
    it counts as a reply to the last broadcast they got, if one of `recent_broadcasts`; the leader's
    `message.received` webhook; and the leader's keyword reply when a subscribed member texted one. Returns
    that reply, if any. Call inside the leader's schema."""
    from messaging.broadcasts.feedback import broadcast_reply_record

    message_id, conversation_id, member_id = ids
    if conversation_id is None:
        with connection.cursor() as cursor:
            cursor.execute(_FILE_SQL, {**params, "member_id": member_id, "message_id": message_id})
    if recent_broadcasts:
        broadcast_reply_record(member_id=member_id, broadcast_ids=recent_broadcasts, now=params["now"])
    events.emit(events.MESSAGE_RECEIVED, message_id=message_id)
    return _keyword_reply_answer(leader=leader, sms=sms, member_id=member_id) if subscribed else None


def _keyword_reply_answer(*, leader, sms: InboundSms, member_id: int) -> str | None:
    """A subscribed member texted one of the leader's keywords (RALLY…): tag them and answer in the TwiML.

    The keyword list is cached per schema (console.selectors.keyword_replies_cached), so a text that is no
    keyword costs no query; a keyword costs a few, in one transaction.
    """
    from messaging.keyword_replies import keyword_reply_match

    found = keyword_reply_match(sms.body)
    if found is None:
        return None
    body, tag = found
    tag = " ".join(tag.split()).lower()[:50]  # as the console stores tags (console.services.tags_parse)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member_id)
        if tag and tag not in member.tags:
            member.tags = [*member.tags, tag]
            member.save(update_fields=["tags", "updated_at"])
        conversation = Conversation.objects.filter(phone=sms.from_).first()
        return _reply_record(
            leader=leader,
            phone=sms.from_,
            member=member,
            kind=Message.Kind.KEYWORD,
            body=body,
            conversation=conversation,
        )


def _member_opted_out(*, member: Member) -> None:
    from messaging.broadcasts.feedback import broadcast_opt_out_count

    broadcast_opt_out_count(member_id=member.pk)


def _member_keyword_answer(*, leader, member: Member, keyword) -> tuple[str, str] | None:
    from members.consent import member_opt_in, member_opt_out
    from messaging.keywords import Keyword
    from messaging.texts import auto_text

    if keyword == Keyword.STOP:
        text = auto_text("stop", language=member.language, leader=leader)
        # Only the text that changed the status is confirmed: a second STOP gets no second answer.
        if member_opt_out(member=member, source="sms_keyword", detail="STOP", text=text):
            _member_opted_out(member=member)
            return Message.Kind.KEYWORD, text
        return None
    if keyword == Keyword.START:  # an opted-out member (a subscribed one's START went to the inbox)
        text = auto_text("start", language=member.language, leader=leader)
        if member_opt_in(member=member, source="sms_keyword", detail="START", text=text):
            return Message.Kind.KEYWORD, text
        return None
    return Message.Kind.KEYWORD, auto_text("help", language=member.language, leader=leader)


def phone_country(phone: str) -> str | None:
    """The country of a phone number from its prefix (US, CA, FR…), None when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or None
    except phonenumbers.NumberParseException:
        return None


def _newcomer_keyword_answer(*, leader, sms: InboundSms, keyword, now) -> str | None:
    """What a phone that is not a member gets for STOP, HELP or START; recorded, and the text to answer.

    A bare keyword says nothing of its language: the answer is in the language of the phone's last signup
    link (the one their first text was welcomed in), else the leader's."""
    from members.models import ConsentRecord
    from messaging.keywords import Keyword, language_guess
    from messaging.texts import auto_text
    from signup.models import SignupToken

    language = (
        language_guess(sms.body)
        or SignupToken.objects.filter(phone=sms.from_)
        .order_by("-created_at")
        .values_list("language", flat=True)
        .first()
        or leader.default_language
    )
    opted_out = phone_opted_out(sms.from_)
    if keyword == Keyword.STOP:
        if opted_out:
            return None
        # Honoured before they ever join: recorded against the phone's hash, and no link is sent again.
        text = auto_text("stop", language=language, leader=leader)
        phone_consent_record(
            phone=sms.from_, kind=ConsentRecord.Kind.OPT_OUT, source="sms_keyword", text=text, detail="STOP"
        )
    elif keyword == Keyword.HELP:
        text = auto_text("help", language=language, leader=leader)
    elif opted_out:  # START after a STOP: opted in again, and told so
        text = auto_text("start", language=language, leader=leader)
        phone_consent_record(
            phone=sms.from_, kind=ConsentRecord.Kind.OPT_IN, source="sms_keyword", text=text, detail="START"
        )
    else:  # START from someone who never stopped: as any first text, the welcome and a link
        return _newcomer_welcome(leader=leader, sms=sms, now=now)
    return _reply_record(leader=leader, phone=sms.from_, member=None, kind=Message.Kind.KEYWORD, body=text)


def _newcomer_welcome(*, leader, sms: InboundSms, now) -> str | None:
    """The answer to a plain text from a phone that is not a member: the welcome with a personal signup link
    (or the polite refusal of a country the leader does not take), in the language guessed from the text;
    None when the leader is suspended, the phone said STOP, or a link went out minutes ago (_WELCOME_SQL)."""
    from leaders.models import Leader
    from messaging.keywords import language_guess
    from messaging.texts import auto_text
    from signup.services import SIGNUP_LINK_LIFETIME, signup_link_new, token_hash

    if not leader.is_active:
        return None  # stored; a suspended leader answers nothing
    language = language_guess(sms.body) or leader.default_language
    if leader.accepts_country(phone_country(sms.from_)):
        raw, link = signup_link_new(leader=leader)
        kind, body, hashed = (
            Message.Kind.WELCOME,
            auto_text("welcome", language=language, leader=leader, link=link),
            token_hash(raw),
        )
    else:
        countries = ", ".join(leader.allowed_countries)
        body = auto_text("country_refused", language=language, leader=leader, countries=countries)
        kind, hashed = Message.Kind.NOTICE, None
    (answered,) = _prepared_fetchone(
        _in_schema(_welcome_sql(), leader.schema_name),
        {
            **Leader.count_params(leader.pk, 1),
            "phone": sms.from_,
            "phone_hash": phone_hash(sms.from_),
            "recent_since": now - RESEND_LINK_AFTER,
            "token_hash": hashed,
            "language": language,
            "now": now,
            "expires_at": now + SIGNUP_LINK_LIFETIME,
            "kind": kind,
            "body": body,
        },
    )
    return body if answered else None


def _reply_record(
    *,
    leader,
    phone: str,
    member: Member | None,
    kind: str,
    body: str,
    conversation: Conversation | None = None,
) -> str | None:
    """Store the automatic answer as an outbound message; the text to put in the TwiML, or None when the
    leader is suspended (the answer is then stored as failed, like text_send does)."""
    from leaders.models import Leader

    now = timezone.now()
    message = Message(
        conversation=conversation,
        member=member,
        phone=phone,
        direction=Message.Direction.OUTBOUND,
        kind=kind,
        body=body,
        created_at=now,
        attempts=1,
    )
    if leader.is_active:
        # Handed to Twilio in the webhook's answer: Twilio creates and sends it, with its own sid that
        # we never see, so the status stays "wired".
        message.status = SmsStatus.WIRED
        message.sent_at = now
    else:
        message.status = SmsStatus.FAILED
        message.failure_reason = "leader suspended"
    message.save()
    if message.status == SmsStatus.FAILED:
        return None
    # After commit: the counter is one row in the public schema that every answer of every leader's
    # process updates, so its lock must not be held for the rest of this transaction (a viral burst of
    # newcomers would queue behind it).
    transaction.on_commit(lambda: Leader.count_messages_sent(leader.pk, 1))
    return body


# -- status callbacks ---------------------------------------------------------------------------------------


def message_status_apply(*, sid: str, status: str, error_code: int | None) -> bool:
    """Apply a Twilio status callback to the outbound message with this sid, in the current schema.

    Returns False when no message has this sid (it may be a broadcast delivery). Out-of-order and repeated
    callbacks are harmless: the status only moves up in rank (one conditional UPDATE), so delivered never
    goes back to sent, and the opt-out on 21610 happens once.
    """
    from members.consent import member_mark_unreachable, member_opt_out
    from messaging.models import TWILIO_STATUS_MAP, statuses_below
    from messaging.twilio.errors import TransportError

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


def status_callback_apply(
    *, sid: str, status: str, error_code: int | None, broadcast_id: int | None = None
) -> bool:
    """Apply a status callback to whatever we sent with this sid. Call inside the sender's schema.
    Returns False when nothing has this sid (the webhook still answers 200: Twilio must not retry).

    A broadcast's texts carry their broadcast's id in the callback URL, so their callbacks go straight to
    that broadcast's partition of deliveries; anything else is a one-to-one message, or else a delivery
    sent before callbacks carried the id (looked up by sid among the broadcasts of the last CALLBACK_WINDOW).
    """
    from messaging.broadcasts.feedback import delivery_status_apply

    if broadcast_id is not None:
        return delivery_status_apply(sid=sid, status=status, error_code=error_code, broadcast_id=broadcast_id)
    return message_status_apply(sid=sid, status=status, error_code=error_code) or delivery_status_apply(
        sid=sid, status=status, error_code=error_code
    )


def member_texts_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): their conversation and every text go."""
    Conversation.objects.filter(phone=phone).delete()  # and its messages
    Message.objects.filter(phone=phone).delete()
