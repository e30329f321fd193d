"""The inbound workflow: a fan's text stored once and answered, and Twilio's delivery statuses applied.

The webhook's hot path (docs/architecture.md, "Inbound texts"): the leader comes from an in-process cache
(leaders.routing), and an ordinary text from a member costs one SQL statement (inbound.statements.RECEIVE),
which reads the member, stores the text once (INSERT … ON CONFLICT DO NOTHING), files it in the conversation
and finds the broadcasts it may answer; a newcomer's welcome costs one more (WELCOME). Automatic answers go
back in the TwiML answer, recorded as outbound messages; only keywords take the slower path (the ORM, in a
transaction).
"""

from __future__ import annotations

import dataclasses
import datetime
import json

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from common import events
from common.phones import phone_country
from common.sql import prepared_execute, prepared_fetchone
from districts.keywords import volunteer_word_find
from districts.models import Volunteer
from districts.services import member_volunteer, volunteer_confirmation
from events.replies import rsvp_answer
from events.services import CODE_WORD, answer_withdraw, answers_kick, check_in_by_text
from inbound import statements
from leaders.models import Leader
from members.consent import member_opt_in, member_opt_out, phone_consent_record, phone_hash, phone_opted_out
from members.models import ConsentRecord, Member, MemberInterest
from members.services import member_topic_follow, member_topic_leave
from messaging.broadcasts.feedback import (
    broadcast_opt_out_count,
    broadcast_reply_record,
    delivery_status_apply,
    reply_broadcasts_since,
)
from messaging.keyword_replies import keyword_reply_match
from messaging.keywords import Keyword, KeywordMatch, keyword_clean, keyword_find, language_guess
from messaging.models import Conversation, Message, SmsStatus
from messaging.services import message_status_apply
from messaging.texts import auto_text
from messaging.topic_keywords import TopicAction, topic_command_find, topic_command_verb
from places.whereabouts import sender_region
from signup.models import SignupToken
from signup.services import SIGNUP_LINK_LIFETIME, signup_link_new, token_hash
from surveys.services import run_answer
from topics.cache import topics_cached
from topics.models import Topic
from triage.services import triage_kick

RESEND_LINK_AFTER = datetime.timedelta(minutes=5)
# A text longer than this is no event's code word (40 characters at most, with room for what edges hold).
CODE_WORD_TEXT_MAX = 60
# A waitlisted phone that keeps texting hears "not there yet" at most this often; its texts are stored.
WAITLIST_ANSWER_EVERY = datetime.timedelta(days=1)


def _code_word_candidate(body: str) -> str:
    """The text as an event's code word would be ("  hall! " is HALL), or "" when it cannot be one (a
    sentence, a long text): then RECEIVE does not even probe the events' index."""
    if len(body) > CODE_WORD_TEXT_MAX:
        return ""
    word = keyword_clean(body)
    return word if CODE_WORD.match(word) else ""


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


def inbound_sms_receive(*, leader, sms: InboundSms) -> InboundResult:
    """Store a fan's text exactly once and decide the automatic answer, if any. Works in the leader's schema
    itself (the caller may be in any schema).

    A retry of a text already stored (same MessageSid) changes nothing and gets no answer. Keywords act at
    once (STOP opts out before this returns), in the same transaction as storing the text, so a crash can
    never leave a STOP stored but not acted on. A suspended leader's texts are stored and acted on, but the
    answer is recorded as failed and not returned.
    """
    # The leader's own stop words come with the cached leader (leaders.routing): no query per text.
    match = keyword_find(sms.body, leader.stop_words)
    keyword = match.keyword if match else None
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
        # The text as an event's code word would be ("  hall! " is HALL); a long text is none.
        "word": _code_word_candidate(sms.body),
        # A yes or a no (in any of the platform's languages): RECEIVE queues a subscribed member's for events'
        # reader, which finds the event it answers off this path.
        "answer": rsvp_answer(sms.body) or "",
    }
    sql = statements.RECEIVE.in_schema(leader.schema_name)
    if keyword is None:
        # An ordinary text is one atomic statement, outside any transaction and with no query to enter the
        # schema; a newcomer's welcome one more. A crash between the two only loses the welcome (Twilio's
        # retry is a duplicate): they text again and get their link.
        message_id, conversation_id, member_id, member_status, recent, surveying, at_door, answered = (
            prepared_fetchone(sql, params)
        )
        if message_id is None:
            return InboundResult(message_id=None)
        # Triage sorts the text later, on its own workers; this costs a statement at most twice a second.
        triage_kick(schema_name=leader.schema_name)
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
                surveying=surveying,
                at_door=at_door,
                answered=answered,
            )
        return InboundResult(message_id=message_id, reply=reply)
    # Keywords: storing the text and acting on it (the opt-out, the opt-in) in one transaction.
    with schema_context(leader.schema_name), transaction.atomic():
        message_id, conversation_id, member_id, member_status, recent, surveying, _at_door, answered = (
            prepared_fetchone(sql, params)
        )
        if message_id is None:
            return InboundResult(message_id=None)
        if member_id is not None and keyword == Keyword.START and member_status == Member.Status.SUBSCRIBED:
            # "YES" from a subscribed member answers the team, or the survey question they were asked:
            # filed like any text, no opt-in.
            reply = _member_text_filed(
                leader=leader,
                sms=sms,
                params=params,
                ids=(message_id, conversation_id, member_id),
                subscribed=False,
                recent_broadcasts=recent,
                surveying=surveying,
                answered=answered,  # "YES" after an event's alert is their RSVP
            )
            return InboundResult(message_id=message_id, reply=reply)
        if member_id is None:
            return InboundResult(
                message_id=message_id,
                reply=_newcomer_keyword_answer(leader=leader, sms=sms, match=match, now=now),
            )
        member = Member.objects.get(pk=member_id)
        reply = _member_keyword_answer(leader=leader, member=member, match=match)
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
    surveying: bool = False,
    at_door: bool = False,
    answered: bool = False,
) -> str | None:
    """A member's text was stored and (by RECEIVE) filed in their conversation; what else it sets off:
    the leader's `message.received` webhook (through common.events); the first reading that applies
    (`_member_text_read`); it counts as a reply to the last broadcast they got, if one of `recent_broadcasts`.
    A yes or a no that RECEIVE queued for events' reader (`answered`) is read there, off this path, and counted
    as a reply then, unless something here read it first (a leader's keyword YES): then it is taken back. Returns the text to answer
    with, if any. Call inside the leader's schema."""
    message_id, conversation_id, member_id = ids
    if conversation_id is None:
        prepared_execute(
            statements.FILE.in_schema(leader.schema_name),
            {**params, "member_id": member_id, "message_id": message_id},
        )
    events.emit(events.MESSAGE_RECEIVED, message_id=message_id)
    handled, reply = _member_text_read(
        leader=leader, sms=sms, ids=ids, subscribed=subscribed, surveying=surveying, at_door=at_door
    )
    if answered and not handled:
        # Events' reader reads it, and then it counts as a reply to the broadcast (inbound.reactions): a burst
        # of answers to one alert would otherwise queue here on that broadcast's counter row. After the commit
        # (at once outside a transaction): the reader must see the queued answer.
        transaction.on_commit(lambda: answers_kick(schema_name=leader.schema_name))
        return reply
    if answered:
        answer_withdraw(message_id=message_id)
    if recent_broadcasts:
        broadcast_reply_record(member_id=member_id, broadcast_ids=recent_broadcasts, now=params["now"])
    return reply


def _member_text_read(
    *,
    leader,
    sms: InboundSms,
    ids: tuple[int, int | None, int],
    subscribed: bool,
    surveying: bool,
    at_door: bool,
) -> tuple[bool, str | None]:
    """The first reading of a member's text that applies: a topic command ("STOP HOUSING"), the leader's
    keyword reply when a subscribed member texted one, VOLUNTEER (or its translations: they become a volunteer
    of their district), the code word of an event whose door is open (`at_door`, read by RECEIVE: a
    check-in), or, when they have an active survey run (`surveying`, read by RECEIVE), the answer to its
    question. (Whether one applied, the text to answer with.)"""
    message_id, conversation_id, member_id = ids
    # "STOP HOUSING", "JOIN HOUSING": before anything else that reads a member's text (a survey's answer
    # too): a topic keyword wins.
    handled, reply = _topic_command_answer(
        leader=leader, sms=sms, member_id=member_id, subscribed=subscribed, conversation_id=conversation_id
    )
    if handled:
        return True, reply
    if subscribed:
        reply = _keyword_reply_answer(
            leader=leader, sms=sms, member_id=member_id, conversation_id=conversation_id
        )
        if reply is not None:
            return True, reply  # the leader's keywords win over a survey's question, which still waits
        reply = _volunteer_answer(leader=leader, sms=sms, member_id=member_id)
        if reply is not None:
            return True, reply  # VOLUNTEER too: a survey's question still waits
    if at_door and subscribed:
        reply = _event_answer(
            check_in_by_text, leader=leader, sms=sms, ids=(message_id, conversation_id, member_id)
        )
        if reply is not None:
            return True, reply
    if surveying:
        return True, _survey_answer(
            leader=leader, sms=sms, member_id=member_id, conversation_id=conversation_id
        )
    return False, None


def _event_answer(answer, *, leader, sms: InboundSms, ids: tuple[int, int | None, int]) -> str | None:
    """An event's reading of the member's text (`answer`: events.services.check_in_by_text)
    and its answer recorded in their conversation, in one transaction; None when the text was not for an
    event (it stays in the inbox, as any text)."""
    message_id, conversation_id, member_id = ids
    return _answer_recorded(
        lambda: answer(leader=leader, member_id=member_id, text=sms.body, message_id=message_id),
        leader=leader,
        sms=sms,
        member_id=member_id,
        conversation_id=conversation_id,
    )


def _survey_answer(*, leader, sms: InboundSms, member_id: int, conversation_id: int | None) -> str | None:
    """The member's text answers their survey's question: the next question (or the re-ask, or the thanks)
    goes back at once in the TwiML, recorded in their conversation, in one transaction with the answer."""
    return _answer_recorded(
        lambda: run_answer(leader=leader, member_id=member_id, text=sms.body),
        leader=leader,
        sms=sms,
        member_id=member_id,
        conversation_id=conversation_id,
    )


def _answer_recorded(
    read, *, leader, sms: InboundSms, member_id: int, conversation_id: int | None
) -> str | None:
    """What a feature read in the member's text (`read()`: the text to answer with, or None when the text
    was not for it) and that answer recorded in the member's conversation, in one transaction: an answer is
    never kept without its reply, nor a reply without its answer."""
    with transaction.atomic():
        body = read()
        if body is None:
            return None
        return _reply_record(
            leader=leader,
            phone=sms.from_,
            member=Member(pk=member_id),
            kind=Message.Kind.NOTICE,
            body=body,
            conversation_id=_conversation_id(phone=sms.from_, filed=conversation_id),
        )


# A topic command's answer lists at most this many of the leader's topics (an SMS, not a catalogue).
TOPICS_LISTED = 8


def _topic_command_answer(
    *, leader, sms: InboundSms, member_id: int, subscribed: bool, conversation_id: int | None
) -> tuple[bool, str | None]:
    """A member's "STOP <topic>" leaves that topic only, "JOIN <topic>" follows it (messaging.topic_keywords,
    in every platform language), each confirmed in the member's language (a word of one language, ARRÊT or
    UNIRME, in that language), with how to undo it; a command word before no topic of the leader gets the
    list of topics. Returns (whether the text was such a command, the answer to put in the TwiML).

    An ordinary text costs no query: its first word is checked in Python, and only a command word reads the
    leader's topics, from a per-process cache (topics.cache). A member who opted out is answered nothing
    (only a start word brings texts back), but what they asked is recorded: leaving is always honoured, and
    a topic they follow waits for their START.
    """
    if not topic_command_verb(sms.body):
        return False, None
    topics = topics_cached()
    command = topic_command_find(sms.body, topics)
    if command is None:
        return False, None
    with transaction.atomic():
        member = Member.objects.get(pk=member_id)
        language = command.language or member.language or leader.default_language
        topic = Topic.objects.filter(pk=command.topic.id).first() if command.topic is not None else None
        if topic is None:
            names = [ref.name for ref in topics[:TOPICS_LISTED]]
            listed = ", ".join(names) + (", ..." if len(topics) > TOPICS_LISTED else "")
            body = auto_text(
                "topic_unknown", language=language, leader=leader, asked=f'"{command.asked}"', topics=listed
            )
        elif command.action == TopicAction.LEAVE:
            member_topic_leave(member=member, topic=topic, source=MemberInterest.Source.KEYWORD)
            body = auto_text("topic_left", language=language, leader=leader, topic=topic.name)
        else:
            member_topic_follow(member=member, topic=topic, source=MemberInterest.Source.KEYWORD)
            body = auto_text("topic_joined", language=language, leader=leader, topic=topic.name)
        if not subscribed:
            return True, None
        return True, _reply_record(
            leader=leader,
            phone=sms.from_,
            member=member,
            kind=Message.Kind.KEYWORD,
            body=body,
            conversation_id=_conversation_id(phone=sms.from_, filed=conversation_id),
        )


def _keyword_reply_answer(
    *, leader, sms: InboundSms, member_id: int, conversation_id: int | None
) -> str | None:
    """A subscribed member texted one of the leader's keywords (RALLY…): tag them and answer in the TwiML.

    The keyword list is cached per schema (messaging.keyword_replies.keyword_replies_cached), so a text that
    is no keyword costs no query; a keyword costs a few, in one transaction.
    """
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
        return _reply_record(
            leader=leader,
            phone=sms.from_,
            member=member,
            kind=Message.Kind.KEYWORD,
            body=body,
            conversation_id=_conversation_id(phone=sms.from_, filed=conversation_id),
        )


def _volunteer_answer(*, leader, sms: InboundSms, member_id: int) -> str | None:
    """A subscribed member texted VOLUNTEER (or BÉNÉVOLE, VOLUNTARIO, FREIWILLIG, متطوع...): they become a
    volunteer of their district, their conversation goes to its coordinator, and the confirmation goes back
    in the TwiML, in the word's language (else theirs). A text that is no such word costs a length check
    (districts.keywords): no query. After the leader's own keyword replies, so a leader who made VOLUNTEER
    a keyword reply of their own keeps it."""
    word = volunteer_word_find(sms.body)
    if word is None:
        return None
    with transaction.atomic():
        member = Member.objects.get(pk=member_id)
        done = member_volunteer(leader=leader, member=member, source=Volunteer.Source.KEYWORD, confirm=False)
        body = volunteer_confirmation(
            leader=leader, volunteer=done.volunteer, coordinator=done.coordinator, language=word.language
        )
        return _reply_record(
            leader=leader,
            phone=sms.from_,
            member=member,
            kind=Message.Kind.KEYWORD,
            body=body,
            conversation_id=done.conversation.pk,
        )


def _member_keyword_answer(*, leader, member: Member, match: KeywordMatch) -> tuple[str, str] | None:
    """A member's STOP, START or HELP acted on; the answer's kind and text, if any.

    A word in one language (BAJA, ARRÊT, توقف) is answered in that language: it is what the fan just wrote,
    so what they read, whatever language their record holds (often the default English of an import).
    A word of every language (STOP, HELP) is answered in the member's language. The word goes in the
    consent ledger's detail."""
    keyword, language = match.keyword, match.language or member.language
    if keyword == Keyword.STOP:
        text = auto_text("stop", language=language, leader=leader)
        # Only the text that changed the status is confirmed: a second STOP gets no second answer.
        # member_opt_out emits MEMBER_OPTED_OUT (the leader's webhook); the broadcast it answers counts it.
        if member_opt_out(member=member, source="sms_keyword", detail=match.word, text=text):
            broadcast_opt_out_count(member_id=member.pk)
            return Message.Kind.KEYWORD, text
        return None
    if keyword == Keyword.START:  # an opted-out member (a subscribed one's START went to the inbox)
        text = auto_text("start", language=language, leader=leader)
        if member_opt_in(member=member, source="sms_keyword", detail=match.word, text=text):
            return Message.Kind.KEYWORD, text
        return None
    return Message.Kind.KEYWORD, auto_text("help", language=language, leader=leader)


def _newcomer_keyword_answer(*, leader, sms: InboundSms, match: KeywordMatch, now) -> str | None:
    """What a phone that is not a member gets for STOP, HELP or START; recorded, and the text to answer.

    A word in one language (BAJA, AIDE, توقف) is answered in that language. A word of every language (STOP,
    HELP) says nothing of it: the answer is in the language of the phone's last signup link (the one their
    first text was welcomed in), else the leader's."""
    keyword = match.keyword
    language = (
        match.language
        or language_guess(sms.body)
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
            phone=sms.from_,
            kind=ConsentRecord.Kind.OPT_OUT,
            source="sms_keyword",
            text=text,
            detail=match.word,
        )
    elif keyword == Keyword.HELP:
        text = auto_text("help", language=language, leader=leader)
    elif opted_out:  # START after a STOP: opted in again, and told so
        text = auto_text("start", language=language, leader=leader)
        phone_consent_record(
            phone=sms.from_,
            kind=ConsentRecord.Kind.OPT_IN,
            source="sms_keyword",
            text=text,
            detail=match.word,
        )
    else:  # START from someone who never stopped: as any first text, the welcome and a link
        return _newcomer_welcome(leader=leader, sms=sms, now=now)
    return _reply_record(leader=leader, phone=sms.from_, member=None, kind=Message.Kind.KEYWORD, body=text)


def _newcomer_welcome(*, leader, sms: InboundSms, now) -> str | None:
    """The answer to a plain text from a phone that is not a member: the welcome with a personal signup link
    (or the polite refusal of a country the leader does not take), in the language guessed from the text;
    None when the leader is suspended, the phone said STOP, or a link went out minutes ago (WELCOME)."""
    if not leader.is_active:
        return None  # stored; a suspended leader answers nothing
    if leader.pilot_regions and (place := _outside_pilot(leader=leader, sms=sms)) is not None:
        return _newcomer_waitlisted(leader=leader, sms=sms, place=place, now=now)
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
    (answered,) = prepared_fetchone(
        statements.WELCOME.in_schema(leader.schema_name),
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


def _outside_pilot(*, leader, sms: InboundSms) -> tuple[str, str] | None:
    """(country, region) of a newcomer texting from an accepted country but outside the leader's pilot
    regions; None when they may join (or their country is refused: the welcome's business).

    Where they are: Twilio's FromState (or FromCity) when the carrier told, else the number's prefix
    (places.whereabouts.sender_region; cached, no query). A region nothing tells (a French or British
    mobile: the prefix is the whole country) is let through to the signup link: the form asks the fan's
    city and refuses one outside the pilot (signup.forms), so an unknown region is decided by the fan's own
    answer rather than by turning away everyone whose number says nothing, the pilot's own people included.
    """
    country, region = sender_region(phone=sms.from_, details=sms.details)
    if not region or not leader.accepts_country(country) or leader.pilot_admits(region):
        return None
    return country, region


def _newcomer_waitlisted(*, leader, sms: InboundSms, place: tuple[str, str], now) -> str | None:
    """The answer to a newcomer outside the pilot: waitlisted (members.WaitlistEntry, recorded or refreshed)
    and told "not there yet, we'll text you when we are", in the language guessed from the text, with no
    link; None when the phone said STOP or was told within WAITLIST_ANSWER_EVERY (WAITLIST)."""
    guessed = language_guess(sms.body)
    language = guessed or leader.default_language
    body = auto_text("waitlisted", language=language, leader=leader)
    country, region = place
    (answered,) = prepared_fetchone(
        statements.WAITLIST.in_schema(leader.schema_name),
        {
            **Leader.count_params(leader.pk, 1),
            "phone": sms.from_,
            "phone_hash": phone_hash(sms.from_),
            "country": country,
            "region": region,
            "language": language,
            "language_told": guessed is not None,
            "recent_since": now - WAITLIST_ANSWER_EVERY,
            "now": now,
            "body": body,
        },
    )
    return body if answered else None


def _conversation_id(*, phone: str, filed: int | None) -> int | None:
    """The member's conversation: the one RECEIVE filed the text in, else (filed by the FILE fallback) the
    one that made or found."""
    if filed is not None:
        return filed
    return Conversation.objects.filter(phone=phone).values_list("pk", flat=True).first()


def _reply_record(
    *,
    leader,
    phone: str,
    member: Member | None,
    kind: str,
    body: str,
    conversation_id: int | None = None,
) -> str | None:
    """Store the automatic answer as an outbound message; the text to put in the TwiML, or None when the
    leader is suspended (the answer is then stored as failed, like text_send does)."""
    now = timezone.now()
    message = Message(
        conversation_id=conversation_id,
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


def status_callback_apply(
    *, sid: str, status: str, error_code: int | None, broadcast_id: int | None = None
) -> bool:
    """Apply a status callback to whatever we sent with this sid. Call inside the sender's schema.
    Returns False when nothing has this sid (the webhook still answers 200: Twilio must not retry).

    A broadcast's texts carry their broadcast's id in the callback URL, so their callbacks go straight to
    that broadcast's partition of deliveries; anything else is a one-to-one message (messaging core's
    message_status_apply), or else a delivery sent before callbacks carried the id (looked up by sid among
    the broadcasts of the last CALLBACK_WINDOW).
    """
    if broadcast_id is not None:
        return delivery_status_apply(sid=sid, status=status, error_code=error_code, broadcast_id=broadcast_id)
    return message_status_apply(sid=sid, status=status, error_code=error_code) or delivery_status_apply(
        sid=sid, status=status, error_code=error_code
    )
