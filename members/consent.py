"""The consent ledger: the only module that writes ConsentRecord rows or changes a member's subscription.

Every opt-in and opt-out, from any path (the signup form, a keyword, the carrier, the API, an import, the
console), is written here, so that what the ledger proves and what the member's status says cannot drift.
A phone that is no member yet is recorded by its keyed hash alone (`member` null), and so is a member's
history after erasure.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from common import events
from members.models import KEYWORD_ANSWER, REFUSED_PHONE_OPTED_OUT, ConsentRecord, Member


def phone_hash(phone: str) -> str:
    """A keyed hash of a phone number: lets the consent ledger outlive an erased member without storing
    the number, and cannot be reversed by hashing every possible number without the secret key."""
    return hmac.new(settings.SECRET_KEY.encode(), phone.encode(), hashlib.sha256).hexdigest()


def consent_record(
    *,
    phone: str,
    kind: str,
    source: str,
    member: Member | None = None,
    text: str = "",
    text_version: str = "",
    detail: str = "",
    ip_address=None,
    created_at: datetime.datetime | None = None,
) -> ConsentRecord:
    """One line of the ledger, for a member or (member None) for a phone that is no member."""
    return ConsentRecord.objects.create(
        member=member,
        phone_hash=phone_hash(phone),
        kind=kind,
        source=source,
        text=text,
        text_version=text_version,
        detail=detail[:200],
        ip_address=ip_address,
        created_at=created_at or timezone.now(),
    )


def consent_records_opt_in(
    *, members: Iterable[Member], source: str, text: str, detail: str, created_at: datetime.datetime
) -> None:
    """The opt-in of many new members at once (an import), in one INSERT."""
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                member=member,
                phone_hash=phone_hash(member.phone),
                kind=ConsentRecord.Kind.OPT_IN,
                source=source,
                text=text,
                detail=detail[:200],
                created_at=created_at,
            )
            for member in members
        ]
    )


@transaction.atomic
def member_opt_out(
    *, member: Member, source: str, detail: str = "", text: str = "", erasing: bool = False
) -> bool:
    """Stop every text to this member, at once. Returns False when they were already opted out.
    `erasing`: this opt-out starts the member's erasure (members.services.member_erase)."""
    now = timezone.now()
    updated = Member.objects.filter(pk=member.pk, status=Member.Status.SUBSCRIBED).update(
        status=Member.Status.OPTED_OUT, opted_out_at=now, updated_at=now
    )
    if not updated:
        return False
    member.refresh_from_db(fields=["status", "opted_out_at"])
    consent_record(
        member=member,
        phone=member.phone,
        kind=ConsentRecord.Kind.OPT_OUT,
        source=source,
        detail=detail,
        text=text,
    )
    events.emit(events.MEMBER_OPTED_OUT, member=member, erasing=erasing)
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
    consent_record(
        member=member,
        phone=member.phone,
        kind=ConsentRecord.Kind.OPT_IN,
        source=source,
        detail=detail,
        text=text,
        text_version=text_version,
        ip_address=ip_address,
    )
    return True


def member_mark_unreachable(*, member_id: int) -> None:
    """The carrier says this number cannot get texts (21211, 21614): sending skips it from now on."""
    Member.objects.filter(pk=member_id, unreachable_at__isnull=True).update(unreachable_at=timezone.now())


def phone_opted_out(phone: str) -> bool:
    """Whether a phone that is not a member asked us to stop (a member-less opt-out in the consent ledger,
    not followed by a member-less opt-in)."""
    latest = (
        ConsentRecord.objects.filter(phone_hash=phone_hash(phone), member__isnull=True)
        .order_by("-created_at", "-pk")
        .values_list("kind", flat=True)
        .first()
    )
    return latest == ConsentRecord.Kind.OPT_OUT


def phone_consent_record(*, phone: str, kind: str, source: str, text: str = "", detail: str = "") -> None:
    """A keyword or the carrier, about a phone that is no member: recorded against the phone's hash."""
    consent_record(phone=phone, kind=kind, source=source, text=text, detail=detail)


def text_refusal(*, phone: str, member: Member | None, kind: str = "") -> str:
    """Why a text of `kind` must not go to `phone` now, or "" when it may. A member answers for themselves
    (Member.refusal); a phone that is no member, by the ledger (phone_opted_out). Every path that texts one
    person asks this, at queueing and again at sending."""
    if member is not None:
        return member.refusal(kind)
    if kind != KEYWORD_ANSWER and phone_opted_out(phone):
        return REFUSED_PHONE_OPTED_OUT
    return ""


def consent_records_anonymise(*, member_id: int, phone: str, zone: str) -> int:
    """An erased member's lines of the ledger keep what proves consent (kind, source, the text shown and its
    version, the keyed phone hash, the day) and lose what could point back at the person: the IP address is
    cleared, and the time becomes the start of its day in the leader's time zone `zone` (a zone name), so the
    day the console shows is unchanged but the exact second, which web server or carrier logs could match,
    is gone. The phone's member-less lines (a STOP before joining) are treated the same way. Lines of a day
    keep their order by id, which is how the ledger breaks ties (`phone_opted_out`, the inbound welcome).
    Returns the number of lines changed."""
    zone = zone or "UTC"
    return ConsentRecord.objects.filter(
        Q(member_id=member_id) | Q(phone_hash=phone_hash(phone), member__isnull=True)
    ).update(
        ip_address=None,
        created_at=RawSQL("(date_trunc('day', created_at AT TIME ZONE %s) AT TIME ZONE %s)", (zone, zone)),
    )
