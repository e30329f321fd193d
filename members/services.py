"""Workflows about a member as a person: tags, erasure. (Consent changes are in members.consent, the CSV
import in members.importing.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common import events
from members.consent import member_opt_out, members_opt_out_keep
from members.models import Member

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

    The row stays, as an anonymous tombstone, so counts by country, region, gender, language and join date
    are unchanged; its phone becomes "~<id>" (not a number: nothing can be sent to it), names, email, birth
    date, city, coordinates and tags are cleared, and it is opted out. The consent ledger keeps its rows and
    the keyed phone hash (with an opt-out row for the erasure). Their conversation, messages and signup
    links are deleted, and stored copies of their data (idempotent responses, webhook event payloads) are
    scrubbed.

    What other apps hold of the member (conversations and messages, signup links, idempotent responses,
    webhook payloads) is scrubbed by their handlers of `MEMBER_ERASED` (common.events), in this transaction.
    """
    member = Member.objects.select_for_update().get(pk=member.pk)
    phone = member.phone
    if phone.startswith(Member.ERASED_PREFIX):
        return member  # already erased
    if member.is_subscribed:
        member_opt_out(member=member, source=source, detail=(detail or "erased")[:200], erasing=True)
    events.emit(events.MEMBER_ERASED, member_id=member.pk, phone=phone)
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
        opted_out_at=member.opted_out_at or timezone.now(),
        updated_at=timezone.now(),
    )
    member.refresh_from_db()
    return member
