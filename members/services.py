"""Workflows about a member as a person: tags, the topics they follow, erasure; and the record of who exported
members. (Consent changes are in members.consent, the CSV import in members.importing.)"""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from common import events
from leaders.models import Leader
from members.consent import consent_records_anonymise, member_opt_out, members_opt_out_keep
from members.models import ExportRecord, Member, MemberAnswer, MemberInterest
from topics.models import Topic

MAX_TAGS = 20


def tags_parse(text: str) -> list[str]:
    """Tags as typed: separated by commas or semicolons, trimmed, lower case, no duplicates, order kept."""
    seen: dict[str, None] = {}
    for raw in (text or "").replace(";", ",").split(","):
        tag = " ".join(raw.split()).lower()[:50]
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


@transaction.atomic
def member_tags_set(*, member: Member, tags: list[str]) -> Member:
    """The console's edit of a member. Like every path that updates a member, it keeps the member opted
    out when their phone's opt-out stands (members.consent.members_opt_out_keep)."""
    if len(tags) > MAX_TAGS:
        raise ValidationError(_("A member has at most %(count)d tags.") % {"count": MAX_TAGS})
    members_opt_out_keep([member])
    member.tags = tags
    member.save(update_fields=["tags", "updated_at"])
    return member


class FollowRefusedError(ValidationError):
    """A topic the member left themselves, which only they may follow again; the message says so, to the
    teammate or API client who tried."""


@transaction.atomic
def member_topic_follow(*, member: Member, topic: Topic, source: str) -> bool:
    """`member` follows `topic` from now on: announcements to its followers reach them. True when that is
    new, False when they already followed it (nothing changes: the first source and time stay).

    Every path that makes a member follow a topic comes here (a survey answer, JOIN HOUSING, the signup form,
    the console, the API, an import), so the rule of MemberInterest.may_follow holds on all of them: after the
    member left the topic ("STOP HOUSING"), only the member's own word follows it again, and anyone else is
    refused with FollowRefusedError, never silently ignored.
    """
    if source not in MemberInterest.Source.values:
        raise ValueError(f"unknown interest source {source!r}")
    interest, created = MemberInterest.objects.select_for_update().get_or_create(
        member=member, topic=topic, defaults={"source": source}
    )
    if created:
        return True
    if interest.following:
        return False
    if not interest.may_follow(source):
        raise FollowRefusedError(
            _(
                "%(name)s left the topic “%(topic)s” themselves on %(day)s: only they can follow it again "
                "(by texting JOIN %(topic)s, a survey or the signup form)."
            )
            % {
                "name": member.full_name or _("This member"),
                "topic": topic.name,
                "day": date_format(timezone.localtime(interest.left_at), "DATE_FORMAT"),
            },
            code="left_by_member",
        )
    interest.following = True
    interest.source = source
    interest.followed_at = timezone.now()
    if source in MemberInterest.MEMBER_SOURCES:
        # Their own word undoes their own leave: a later removal by the team can be undone by the team.
        interest.left_at = None
    interest.save(update_fields=["following", "source", "followed_at", "left_at"])
    return True


@transaction.atomic
def member_topic_leave(*, member: Member, topic: Topic, source: str) -> bool:
    """`member` no longer follows `topic`; True when they did. Always allowed, like STOP.

    When the member says so themselves (a keyword, a survey, the signup form), the leave is recorded even if
    they did not follow it (left_at): from then on only they may follow it again. A teammate's or the API's
    removal only stops the following, so a mistaken removal can be undone by whoever made it.
    """
    if source not in MemberInterest.Source.values:
        raise ValueError(f"unknown interest source {source!r}")
    by_member = source in MemberInterest.MEMBER_SOURCES
    now = timezone.now()
    if by_member:
        interest, created = MemberInterest.objects.select_for_update().get_or_create(
            member=member,
            topic=topic,
            defaults={"following": False, "source": source, "followed_at": now, "left_at": now},
        )
        if created:
            return False
    else:
        interest = MemberInterest.objects.select_for_update().filter(member=member, topic=topic).first()
        if interest is None:
            return False
    was_following = interest.following
    interest.following = False
    fields = ["following"]
    if by_member:
        interest.left_at, interest.source = now, source
        fields += ["left_at", "source"]
    elif was_following:
        interest.source = source
        fields.append("source")
    interest.save(update_fields=fields)
    return was_following


@transaction.atomic
def member_erase(*, member: Member, source: str, detail: str = "") -> Member:
    """Erase a member's personal data, keeping what counts and proves consent.

    The row stays, as an anonymous tombstone, so counts by country, region, gender, language and join day
    are unchanged; its phone becomes "~<id>" (not a number: nothing can be sent to it), names, email, birth
    date, city, coordinates, tags, followed topics and latest survey answers are cleared, and it is opted
    out. The consent ledger keeps its rows and the keyed phone hash (with an opt-out row for the erasure),
    without the IP address. Nothing keeps the
    exact second, which web server or carrier logs could match: the tombstone's join, opt-out and update
    times and the ledger's become the start of their day in the leader's time zone
    (members.consent.consent_records_anonymise).

    What other apps hold of the member (conversation and texts, broadcast deliveries and their Twilio SIDs,
    signup links, idempotent responses, webhook payloads and what receivers answered to them) is deleted or
    scrubbed by their handlers of `MEMBER_ERASED` (common.events), in this transaction.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    phone = member.phone
    if phone.startswith(Member.ERASED_PREFIX):
        return member  # already erased
    if member.is_subscribed:
        member_opt_out(member=member, source=source, detail=(detail or "erased")[:200], erasing=True)
    events.emit(events.MEMBER_ERASED, member_id=member.pk, phone=phone)
    zone = _leader_zone()
    consent_records_anonymise(member_id=member.pk, phone=phone, zone=zone.key)
    # What they follow and answered says what they think (political opinions, often): not kept either.
    MemberInterest.objects.filter(member_id=member.pk).delete()
    MemberAnswer.objects.filter(member_id=member.pk).delete()
    now = timezone.now()
    Member.objects.filter(pk=member.pk).update(
        phone=f"{Member.ERASED_PREFIX}{member.pk}",
        first_name="",
        last_name="",
        birth_date=None,
        email="",
        city="",
        place_id=None,
        place_name="",
        latitude=None,
        longitude=None,
        tags=[],
        status=Member.Status.OPTED_OUT,
        joined_at=_day_start(member.joined_at, zone),
        opted_out_at=_day_start(member.opted_out_at or now, zone),
        updated_at=_day_start(now, zone),
    )
    member.refresh_from_db()
    return member


def _leader_zone() -> zoneinfo.ZoneInfo:
    """The time zone of the leader whose schema this is (UTC outside a leader's schema)."""
    leader = Leader.objects.filter(schema_name=connection.schema_name).first()
    return leader.zone if leader is not None else zoneinfo.ZoneInfo("UTC")


def _day_start(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """Midnight, in `zone`, of the day `moment` falls on there."""
    local = moment.astimezone(zone)
    return datetime.datetime.combine(local.date(), datetime.time(), tzinfo=zone)


def export_record_start(*, user, filters: dict, kind: str = ExportRecord.Kind.MEMBERS_CSV) -> ExportRecord:
    """Record that `user` is exporting members with `filters` (field name -> value as chosen; the caller
    leaves out anything that is personal data, such as a search text). The row count comes at the end."""
    return ExportRecord.objects.create(user=user, username=user.get_username(), kind=kind, filters=filters)


def export_record_finish(*, record_id: int, row_count: int) -> None:
    """The export was sent whole, with this many rows."""
    ExportRecord.objects.filter(pk=record_id).update(row_count=row_count)
