"""The waitlist: phones that texted (or filled the signup form) from outside the leader's pilot regions
(`Leader.pilot_regions`), told "we're not there yet" and invited once when their region opens.

Reads for the console and the API (counts by region), the form's record, and the claims the invitations
are sent from (signup.waitlist). The inbound webhook records its newcomers with a statement of its own
(inbound.statements.WAITLIST, one round trip). An entry is no member and holds no consent: the consent
ledger still decides (an opted-out phone is never invited; see members.consent).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone

from members.models import WaitlistEntry


@dataclasses.dataclass(frozen=True)
class WaitlistRegion:
    country: str
    region: str  # "" when unknown
    waiting: int  # not invited yet
    invited: int
    last_text_at: datetime.datetime | None


def waitlist_record(*, phone: str, country: str, region: str, language: str) -> WaitlistEntry:
    """Put `phone` on the waitlist, or refresh its entry (where it is, its language, when it last asked);
    an entry already invited keeps its invitation (never a second one). Call inside the leader's schema."""
    now = timezone.now()
    # One INSERT … ON CONFLICT DO UPDATE: two requests for one phone at once (a double submit) both succeed.
    WaitlistEntry.objects.bulk_create(
        [WaitlistEntry(phone=phone, country=country, region=region, language=language, last_text_at=now)],
        update_conflicts=True,
        unique_fields=["phone"],
        update_fields=["country", "region", "language", "last_text_at"],
    )
    return WaitlistEntry.objects.get(phone=phone)


def waitlist_by_region() -> list[WaitlistRegion]:
    """The waitlist counted by country and region, most waiting first."""
    rows = (
        WaitlistEntry.objects.values("country", "region")
        .annotate(
            waiting=Count("id", filter=Q(invited_at__isnull=True)),
            invited=Count("id", filter=Q(invited_at__isnull=False)),
            last=Max("last_text_at"),
        )
        .order_by("-waiting", "country", "region")
    )
    return [
        WaitlistRegion(
            country=row["country"],
            region=row["region"],
            waiting=row["waiting"],
            invited=row["invited"],
            last_text_at=row["last"],
        )
        for row in rows
    ]


def waitlist_recent(limit: int = 50) -> list[WaitlistEntry]:
    """The latest entries to text, for the console's list (phones shown as the reader may see them)."""
    return list(WaitlistEntry.objects.order_by("-last_text_at", "-pk")[:limit])


# Claims a batch of entries inside the opened area and marks them invited: the batch is picked once (a CTE
# with FOR UPDATE is evaluated once; as an `IN (subquery)` the planner may run it again per row, and LIMIT
# would then not bound the claim), rows another worker holds are skipped (SKIP LOCKED), and
# `invited_at IS NULL` is checked again on the row itself: two openings or two workers never claim one phone.
_CLAIM_SQL = """
WITH picked AS (
    SELECT id FROM members_waitlistentry
    WHERE invited_at IS NULL
        AND (cardinality(%(countries)s::varchar[]) = 0 OR country = ANY(%(countries)s::varchar[]))
        AND (cardinality(%(regions)s::varchar[]) = 0 OR region = ANY(%(regions)s::varchar[]))
    ORDER BY id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE members_waitlistentry AS entry SET invited_at = %(now)s
WHERE entry.id = ANY(ARRAY(SELECT id FROM picked)) AND entry.invited_at IS NULL
RETURNING entry.id, entry.phone, entry.language
"""


def waitlist_claim(
    *, countries: list[str], regions: list[str], limit: int, now: datetime.datetime | None = None
) -> list[tuple[int, str, str]]:
    """Claim up to `limit` entries not invited yet, in `countries` (empty: any) and `regions` (empty: any,
    the pilot ended), marking them invited: (id, phone, language) of each, oldest first. Call inside the
    leader's schema; the caller invites exactly these (or gives back with `waitlist_unclaim`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {
                "now": now or timezone.now(),
                "countries": list(countries),
                "regions": list(regions),
                "limit": int(limit),
            },
        )
        return sorted(cursor.fetchall())


def waitlist_unclaim(*, entry_ids: list[int], claimed_at: datetime.datetime) -> int:
    """Give back claims whose invitation did not go (Twilio said try later): invited by a later run."""
    return WaitlistEntry.objects.filter(pk__in=entry_ids, invited_at=claimed_at).update(invited_at=None)


def waitlist_drop(*, entry_ids: list[int]) -> int:
    """Entries that will never be invited (the phone opted out, or is a member already): gone."""
    return WaitlistEntry.objects.filter(pk__in=entry_ids).delete()[0]


def waitlist_entry_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): the phone's waitlist entry, if any, goes too."""
    WaitlistEntry.objects.filter(phone=phone).delete()
