"""Workflows on members: signup links, opting out and back in."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from common import events
from leaders.models import Leader
from leaders.services import leader_primary_url
from members.consent import consent_record, phone_opt_out_standing, text_refusal
from members.models import ConsentRecord, Member, MemberInterest
from members.services import member_topic_follow
from messaging.models import Message
from messaging.services import text_send
from messaging.texts import auto_text
from places.gazetteer import Place
from signup.models import SignupToken

SIGNUP_LINK_LIFETIME = datetime.timedelta(days=7)
SIGNUP_LINK_PATH = "/j/{token}"  # short: the welcome text and its link fit in two SMS segments


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def signup_link_issue(*, leader, phone: str, language: str = "en") -> str:
    """A new personal signup link for this phone on this leader: unguessable, expires, works once.

    Call inside the leader's schema. Returns the absolute URL; only the token's hash is stored.
    """
    raw, url = signup_link_new(leader=leader)
    SignupToken.objects.create(
        token_hash=token_hash(raw),
        phone=phone,
        language=language,
        expires_at=timezone.now() + SIGNUP_LINK_LIFETIME,
    )
    return url


def signup_link_new(*, leader) -> tuple[str, str]:
    """(raw token, absolute URL) of a new personal link, not stored yet: the caller stores its SignupToken
    (`token_hash(raw)`), as signup_link_issue does, or the inbound webhook's welcome statement."""

    raw = secrets.token_urlsafe(16)  # 128 bits
    return raw, leader_primary_url(leader) + SIGNUP_LINK_PATH.format(token=raw)


def signup_token_find(raw_token: str) -> SignupToken | None:
    """The token behind a link, used or not (the page says which); None when it never existed."""
    if not raw_token or len(raw_token) > 64:
        return None
    return SignupToken.objects.filter(token_hash=token_hash(raw_token)).first()


# --- The signup page ----------------------------------------------------------------------------------------

CONSENT_SOURCE_DETAIL = "signup link"


class SignupLinkUnusableError(Exception):
    """The link was used (a double submit, another tab) or expired between opening the page and submitting."""


class SignupLinkStoppedError(SignupLinkUnusableError):
    """The phone asked to stop after this link was texted to it (signup_link_stopped)."""


def signup_link_stopped(token: SignupToken) -> bool:
    """Whether the phone asked to stop getting texts after this link was issued, and never asked to start
    again (members.consent.phone_opt_out_standing). Such a link no longer signs anyone up: filling the form
    would claim a consent the phone withdrew since. A link issued after the opt-out (the phone texted in
    again) signs up and subscribes, as the phone's own fresh opt-in."""
    since = phone_opt_out_standing(token.phone)
    return since is not None and token.created_at <= since


@dataclasses.dataclass(frozen=True)
class SignupDetails:
    """What the fan typed on the signup form, validated (signup.forms.SignupForm)."""

    first_name: str
    last_name: str = ""
    gender: str = ""
    birth_date: datetime.date | None = None
    email: str = ""
    city: str = ""
    place: Place | None = None
    # "What matters to you?": the leader's topics the fan ticked (topics.Topic), followed from now on.
    topics: tuple = ()


@dataclasses.dataclass(frozen=True)
class SignupResult:
    member: Member
    created: bool  # a new member; False when an existing member updated their details


@transaction.atomic
def member_signup(
    *,
    leader,
    token: SignupToken,
    details: SignupDetails,
    language: str,
    consent_text: str,
    consent_version: str,
    ip_address: str | None = None,
) -> SignupResult:
    """The fan submitted the form behind their personal link: they become (or update) a member.

    Call inside the leader's schema. In one transaction: claims the link (a conditional UPDATE, so a double
    submit makes one member), creates the member with the link's phone or updates the one already there,
    records the consent that was shown, follows the topics they ticked, counts the new member on the leader,
    and queues the confirmation text (sent after commit). Raises SignupLinkUnusableError when the link was used or expired meanwhile,
    SignupLinkStoppedError when the phone asked to stop after the link was issued: only a link issued after
    its opt-out (the phone texted in again) subscribes an opted-out phone again.
    """

    if signup_link_stopped(token):
        raise SignupLinkStoppedError()
    now = timezone.now()
    claimed = SignupToken.objects.filter(pk=token.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    if not claimed:
        raise SignupLinkUnusableError()

    fields = {
        "first_name": details.first_name,
        "last_name": details.last_name,
        "gender": details.gender,
        "birth_date": details.birth_date,
        "email": details.email,
        "city": details.city,
        "language": language,
        **Member.place_fields(details.place),
    }
    # The phone is the identity: a member who joined before through another link updates their details.
    member, created = Member.objects.select_for_update().get_or_create(
        phone=token.phone, defaults={**fields, "joined_at": now}
    )
    resubscribed = False
    if not created:
        for name, value in fields.items():
            setattr(member, name, value)
        # Filling the form again, with its consent box, behind a link issued after the opt-out (checked
        # above), is a fresh opt-in for someone who had opted out.
        resubscribed = not member.is_subscribed
        if resubscribed:
            member.status = Member.Status.SUBSCRIBED
            member.opted_out_at = None
        member.save()
    SignupToken.objects.filter(pk=token.pk).update(member=member)
    consent_record(
        member=member,
        phone=member.phone,
        kind=ConsentRecord.Kind.OPT_IN,
        source=ConsentRecord.Source.WEB_FORM,
        text=consent_text,
        text_version=consent_version,
        ip_address=ip_address,
        detail=CONSENT_SOURCE_DETAIL,
        created_at=now,
    )
    # The fan's own choice: it follows even a topic they once left (MemberInterest.may_follow).
    for topic in details.topics:
        member_topic_follow(member=member, topic=topic, source=MemberInterest.Source.SIGNUP)
    if created:
        Leader.count_members_joined(leader.pk)
    events.emit(events.MEMBER_SAVED, member=member, created=created)
    if created or resubscribed:
        text_send(
            leader=leader,
            phone=member.phone,
            member=member,
            body=auto_text("confirmation", language=language, leader=leader, first_name=member.first_name),
            kind=Message.Kind.CONFIRMATION,
        )
    return SignupResult(member=member, created=created)


def signup_update_link_send(*, leader, token: SignupToken, language: str) -> None:
    """Text a fresh personal link to the phone a used link belongs to ("update my details").

    Call inside the leader's schema. The link goes to the number on record, never to one the visitor
    chooses, so the page that offers it reveals nothing. The caller rate-limits.
    """

    member = token.member or Member.objects.filter(phone=token.phone).first()
    if text_refusal(phone=token.phone, member=member, kind=Message.Kind.NOTICE):
        # No link for a phone that may not be texted (it said STOP): it could not reach the phone, and a link
        # issued after the opt-out would subscribe it again (signup_link_stopped).
        return
    with transaction.atomic():
        link = signup_link_issue(leader=leader, phone=token.phone, language=language)
        text_send(
            leader=leader,
            phone=token.phone,
            member=member,
            body=auto_text("update_link", language=language, leader=leader, link=link),
            kind=Message.Kind.NOTICE,
        )


def signup_links_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): their signup links go, with the phone in them."""
    SignupToken.objects.filter(phone=phone).delete()


def connect() -> None:
    """Subscribe the signup app's reactions (SignupConfig.ready)."""
    events.subscribe(events.MEMBER_ERASED, signup_links_erase)
