"""Workflows about a member as a person: tags, erasure; and the record of who exported members. (Consent
changes are in members.consent, the CSV import in members.importing.)"""

from __future__ import annotations

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common import events
from leaders.models import Leader
from members.consent import consent_records_anonymise, member_opt_out, members_opt_out_keep
from members.models import ExportRecord, Member

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


@transaction.atomic
def member_erase(*, member: Member, source: str, detail: str = "") -> Member:
    """Erase a member's personal data, keeping what counts and proves consent.

    The row stays, as an anonymous tombstone, so counts by country, region, gender, language and join day
    are unchanged; its phone becomes "~<id>" (not a number: nothing can be sent to it), names, email, birth
    date, city, coordinates and tags are cleared, and it is opted out. The consent ledger keeps its rows and
    the keyed phone hash (with an opt-out row for the erasure), without the IP address. Nothing keeps the
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
