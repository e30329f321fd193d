"""The consent ledger: the only module that writes ConsentRecord rows or changes a member's subscription.

Every opt-in and opt-out, from any path (the signup form, a keyword, the carrier, the API, an import, the
console), is written here, so that what the ledger proves and what the member's status says cannot drift.
A phone that is no member yet is recorded by its keyed hash alone (`member` null), and so is a member's
history after erasure.

A phone's opt-out is final whatever the path a member comes by: `phones_opt_out_standing` says which phones
asked to stop and never asked to start again, and `members_opt_out_keep` is the one check every path that
creates or updates members runs (the API's upsert, the CSV import, the console's member page, seeding), so a
member with such a phone is opted out, with no opt-in recorded over the phone's own word. Only the phone
lifts it: a start word, or the signup form behind a link texted to it after it opted out (signup.services).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from common import events
from members.models import KEYWORD_ANSWER, REFUSED_PHONE_OPTED_OUT, ConsentRecord, Member

# The ledger rows that speak for a phone. Every opt-out counts, whoever recorded it (a stop word, the carrier,
# the API, the console, an erasure); an opt-in counts only when the phone's owner gave it: a start word, or
# the signup form behind a personal link texted to that phone. An import's, the API's or the console's
# opt-in is the leader's word about the phone, not the phone's: it never lifts an opt-out.
PHONE_OPT_IN_SOURCES = (ConsentRecord.Source.SMS_KEYWORD, ConsentRecord.Source.WEB_FORM)
_PHONE_WORDS = Q(kind=ConsentRecord.Kind.OPT_OUT) | Q(
    kind=ConsentRecord.Kind.OPT_IN, source__in=PHONE_OPT_IN_SOURCES
)
_HASH_BATCH = 2_000  # phone hashes per query


def phone_hash(phone: str) -> str:
    """A keyed hash of a phone number: lets the consent ledger outlive an erased member without storing
    the number, and cannot be reversed by hashing every possible number without the key.

    The key is the ledger's own, settings.CONSENT_HASH_KEY, never SECRET_KEY: rotating SECRET_KEY must not
    forget the opt-outs of phones that are no member (recorded by this hash alone). It never changes."""
    return hmac.new(settings.CONSENT_HASH_KEY.encode(), phone.encode(), hashlib.sha256).hexdigest()


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
    if not _subscription_change(member=member, subscribe=False, source=source, detail=detail, text=text):
        return False
    events.emit(events.MEMBER_OPTED_OUT, member=member, erasing=erasing)
    return True


@transaction.atomic
def member_opt_in(
    *, member: Member, source: str, detail: str = "", text: str = "", text_version: str = "", ip_address=None
) -> bool:
    """Subscribe an opted-out member again (START). Returns False when they were already subscribed."""
    return _subscription_change(
        member=member,
        subscribe=True,
        source=source,
        detail=detail,
        text=text,
        text_version=text_version,
        ip_address=ip_address,
    )


def _subscription_change(*, member: Member, subscribe: bool, **record) -> bool:
    """Move the member to subscribed or opted out if they are not there yet (one conditional UPDATE, so two
    racing changes cannot both win), and write the ledger line for it. False when nothing changed."""
    now = timezone.now()
    before, after = Member.Status.OPTED_OUT, Member.Status.SUBSCRIBED
    if not subscribe:
        before, after = after, before
    updated = Member.objects.filter(pk=member.pk, status=before).update(
        status=after, opted_out_at=None if subscribe else now, updated_at=now
    )
    if not updated:
        return False
    member.refresh_from_db(fields=["status", "opted_out_at"])
    kind = ConsentRecord.Kind.OPT_IN if subscribe else ConsentRecord.Kind.OPT_OUT
    consent_record(member=member, phone=member.phone, kind=kind, **record)
    return True


def member_mark_unreachable(*, member_id: int) -> None:
    """The carrier says this number cannot get texts (21211, 21614): sending skips it from now on."""
    Member.objects.filter(pk=member_id, unreachable_at__isnull=True).update(unreachable_at=timezone.now())


def phone_opted_out(phone: str) -> bool:
    """Whether a phone that is not a member asked us to stop (a member-less opt-out in the consent ledger,
    not followed by a member-less opt-in)."""
    latest = (
        ConsentRecord.objects.filter(phone_hash=phone_hash(phone), member__isnull=True)
        .order_by("-pk")  # the order lines were written: erasure truncates created_at
        .values_list("kind", flat=True)
        .first()
    )
    return latest == ConsentRecord.Kind.OPT_OUT


def phones_opt_out_standing(phones: Iterable[str]) -> dict[str, datetime.datetime]:
    """Of these phones, those whose last word in the ledger is an opt-out, each with when it was recorded.

    A phone's words are its member-less rows (STOP before joining, the carrier), the rows of whoever was a
    member with this phone (an erased member's rows keep the phone's hash) and the current member's: every
    opt-out, and only the opt-ins the phone gave itself (PHONE_OPT_IN_SOURCES). One query per 2,000 phones.
    """
    by_hash = {phone_hash(phone): phone for phone in set(phones)}
    hashes = list(by_hash)
    standing: dict[str, datetime.datetime] = {}
    for start in range(0, len(hashes), _HASH_BATCH):
        latest = (
            ConsentRecord.objects.filter(_PHONE_WORDS, phone_hash__in=hashes[start : start + _HASH_BATCH])
            .order_by("phone_hash", "-pk")
            .distinct("phone_hash")
            .values_list("phone_hash", "kind", "created_at")
        )
        for hashed, kind, created_at in latest:
            if kind == ConsentRecord.Kind.OPT_OUT:
                standing[by_hash[hashed]] = created_at
    return standing


def phone_opt_out_standing(phone: str) -> datetime.datetime | None:
    """When this phone asked to stop, if that still stands (phones_opt_out_standing), else None."""
    return phones_opt_out_standing([phone]).get(phone)


def members_opt_out_keep(members: Sequence[Member]) -> list[Member]:
    """Keep opted out the members whose phone's opt-out stands: the one check every path that creates or
    updates members runs before saving them (the API's upsert, the CSV import, the console's member page,
    seeding), however it came by the number and whatever consent it claims. Returns those members.

    A subscribed one becomes opted out, `opted_out_at` being when the phone asked to stop: in memory for a
    new member (the caller saves it, and records no opt-in for it), at once in the database for a saved one,
    which also emits MEMBER_OPTED_OUT (the leader's webhook). Nothing is written to the ledger: it already
    holds the opt-out, and an opt-in recorded now would claim a consent the phone withdrew. The signup form
    does not ask: a link texted to the phone after it opted out is the phone's own word
    (signup.services.member_signup)."""
    standing = phones_opt_out_standing(member.phone for member in members)
    kept = []
    for member in members:
        since = standing.get(member.phone)
        if since is None:
            continue
        kept.append(member)
        if not member.is_subscribed:
            continue
        member.status, member.opted_out_at = Member.Status.OPTED_OUT, since
        if member.pk is not None and Member.objects.filter(
            pk=member.pk, status=Member.Status.SUBSCRIBED
        ).update(status=Member.Status.OPTED_OUT, opted_out_at=since, updated_at=timezone.now()):
            events.emit(events.MEMBER_OPTED_OUT, member=member, erasing=False)
    return kept


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
