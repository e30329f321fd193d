"""Reads on members: the filter (shared by the console's members page, its export and the API), prefix
search, keyset pages, a member's consent history, export rows, the record of exports.

Everything runs in the current leader's schema. At a million members no read scans the member table more
than once: the list is keyset-paginated on (joined_at, id) and its search uses prefix indexes
(members/models.py).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from members.audience import AudienceFilter, audience_filter_apply
from members.consent import phone_hash
from members.models import ConsentRecord, ExportRecord, Member, MemberInterest

PAGE_SIZE = 50
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


_DIGITS = re.compile(r"\D")


def _search(queryset: QuerySet[Member], q: str) -> QuerySet[Member]:
    """Prefix search, each alternative served by an index (members/models.py, Member.Meta.indexes):
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

    Geography and demographics go through the broadcasts' AudienceFilter (members.audience), so the
    members page and a broadcast's audience select with the same SQL; status and search stay here.
    Raises ValueError (BroadcastError) on a bad value.
    """
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


# Up to this many members a filtered list is counted exactly; above, PostgreSQL's estimate is shown, said so.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class MembersTotal:
    count: int
    estimated: bool  # above EXACT_COUNT_LIMIT: the planner's estimate of the rows, not a count


def members_total(queryset: QuerySet[Member]) -> MembersTotal:
    """How many members a filtered list holds: counted exactly up to EXACT_COUNT_LIMIT (a count over at most
    that many rows, bounded whatever the filter), else the planner's estimate (EXPLAIN), never a full count
    over a million rows on each page view."""
    exact = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if exact <= EXACT_COUNT_LIMIT:
        return MembersTotal(count=exact, estimated=False)
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    estimate = int(plan[0]["Plan"]["Plan Rows"])
    return MembersTotal(count=max(estimate, EXACT_COUNT_LIMIT + 1), estimated=True)


def member_interests(member: Member) -> list[MemberInterest]:
    """The topics a member follows or left, with their topic, in the leader's order of topics."""
    return list(
        MemberInterest.objects.filter(member=member)
        .select_related("topic")
        .order_by("topic__position", "topic__id")
    )


def topic_followers(topic) -> QuerySet[Member]:
    """The members who follow `topic` now (along the partial index of followers)."""
    return Member.objects.filter(interest_rows__topic=topic, interest_rows__following=True)


def member_consents(member: Member) -> QuerySet[ConsentRecord]:
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


def export_records_recent(limit: int = 100) -> QuerySet[ExportRecord]:
    """The latest exports, newest first, for the owners' page."""
    return ExportRecord.objects.order_by("-created_at", "-id")[:limit]
