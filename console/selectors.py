"""Reads for the console: the dashboard's aggregates, the members list, a member's history, keywords.

Everything runs in the current leader's schema. At a million members no page scans the member table more
than once: the dashboard is one set-based query (cached briefly), the list is keyset-paginated on
(joined_at, id) and its search uses prefix indexes (signup/models.py).
"""

from __future__ import annotations

import base64
import datetime
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import ConsentRecord, Member

DASHBOARD_CACHE_SECONDS = 60
CHART_DAYS = 90
TOP_CITIES = 10
PAGE_SIZE = 50

# Age bands, youngest first: (label, lowest age, highest age or None).
AGE_BANDS = (
    ("13–17", 13, 17),
    ("18–24", 18, 24),
    ("25–34", 25, 34),
    ("35–44", 35, 44),
    ("45–54", 45, 54),
    ("55–64", 55, 64),
    ("65+", 65, None),
)
FILTER_KEYS = (
    "place_ids",
    "near",
    "regions",
    "countries",
    "genders",
    "age_min",
    "age_max",
    "languages",
    "tags",
    "joined_after",
    "joined_before",
    "status",
    "q",
)


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- dashboard -------------------------------------------------------------------------------------------


@dataclass
class DashboardStats:
    total: int = 0
    subscribed: int = 0
    joined_today: int = 0
    joined_week: int = 0
    opted_out_month: int = 0
    unread_conversations: int = 0
    # (day, joins) for each of the last CHART_DAYS days, oldest first, zeros included.
    daily_joins: list[tuple[datetime.date, int]] = field(default_factory=list)
    cities: list[tuple[str, int]] = field(default_factory=list)
    genders: list[tuple[str, int]] = field(default_factory=list)
    age_bands: list[tuple[str, int]] = field(default_factory=list)
    languages: list[tuple[str, int]] = field(default_factory=list)
    computed_at: datetime.datetime | None = None


def _dashboard_cache_key() -> str:
    return f"console:dashboard:{connection.schema_name}"


def dashboard_stats(*, leader, use_cache: bool = True) -> DashboardStats:
    """The dashboard's figures for this leader, at most DASHBOARD_CACHE_SECONDS old."""
    if not use_cache:
        return dashboard_stats_compute(leader=leader)
    key = _dashboard_cache_key()
    stats = cache.get(key)
    if stats is None:
        stats = dashboard_stats_compute(leader=leader)
        cache.set(key, stats, DASHBOARD_CACHE_SECONDS)
    return stats


def dashboard_stats_forget() -> None:
    """After a change the team expects to see at once (an import, an erasure)."""
    cache.delete(_dashboard_cache_key())


# One pass over signup_member, grouped by city only (a hash aggregate PostgreSQL runs in parallel workers):
# every other figure is a FILTER count over a small known domain (genders, age bands, languages), summed
# over the cities in Python. The chart reads only the last 90 days through the joined_at index.
_DASHBOARD_SQL = """
SELECT
    COALESCE(NULLIF(place_name, ''), NULLIF(city, ''), '') AS city_label,
    count(*) AS total,
    count(*) FILTER (WHERE status = 'subscribed') AS subscribed,
    count(*) FILTER (WHERE joined_at >= %(today_start)s) AS joined_today,
    count(*) FILTER (WHERE joined_at >= %(week_start)s) AS joined_week,
    count(*) FILTER (WHERE opted_out_at >= %(month_start)s) AS opted_out_month{breakdowns}
FROM signup_member
GROUP BY 1
"""
_CHART_SQL = """
SELECT (joined_at AT TIME ZONE %(tz)s)::date AS day, count(*)
FROM signup_member
WHERE joined_at >= %(chart_start)s
GROUP BY 1
"""
_FIXED_COLUMNS = 5  # after city_label: total, subscribed, joined_today, joined_week, opted_out_month


def _breakdown_columns(today: datetime.date, params: dict) -> tuple[str, list[tuple[str, str]]]:
    """FILTER count columns for every gender, age band and language, and what each one counts."""
    from django.conf import settings

    columns: list[str] = []
    keys: list[tuple[str, str]] = []
    for index, gender in enumerate([*Member.Gender.values, ""]):
        params[f"gender_{index}"] = gender
        columns.append(f"count(*) FILTER (WHERE gender = %(gender_{index})s)")
        keys.append(("gender", gender))
    low_bound = None  # born after this date: younger than the band's upper age + 1
    for index, (label, _low, high) in enumerate(AGE_BANDS):
        conditions = []
        if high is not None:
            params[f"born_after_{index}"] = years_before(today, high + 1)
            conditions.append(f"birth_date > %(born_after_{index})s")
        if low_bound is not None:
            conditions.append(f"birth_date <= %({low_bound})s")
        else:
            conditions.append("birth_date IS NOT NULL")
        columns.append(f"count(*) FILTER (WHERE {' AND '.join(conditions)})")
        keys.append(("age", label))
        low_bound = f"born_after_{index}" if high is not None else None
    columns.append("count(*) FILTER (WHERE birth_date IS NULL)")
    keys.append(("age", ""))
    codes = [code for code, _name in settings.LANGUAGES]
    for index, code in enumerate(codes):
        params[f"language_{index}"] = code
        columns.append(f"count(*) FILTER (WHERE language = %(language_{index})s)")
        keys.append(("language", code))
    params["languages"] = codes
    columns.append("count(*) FILTER (WHERE NOT (language = ANY(%(languages)s)))")
    keys.append(("language", "other"))
    return "".join(f",\n    {column}" for column in columns), keys


def dashboard_stats_compute(*, leader) -> DashboardStats:
    from messaging.models import Conversation

    tz = zoneinfo.ZoneInfo(leader.time_zone or "UTC")
    now = timezone.now()
    local_now = now.astimezone(tz)
    today = local_now.date()
    today_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    chart_first_day = today - datetime.timedelta(days=CHART_DAYS - 1)
    params: dict[str, Any] = {
        "tz": str(tz),
        "today_start": today_start,
        "week_start": now - datetime.timedelta(days=7),
        "month_start": today_start.replace(day=1),
        "chart_start": datetime.datetime.combine(chart_first_day, datetime.time(), tzinfo=tz),
    }
    breakdowns, keys = _breakdown_columns(today, params)
    stats = DashboardStats(computed_at=now)
    sums = [0] * (_FIXED_COLUMNS + len(keys))
    cities: list[tuple[str, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(_DASHBOARD_SQL.format(breakdowns=breakdowns), params)
        for city, *counts in cursor.fetchall():
            if city:
                cities.append((city, counts[0]))
            sums = [a + b for a, b in zip(sums, counts, strict=True)]
        cursor.execute(_CHART_SQL, params)
        joins = dict(cursor.fetchall())
    stats.total, stats.subscribed, stats.joined_today, stats.joined_week, stats.opted_out_month = sums[
        :_FIXED_COLUMNS
    ]
    breakdown: dict[str, list[tuple[str, int]]] = {"gender": [], "age": [], "language": []}
    for (kind, value), count in zip(keys, sums[_FIXED_COLUMNS:], strict=True):
        if count:
            breakdown[kind].append((value, count))
    stats.cities = sorted(cities, key=lambda item: (-item[1], item[0]))[:TOP_CITIES]
    stats.genders = sorted(breakdown["gender"], key=lambda item: -item[1])
    stats.age_bands = breakdown["age"]  # youngest first, unknown last
    stats.languages = sorted(breakdown["language"], key=lambda item: -item[1])
    stats.daily_joins = [
        (day, joins.get(day, 0))
        for day in (chart_first_day + datetime.timedelta(days=n) for n in range(CHART_DAYS))
    ]
    stats.unread_conversations = Conversation.objects.filter(unread_count__gt=0).count()
    return stats


BROADCAST_STATUS_LABELS = {
    "draft": _("Draft"),
    "awaiting_approval": _("Awaiting approval"),
    "scheduled": _("Scheduled"),
    "queueing": _("Queueing"),
    "sending": _("Sending"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "failed": _("Failed"),
}


def broadcast_status_label(status: str) -> str:
    return str(BROADCAST_STATUS_LABELS.get(status, status))


@dataclass
class BroadcastSummary:
    broadcast: Any  # messaging.models.Broadcast
    recipients: int
    delivered: int
    failed: int
    delivery_rate: float | None  # delivered / sent, percent; None before anything was sent
    status_label: str = ""


def recent_broadcasts(*, limit: int = 5) -> list[BroadcastSummary]:
    """The latest `limit` broadcasts with their delivery rates, from the stored counters (no COUNT over
    deliveries): the dashboard's panel."""
    from messaging.models import Broadcast

    summaries = []
    for broadcast in Broadcast.objects.order_by("-created_at", "-id")[:limit]:
        sent = broadcast.sent_count
        summaries.append(
            BroadcastSummary(
                broadcast=broadcast,
                recipients=broadcast.recipient_count,
                delivered=broadcast.delivered_count,
                failed=broadcast.failed_count + broadcast.undelivered_count,
                delivery_rate=round(100 * broadcast.delivered_count / sent, 1) if sent else None,
                status_label=broadcast_status_label(broadcast.status),
            )
        )
    return summaries


# --- members ---------------------------------------------------------------------------------------------

_DIGITS = re.compile(r"\D")


def _search(queryset: QuerySet[Member], q: str) -> QuerySet[Member]:
    """Prefix search, each alternative served by an index (signup/models.py, Member.Meta.indexes):
    phone by its last digits (reverse(phone) LIKE '4321%'), first or last name, email, city or place."""
    q = " ".join(q.split())[:100]
    if not q:
        return queryset
    digits = _DIGITS.sub("", q)
    if digits and len(digits) >= 3 and not re.search(r"[A-Za-z@]", q):
        if q.startswith("+"):
            return queryset.filter(phone__startswith="+" + digits)
        return queryset.extra(where=["reverse(phone) LIKE %s"], params=[digits[::-1] + "%"])  # noqa: S610
    words = q.split(" ")
    if len(words) >= 2:
        # "maya garcía": first name and last name prefixes.
        first, last = words[0], " ".join(words[1:])
        return queryset.filter(
            Q(first_name__istartswith=first, last_name__istartswith=last)
            | Q(first_name__istartswith=q)
            | Q(last_name__istartswith=q)
            | Q(city__istartswith=q)
            | Q(place_name__istartswith=q)
        )
    return queryset.filter(
        Q(first_name__istartswith=q)
        | Q(last_name__istartswith=q)
        | Q(email__istartswith=q)
        | Q(city__istartswith=q)
        | Q(place_name__istartswith=q)
    )


def members_filter(queryset: QuerySet[Member], filters: dict[str, Any]) -> QuerySet[Member]:
    """Narrow members by a plain dict (keys in FILTER_KEYS; empty or missing values are ignored).

    place_ids, regions, countries, genders, languages, tags: lists (any of; tags: has any of the tags);
    near: {"place_id": …, "km": …}; age_min, age_max: whole years; joined_after, joined_before: dates
    (inclusive, UTC days) or datetimes; status: "subscribed" or "opted_out"; q: free-text search (_search).

    Geography and demographics go through the broadcasts' AudienceFilter (messaging.selectors), so the
    members page and a broadcast's audience select with the same SQL; status and search stay here.
    Raises ValueError (BroadcastError) on a bad value.
    """
    from members.audience import AudienceFilter, audience_filter_apply

    filters = filters or {}
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise ValueError(f"unknown member filters: {', '.join(sorted(unknown))}")
    audience: dict[str, Any] = {
        key: filters.get(key)
        for key in ("place_ids", "regions", "countries", "genders", "languages", "age_min", "age_max")
    }
    audience["tags_any"] = filters.get("tags")
    audience["near"] = filters.get("near") or None
    audience["joined_after"] = _moment(filters.get("joined_after"))
    before = filters.get("joined_before")
    if isinstance(before, datetime.datetime):
        audience["joined_before"] = _moment(before + datetime.timedelta(microseconds=1))  # inclusive
    elif before:
        audience["joined_before"] = _moment(before + datetime.timedelta(days=1))  # the whole day
    audience = {key: value for key, value in audience.items() if value not in (None, "", [], ())}
    queryset = audience_filter_apply(queryset, AudienceFilter.from_dict(audience), on=timezone.localdate())
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("q"):
        queryset = _search(queryset, filters["q"])
    return queryset


def _moment(value) -> str | None:
    """A date (midnight UTC) or datetime in the ISO form AudienceFilter reads."""
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return datetime.datetime.combine(value, datetime.time(), tzinfo=datetime.UTC).isoformat()


def cursor_encode(member: Member) -> str:
    raw = f"{member.joined_at.isoformat()}|{member.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime.datetime, int] | None:
    """The (joined_at, id) a page continues after; None when the cursor is not one we made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        joined, pk = raw.split("|")
        moment = datetime.datetime.fromisoformat(joined)
        if moment.tzinfo is None:
            return None
        return moment, int(pk)
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class MembersPage:
    members: list[Member]
    next_cursor: str | None


def members_page(
    queryset: QuerySet[Member], *, after: str | None = None, size: int = PAGE_SIZE
) -> MembersPage:
    """One page, newest first, continuing after a cursor: keyset pagination on (joined_at, id).

    The `joined_at <= t` bound is redundant with the OR but lets PostgreSQL start the index scan at the
    cursor instead of walking every newer member, so page 20,000 costs what page 1 does.
    """
    queryset = queryset.order_by("-joined_at", "-id")
    position = cursor_decode(after) if after else None
    if position is not None:
        joined_at, pk = position
        queryset = queryset.filter(joined_at__lte=joined_at).filter(
            Q(joined_at__lt=joined_at) | Q(joined_at=joined_at, id__lt=pk)
        )
    members = list(queryset[: size + 1])
    next_cursor = cursor_encode(members[size - 1]) if len(members) > size else None
    return MembersPage(members=members[:size], next_cursor=next_cursor)


def member_messages(member: Member) -> QuerySet:
    """Every text to and from this member's phone, oldest first (the whole conversation)."""
    from messaging.models import Message

    return Message.objects.filter(phone=member.phone).order_by("created_at", "id")


def member_consents(member: Member) -> QuerySet[ConsentRecord]:
    from members.consent import phone_hash

    return ConsentRecord.objects.filter(Q(member=member) | Q(phone_hash=phone_hash(member.phone))).order_by(
        "-created_at", "-id"
    )


EXPORT_COLUMNS = (
    "phone",
    "first_name",
    "last_name",
    "email",
    "gender",
    "birth_date",
    "language",
    "city",
    "place_name",
    "region",
    "country",
    "tags",
    "status",
    "joined_at",
    "opted_out_at",
)
EXPORT_CHUNK = 2000


def members_export_rows(queryset: QuerySet[Member]) -> Iterator[tuple]:
    """The export's rows, read through a server-side cursor EXPORT_CHUNK at a time."""
    return (
        queryset.order_by("-joined_at", "-id").values_list(*EXPORT_COLUMNS).iterator(chunk_size=EXPORT_CHUNK)
    )
