"""Member filters: one definition of "which members" for the members listing, the audience preview and
broadcasts.

The API's filter keys (place_ids, regions, countries, genders, age_min, age_max, languages, tags,
joined_after, joined_before) become a `members.audience.AudienceFilter`, the broadcast engine's own,
so a listing with these keys selects exactly the members a broadcast with the same filter would reach (less
the opted-out and unreachable, whom a broadcast never reaches). `tags` matches any of the tags
(the audience's `tags_any`). The listing adds two keys of its own, `status` and `q`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from common.phones import PhoneError, phone_parse
from members.audience import AudienceFilter, audience_filter_apply
from members.models import Member
from messaging.models import BroadcastError

LIST_KEYS = ("place_ids", "regions", "countries", "genders", "languages", "tags")
AUDIENCE_KEYS = (*LIST_KEYS, "age_min", "age_max", "joined_after", "joined_before")
MAX_LIST_ITEMS = 100
MAX_TEXT = 120
MAX_AGE = 130  # the audience filter's bound
MAX_PLACE_ID = 2**31 - 1

# The API's names for the audience filter's keys, where they differ.
_TO_AUDIENCE = {"tags": "tags_any"}
_FROM_AUDIENCE = {value: key for key, value in _TO_AUDIENCE.items()}


class FilterError(ValueError):
    """Bad filter values, as {key: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _error_key(message: str) -> str:
    """The API key a one-line BroadcastError is about ("age_min is above age_max." → age_min)."""
    names = sorted((*AUDIENCE_KEYS, *_FROM_AUDIENCE), key=len, reverse=True)
    found = [(message.find(name), name) for name in names if name in message]
    if not found:
        return "filter"
    name = min(found)[1]
    return _FROM_AUDIENCE.get(name, name)


def audience_from_api(filters: dict[str, Any] | None) -> AudienceFilter:
    """The audience filter for the API's filter keys; FilterError ({key: message}) when not valid.

    Keys other than AUDIENCE_KEYS (the listing's `status` and `q`) are ignored here.
    """
    data = {
        _TO_AUDIENCE.get(key, key): value
        for key, value in (filters or {}).items()
        if key in AUDIENCE_KEYS and value not in (None, "", [])
    }
    for key in ("joined_after", "joined_before"):
        if isinstance(data.get(key), datetime.datetime):
            data[key] = data[key].isoformat()
    try:
        return AudienceFilter.from_dict(data)
    except BroadcastError as exc:
        raise FilterError({_error_key(str(exc)): str(exc)}) from None


def audience_to_api(stored: dict[str, Any] | None) -> dict[str, Any]:
    """A stored audience filter (`Broadcast.filters`) in the API's key names."""
    return {_FROM_AUDIENCE.get(key, key): value for key, value in (stored or {}).items()}


def members_filter(filters: dict[str, Any], queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Members matching every given criterion (an empty or missing key does not filter).

    The audience keys are applied by the broadcast engine's selector (lists match any of their values;
    ages are whole years today, and members without a birth date never match an age filter). `status` and
    `q` (a phone number, exact, or part of a name or email) are the listing's own. FilterError when a value
    is not valid.
    """
    qs = Member.objects.all() if queryset is None else queryset
    qs = audience_filter_apply(qs, audience_from_api(filters))
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("q"):
        q = filters["q"]
        try:
            phone, _country = phone_parse(q) if q.startswith("+") else ("", None)
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
            if not all(v.isdecimal() and int(v) <= MAX_PLACE_ID for v in values):
                errors[key] = "Place ids are whole numbers (GeoNames ids)."
                continue
            values = [int(v) for v in values]
        elif key == "countries" and not all(len(v) == 2 and v.isascii() and v.isalpha() for v in values):
            errors[key] = "Countries are two-letter ISO codes (US, CA)."
            continue
        elif key == "genders" and not set(values) <= set(Member.Gender.values):
            errors[key] = "Genders are among: " + ", ".join(Member.Gender.values) + "."
            continue
        filters[key] = values
    for key in ("age_min", "age_max"):
        raw = _clean_text(params.get(key) or "")
        if raw:
            if not raw.isdecimal() or int(raw) > MAX_AGE:
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
    if "age_min" in filters and "age_max" in filters and filters["age_min"] > filters["age_max"]:
        errors["age_min"] = "age_min is above age_max."
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
