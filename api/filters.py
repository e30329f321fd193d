"""Member filters: a dict of named criteria in, a queryset out.

The key names are the audience filters' (place_ids, regions, countries, genders, age_min, age_max, languages,
tags, joined_after, joined_before, status, q), so that at merge this can hand the dict to the broadcast
engine's audience selector (`messaging.selectors`) and the API and broadcasts select members the same way.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from api.phones import PhoneError, phone_normalize
from signup.models import Member

LIST_KEYS = ("place_ids", "regions", "countries", "genders", "languages", "tags")
MAX_LIST_ITEMS = 100
MAX_TEXT = 120
MAX_AGE = 150


class FilterError(ValueError):
    """Bad filter values, as {key: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def members_filter(filters: dict[str, Any], queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Members matching every given criterion (an empty or missing key does not filter).

    Lists match any of their values (tags: any of the tags). Ages are whole years today; members without
    a birth date never match an age filter. `q` is a phone number (exact) or part of a name or email.
    """
    qs = Member.objects.all() if queryset is None else queryset
    if filters.get("place_ids"):
        qs = qs.filter(place_id__in=filters["place_ids"])
    if filters.get("regions"):
        qs = qs.filter(region__in=filters["regions"])
    if filters.get("countries"):
        qs = qs.filter(country__in=[c.upper() for c in filters["countries"]])
    if filters.get("genders"):
        qs = qs.filter(gender__in=filters["genders"])
    if filters.get("languages"):
        qs = qs.filter(language__in=filters["languages"])
    if filters.get("tags"):
        qs = qs.filter(tags__overlap=list(filters["tags"]))
    today = timezone.localdate()
    if filters.get("age_min") is not None:
        qs = qs.filter(birth_date__lte=_years_before(today, filters["age_min"]))
    if filters.get("age_max") is not None:
        qs = qs.filter(birth_date__gt=_years_before(today, filters["age_max"] + 1))
    if filters.get("joined_after") is not None:
        qs = qs.filter(joined_at__gte=filters["joined_after"])
    if filters.get("joined_before") is not None:
        qs = qs.filter(joined_at__lt=filters["joined_before"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("q"):
        q = filters["q"]
        try:
            phone, _country = phone_normalize(q) if q.startswith("+") else ("", None)
        except PhoneError:
            phone = ""
        if phone:
            qs = qs.filter(phone=phone)
        else:
            qs = qs.filter(Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q))
    return qs


def _clean_text(value: str) -> str:
    return value.replace("\x00", "").strip()


def member_filters_parse(params) -> dict[str, Any]:
    """The filters of a query string (`?countries=US,CA&age_min=18`), validated; FilterError otherwise.

    Lists are comma-separated, or the parameter repeated.
    """
    errors: dict[str, str] = {}
    filters: dict[str, Any] = {}
    for key in LIST_KEYS:
        raw = params.getlist(key) if hasattr(params, "getlist") else params.get(key) or []
        if isinstance(raw, str):
            raw = [raw]
        values = [_clean_text(v) for item in raw for v in item.split(",")]
        values = [v for v in values if v]
        if not values:
            continue
        if len(values) > MAX_LIST_ITEMS or any(len(v) > MAX_TEXT for v in values):
            errors[key] = f"At most {MAX_LIST_ITEMS} values of at most {MAX_TEXT} characters."
            continue
        if key == "place_ids":
            if not all(v.isdigit() and int(v) < 2**31 for v in values):
                errors[key] = "Place ids are whole numbers (GeoNames ids)."
                continue
            values = [int(v) for v in values]
        elif key == "genders" and not set(values) <= set(Member.Gender.values):
            errors[key] = "Genders are among: " + ", ".join(Member.Gender.values) + "."
            continue
        filters[key] = values
    for key in ("age_min", "age_max"):
        raw = _clean_text(params.get(key) or "")
        if raw:
            if not raw.isdigit() or int(raw) > MAX_AGE:
                errors[key] = f"A whole number of years from 0 to {MAX_AGE}."
            else:
                filters[key] = int(raw)
    for key in ("joined_after", "joined_before"):
        raw = _clean_text(params.get(key) or "")
        if raw:
            value = _parse_moment(raw)
            if value is None:
                errors[key] = "An ISO 8601 date or date and time (2026-05-01 or 2026-05-01T09:00:00Z)."
            else:
                filters[key] = value
    status = _clean_text(params.get("status") or "")
    if status:
        if status not in Member.Status.values:
            errors["status"] = "One of: " + ", ".join(Member.Status.values) + "."
        else:
            filters["status"] = status
    q = _clean_text(params.get("q") or "")
    if q:
        if len(q) > MAX_TEXT:
            errors["q"] = f"At most {MAX_TEXT} characters."
        else:
            filters["q"] = q
    if errors:
        raise FilterError(errors)
    return filters


def _parse_moment(raw: str) -> datetime.datetime | None:
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            if day is None:
                return None
            moment = datetime.datetime.combine(day, datetime.time())
    except (ValueError, OverflowError):
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, datetime.UTC)
    return moment
