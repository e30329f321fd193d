"""The dashboard's figures: one set-based pass over the member table per leader, cached briefly.

Everything runs in the current leader's schema. At a million members the dashboard scans the member table
once (a GROUP BY city with FILTER counts) and reads the last 90 days of joins through the joined_at index.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from members.audience import years_before
from members.models import Member
from messaging.models import Conversation

DASHBOARD_CACHE_SECONDS = 60
CHART_DAYS = 90
TOP_CITIES = 10

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
