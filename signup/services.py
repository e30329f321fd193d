"""Workflows on members: signup links, opting out and back in."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from signup.models import ConsentRecord, Member, SignupToken

SIGNUP_LINK_LIFETIME = datetime.timedelta(days=7)
SIGNUP_LINK_PATH = "/j/{token}"  # short: the welcome text and its link fit in two SMS segments


def phone_hash(phone: str) -> str:
    """A keyed hash of a phone number: lets the consent ledger outlive an erased member without storing
    the number, and cannot be reversed by hashing every possible number without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), phone.encode(), hashlib.sha256).hexdigest()


def token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def signup_link_issue(*, leader, phone: str, language: str = "en") -> str:
    """A new personal signup link for this phone on this leader: unguessable, expires, works once.

    Call inside the leader's schema. Returns the absolute URL; only the token's hash is stored.
    """
    from leaders.services import leader_primary_url

    raw = secrets.token_urlsafe(16)  # 128 bits
    SignupToken.objects.create(
        token_hash=token_hash(raw),
        phone=phone,
        language=language,
        expires_at=timezone.now() + SIGNUP_LINK_LIFETIME,
    )
    return leader_primary_url(leader) + SIGNUP_LINK_PATH.format(token=raw)


def signup_token_find(raw_token: str) -> SignupToken | None:
    """The token behind a link, used or not (the page says which); None when it never existed."""
    if not raw_token or len(raw_token) > 64:
        return None
    return SignupToken.objects.filter(token_hash=token_hash(raw_token)).first()


@transaction.atomic
def member_opt_out(*, member: Member, source: str, detail: str = "", text: str = "") -> bool:
    """Stop every text to this member, at once. Returns False when they were already opted out."""
    updated = Member.objects.filter(pk=member.pk, status=Member.Status.SUBSCRIBED).update(
        status=Member.Status.OPTED_OUT, opted_out_at=timezone.now(), updated_at=timezone.now()
    )
    if not updated:
        return False
    member.refresh_from_db(fields=["status", "opted_out_at"])
    ConsentRecord.objects.create(
        member=member,
        phone_hash=phone_hash(member.phone),
        kind=ConsentRecord.Kind.OPT_OUT,
        source=source,
        detail=detail[:200],
        text=text,
    )
    return True


@transaction.atomic
def member_opt_in(
    *, member: Member, source: str, detail: str = "", text: str = "", text_version: str = "", ip_address=None
) -> bool:
    """Subscribe an opted-out member again (START). Returns False when they were already subscribed."""
    updated = Member.objects.filter(pk=member.pk, status=Member.Status.OPTED_OUT).update(
        status=Member.Status.SUBSCRIBED, opted_out_at=None, updated_at=timezone.now()
    )
    if not updated:
        return False
    member.refresh_from_db(fields=["status", "opted_out_at"])
    ConsentRecord.objects.create(
        member=member,
        phone_hash=phone_hash(member.phone),
        kind=ConsentRecord.Kind.OPT_IN,
        source=source,
        detail=detail[:200],
        text=text,
        text_version=text_version,
        ip_address=ip_address,
    )
    return True


def member_mark_unreachable(*, member_id: int) -> None:
    """The carrier says this number cannot get texts (21211, 21614): sending skips it from now on."""
    Member.objects.filter(pk=member_id, unreachable_at__isnull=True).update(unreachable_at=timezone.now())
