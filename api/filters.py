"""Member filters in the API: the broadcasts' filter language (`members.audience`, docs/broadcasts.md), the
one the console and `manage.py broadcast` speak, in JSON bodies (audience preview, broadcasts) and in the
members listing's query string.

Its keys are `members.audience.FILTER_KEYS` (`place_ids`, `cities`, `regions`, `countries`, `near`,
`genders`, `age_min`, `age_max`, `languages`, `joined_after`, `joined_before`, `tags_any`, `tags_all`),
plus `tags`, the API's earlier name for `tags_any`. Whatever the spelling, the values are checked and
understood in one place, `AudienceFilter.from_dict`: this module only reads a query string into that
JSON form (lists comma-separated or repeated; `near` as `near[km]=30&near[city]=Ottawa`), and names the key
a refusal is about. The listing adds two keys of its own, `status` and `q`.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from common.phones import PhoneError, phone_parse
from members.audience import FILTER_KEYS, NEAR_KEYS, AudienceError, AudienceFilter, audience_filter_apply
from members.models import Member
from places.gazetteer import region_names_for

ALIASES = {"tags": "tags_any"}  # the API's earlier names, still accepted
AUDIENCE_KEYS = (*FILTER_KEYS, *ALIASES)
# In a query string, lists are comma-separated or repeated; a city is repeated only, since it may carry its
# country after a comma (`cities=Laval, CA`).
LIST_KEYS = ("place_ids", "regions", "countries", "genders", "languages", "tags_any", "tags_all", "tags")
REPEATED_KEYS = ("cities",)
SCALAR_KEYS = ("age_min", "age_max", "joined_after", "joined_before")
MAX_LIST_ITEMS = 100
MAX_TEXT = 120
EMPTY = "Give a value, or leave the parameter out."


class FilterError(ValueError):
    """Bad filter values, as {key: message}."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


def _error_key(error: AudienceError, given: set[str]) -> str:
    """The key an AudienceError is about ("age_min is above age_max." → age_min), in the client's spelling
    (`tags` when it sent `tags`)."""
    message = str(error)
    names = sorted(FILTER_KEYS, key=len, reverse=True)
    found = [(message.find(name), name) for name in names if name in message]
    if error.key or not found:
        return error.key or "filter"
    name = min(found)[1]
    for alias, canonical in ALIASES.items():
        if canonical == name and alias in given:
            return alias
    return name


def audience_from_api(filters: dict[str, Any] | None) -> AudienceFilter:
    """The audience filter of the API's filter keys; FilterError ({key: message}) when not valid.

    Keys other than AUDIENCE_KEYS (the listing's `status` and `q`, the serializer's own) are ignored here.
    """
    data: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if key not in AUDIENCE_KEYS or value in (None, "", []):
            continue
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        key = ALIASES.get(key, key)
        data[key] = [*data[key], *value] if key in data and isinstance(value, list) else value
    try:
        return AudienceFilter.from_dict(data)
    except AudienceError as exc:
        raise FilterError({_error_key(exc, set(filters or {})): str(exc)}) from None


@dataclasses.dataclass(frozen=True)
class MemberQuery:
    """The members listing's filter: an audience (as a broadcast would select), a status and a search."""

    audience: AudienceFilter
    status: str = ""
    q: str = ""


def members_filter(query: MemberQuery, queryset: QuerySet[Member] | None = None) -> QuerySet[Member]:
    """Members matching every given criterion. The audience goes through the broadcast engine's selector
    (lists match any of their values; ages are whole years today, and members without a birth date never
    match an age filter); `status` and `q` (a phone number, exact, or part of a name or email) are the
    listing's own."""
    qs = Member.objects.all() if queryset is None else queryset
    qs = audience_filter_apply(qs, query.audience)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.q:
        try:
            phone, _country = phone_parse(query.q) if query.q.startswith("+") else ("", None)
        except PhoneError:
            phone = ""
        if phone:
            qs = qs.filter(phone=phone)
        else:
            qs = qs.filter(
                Q(first_name__icontains=query.q)
                | Q(last_name__icontains=query.q)
                | Q(email__icontains=query.q)
            )
    return qs


def _values(params, key: str) -> list[str]:
    raw = params.getlist(key) if hasattr(params, "getlist") else params.get(key) or []
    return [raw] if isinstance(raw, str) else list(raw)


def _text_problem(value: str) -> str | None:
    """Why one value of the query string is not usable text; None when it is."""
    if len(value) > MAX_TEXT:
        return f"At most {MAX_TEXT} characters."
    if "\x00" in value:
        return "Null characters are not allowed."
    return None


def member_query_parse(params) -> MemberQuery:
    """The members listing's filter from a query string (`?countries=US,CA&age_min=18&near[km]=30&near[city]
    =Ottawa`); FilterError ({key: message}) when not valid. An empty search (`q=`) filters nothing; an
    empty list, number, date or status (`countries=`) is refused, as the OpenAPI document says: a parameter
    left out is the way to say "any".

    Reads the query string into the filter's JSON form, values as sent; `AudienceFilter.from_dict` checks
    and understands them.
    """
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    for key in (*LIST_KEYS, *REPEATED_KEYS):
        items = _values(params, key)
        if "" in items:
            errors[key] = EMPTY
            continue
        if key in LIST_KEYS:
            items = [part for item in items for part in item.split(",")]
        problems = [_text_problem(item) or ("" if item.strip() else "A value is empty.") for item in items]
        if len(items) > MAX_LIST_ITEMS:
            errors[key] = f"At most {MAX_LIST_ITEMS} values."
        elif any(problems):
            errors[key] = next(problem for problem in problems if problem)
        elif items:
            data[key] = items
    for key in SCALAR_KEYS:
        value = params.get(key) or ""
        if _text_problem(value):
            errors[key] = _text_problem(value)
        elif value:
            data[key] = value
        elif key in params:
            errors[key] = EMPTY
    near = {}
    for name in params:
        if name.startswith("near[") and name.endswith("]"):
            part, value = name[5:-1], params.get(name) or ""
            if part not in NEAR_KEYS:
                errors["near"] = f"near takes {', '.join(f'near[{key}]' for key in NEAR_KEYS)}."
            elif _text_problem(value):
                errors["near"] = _text_problem(value)
            elif value:
                near[part] = value
            else:
                errors["near"] = EMPTY
    if near:
        data["near"] = near
    status = params.get("status") or ""
    if "status" in params and status not in Member.Status.values:
        errors["status"] = "One of: " + ", ".join(Member.Status.values) + "."
    q = params.get("q") or ""
    if _text_problem(q):
        errors["q"] = _text_problem(q)
    if errors:
        raise FilterError(errors)
    return MemberQuery(audience=audience_from_api(data), status=status, q=q.strip())


def moment_parse(raw: str) -> datetime.datetime | None:
    """An ISO 8601 date (midnight UTC) or date and time (UTC when it has no zone); None when it is not one."""
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


# --- triage filters: messages and conversations ------------------------------------------------------------
TOPIC_PATTERN = r"^(unsorted|[0-9]{1,9})$"  # a topic's id (PostgreSQL's integer), or `unsorted`
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}$"
COUNTRY_PATTERN = r"^[A-Za-z]{2}$"
DIRECTIONS = {"inbound": "in", "outbound": "out", "in": "in", "out": "out"}
UNSORTED = "unsorted"


@dataclasses.dataclass(frozen=True)
class TriageQuery:
    """What the messages and conversations listings filter on from a text's triage (triage.Label): its
    topic (an id, or UNSORTED), language, region (the names it may mean) and country; and, for messages,
    their direction and time of arrival."""

    topic: int | str | None = None
    language: str = ""
    regions: tuple[str, ...] = ()
    country: str = ""
    direction: str = ""
    received_after: datetime.datetime | None = None
    received_before: datetime.datetime | None = None
    overdue: bool | None = None

    @property
    def labelled(self) -> bool:
        """Whether the query is about labels at all (a message without one never matches it)."""
        return self.topic is not None or bool(self.language or self.regions or self.country)

    def label_q(self, prefix: str = "") -> Q:
        """The condition on a label, its fields reached through `prefix` ("label__" from a message)."""
        # A text not triaged yet has no label: the join's NULLs must not read as "no topic".
        q = Q(**{f"{prefix}pk__isnull": False}) if prefix else Q()
        if self.topic == UNSORTED:
            q &= Q(**{f"{prefix}topic__isnull": True})
        elif self.topic is not None:
            q &= Q(**{f"{prefix}topic_id": self.topic})
        if self.language:
            q &= Q(**{f"{prefix}language": self.language})
        if self.regions:
            q &= Q(**{f"{prefix}region__in": self.regions})
        if self.country:
            q &= Q(**{f"{prefix}country": self.country})
        return q


def _moment_utc(raw: str) -> datetime.datetime | None:
    moment = moment_parse(raw) if len(raw) <= 64 else None
    try:
        # In UTC: PostgreSQL refuses offsets past ±15:59, which ISO 8601 (and Python) allow.
        return moment.astimezone(datetime.UTC) if moment is not None else None
    except OverflowError:
        return None


def triage_query_parse(params, *, keys: tuple[str, ...]) -> TriageQuery:
    """The triage filters among `keys` from a query string; FilterError ({key: message}) for each bad one.

    `topic`: a topic's id or `unsorted` (triaged, no topic); `language`: a code (`es`); `region`: a region's
    name, matched as the audience filters match it (any case or accents: `jalisco`, `QC`), or as written
    when the gazetteer knows no such region (the carrier's and the phone's region names); `country`: two
    letters; `direction`: inbound or outbound (in, out); `received_after`/`received_before`: an ISO 8601 date
    (midnight UTC) or date and time (UTC without a zone); `overdue`: true or false. A parameter left out
    means "any"; an empty one is refused, as in the members listing.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key in keys:
        if key not in params:
            continue
        raw = params.get(key) or ""
        problem = _text_problem(raw)
        if problem:
            errors[key] = problem
            continue
        if not raw.strip():
            errors[key] = EMPTY
            continue
        if key == "topic":
            if re.fullmatch(TOPIC_PATTERN, raw):
                values["topic"] = raw if raw == UNSORTED else int(raw)
            else:
                errors[key] = "A topic's id, or unsorted."
        elif key == "language":
            if re.fullmatch(LANGUAGE_PATTERN, raw):
                values["language"] = raw.lower()
            else:
                errors[key] = "A language code of 2 or 3 letters (en, fr, es)."
        elif key == "region":
            values["regions"] = tuple(sorted({*region_names_for(raw), raw}))
        elif key == "country":
            if re.fullmatch(COUNTRY_PATTERN, raw):
                values["country"] = raw.upper()
            else:
                errors[key] = "A two-letter country code (MX, CA)."
        elif key == "direction":
            if raw in DIRECTIONS:
                values["direction"] = DIRECTIONS[raw]
            else:
                errors[key] = "inbound or outbound."
        elif key in ("received_after", "received_before"):
            moment = _moment_utc(raw)
            if moment is None:
                errors[key] = "An ISO 8601 date or date and time (2026-05-01 or 2026-05-01T09:00:00Z)."
            else:
                values[key] = moment
        elif key == "overdue":
            if raw in ("true", "false"):
                values["overdue"] = raw == "true"
            else:
                errors[key] = "true or false."
    if errors:
        raise FilterError(errors)
    return TriageQuery(**values)
