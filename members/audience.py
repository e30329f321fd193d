"""Audiences: which members a filter selects, evaluated in SQL in the current leader's schema.

An audience is an ``AudienceFilter``: a validated, JSON-serialisable set of criteria stored on the broadcast
(``Broadcast.filters``), so the console, the API and the command line share one definition. Criteria
combine with AND; the values inside one criterion combine with OR (``genders: ["female", "non_binary"]``).
Members who opted out or are unreachable are never in an audience, whatever the filter says.

JSON form (every key optional; ``{}`` is everyone reachable):

    {"place_ids": [6077243], "cities": ["Montréal", "Laval, CA"], "regions": ["Quebec"],
     "countries": ["CA"],
     "near": {"place_id": 6077243, "km": 30} | {"city": "Ottawa", "km": 30} | {"lat": 45.5, "lon": -73.6, "km": 30},
     "genders": ["female"], "age_min": 18, "age_max": 34, "languages": ["fr"],
     "joined_after": "2026-01-01", "joined_before": "2026-06-30T12:00:00Z",
     "tags_any": ["volunteer"], "tags_all": ["donor", "2026"], "wrote_about": [3, 7], "follows": [2],
     "answered": [{"question": 12, "choices": [1, 3]}]}

``wrote_about`` takes topic ids (topics.Topic): members who wrote about any of them, as triage recorded it in
members.MemberTopic, read with EXISTS along its (member, topic) unique index.

``follows`` takes topic ids too: members who follow any of them (members.MemberInterest with following set;
a member who left the topic is never in it). ``answered`` takes questions of the leader's surveys, each with
choice positions: members whose latest answer to that question (members.MemberAnswer) includes any of those
choices; several questions must all be answered so. Both read with EXISTS along the tables' (member, …)
unique indexes. A question id is not checked against the surveys (they sit above members): a question no
member answered selects no one.

City names are resolved with the gazetteer (``places.gazetteer``) when the filter is built and stored as
place ids, so a filter means the same thing tomorrow. Region names are matched as cities are, whatever their
case and accents ("jalisco", "Québec", "QC"), and stored as the gazetteer's names of those regions
(``region_names_for``), the names members carry: "Tokyo", "Jalisco", "Quebec".
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from typing import Any

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from members.models import Member, MemberAnswer, MemberInterest, MemberTopic
from places import gazetteer as places
from topics.models import Topic


class AudienceError(ValueError):
    """An audience filter that is not valid; the message says why, in one line, and names the criterion
    (or `key` does, when the message cannot)."""

    def __init__(self, message: str, *, key: str | None = None):
        super().__init__(message)
        self.key = key


EARTH_RADIUS_KM = 6371.0088  # the mean radius places.gazetteer.distance_km uses
KM_PER_DEGREE_LATITUDE = math.pi * EARTH_RADIUS_KM / 180
MAX_RADIUS_KM = 2000
MAX_VALUES = 500  # per list criterion: a filter, not a mailing list
MAX_AGE = 130
MAX_PLACE_ID = 2**31 - 1  # GeoNames ids fit PostgreSQL's integer
MAX_ID = 2**31 - 1  # topic and question ids (PostgreSQL's integer)
MAX_ANSWERED = 20  # questions in one `answered` criterion
MAX_CHOICE_POSITION = 32767  # MemberAnswer.choices holds smallints
NEAR_KEYS = ("city", "place_id", "lat", "lon", "km")
FILTER_KEYS = (
    "place_ids",
    "cities",
    "regions",
    "countries",
    "near",
    "genders",
    "age_min",
    "age_max",
    "languages",
    "joined_after",
    "joined_before",
    "tags_any",
    "tags_all",
    "wrote_about",
    "follows",
    "answered",
)


@dataclasses.dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    km: float
    place_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Answered:
    """Members whose latest answer to `question` (a surveys.Question id) includes any of `choices`."""

    question: int
    choices: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class AudienceFilter:
    """Who a broadcast goes to. Build it with ``from_dict`` (validates); store ``to_dict()``."""

    place_ids: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    near: Near | None = None
    genders: tuple[str, ...] = ()
    age_min: int | None = None
    age_max: int | None = None
    languages: tuple[str, ...] = ()
    joined_after: datetime.datetime | None = None
    joined_before: datetime.datetime | None = None
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    wrote_about: tuple[int, ...] = ()  # topic ids
    follows: tuple[int, ...] = ()  # topic ids
    answered: tuple[Answered, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, *, stored: bool = False) -> AudienceFilter:
        """Validate the JSON form; raises AudienceError with a one-line reason.

        `stored`: `data` was stored on a broadcast, checked then. A region name the gazetteer does not know
        (stored before region names were checked) is kept as written, matching members whose region is
        exactly that, rather than refused: a scheduled broadcast still goes out.
        """

        data = data or {}
        if not isinstance(data, dict):
            raise AudienceError("The audience filter must be a JSON object.")
        unknown = sorted(set(data) - set(FILTER_KEYS))
        if unknown:
            raise AudienceError(
                f"Unknown filter {str(unknown[0])[:60]!r}; known: {', '.join(FILTER_KEYS)}.",
                key=str(unknown[0])[:60],
            )

        place_ids = [_place_id(value, "place_ids") for value in _list(data, "place_ids")]
        regions: set[str] = set()
        for name in _list(data, "regions"):
            names = places.region_names_for(str(name))
            if names:
                regions.update(names)
            elif stored:
                regions.add(str(name))
            else:
                raise AudienceError(f"regions takes region names, and no region is called {str(name)!r}.")
        for name in _list(data, "cities"):
            city, _, country = str(name).rpartition(",") if "," in str(name) else (str(name), "", "")
            place = places.resolve_city(city.strip(), country=country.strip().upper() or None)
            if place is None:
                raise AudienceError(f"No city called {name!r} in the gazetteer.", key="cities")
            place_ids.append(place.geoname_id)

        near = None
        if data.get("near") not in (None, {}):
            near = _near(data["near"])

        genders = [str(value) for value in _list(data, "genders")]
        for gender in genders:
            if gender not in Member.Gender.values:
                raise AudienceError(
                    f"Unknown gender {gender!r}; known: {', '.join(Member.Gender.values)}.", key="genders"
                )
        age_min = _age(data.get("age_min"), "age_min")
        age_max = _age(data.get("age_max"), "age_max")
        if age_min is not None and age_max is not None and age_min > age_max:
            raise AudienceError("age_min is above age_max.")
        countries = [str(value).upper() for value in _list(data, "countries")]
        for country in countries:
            if len(country) != 2 or not (country.isascii() and country.isalpha()):
                raise AudienceError(f"{country!r} is not a two-letter country code.", key="countries")
        joined_after = _moment(data.get("joined_after"), "joined_after")
        joined_before = _moment(data.get("joined_before"), "joined_before")
        wrote_about = _topic_ids(data, "wrote_about", stored=stored)
        follows = _topic_ids(data, "follows", stored=stored)
        answered = _answered(data.get("answered"))
        return cls(
            place_ids=tuple(sorted(set(place_ids))),
            regions=tuple(sorted(regions)),
            countries=tuple(sorted(set(countries))),
            near=near,
            genders=tuple(sorted(set(genders))),
            age_min=age_min,
            age_max=age_max,
            languages=tuple(sorted({str(value).lower() for value in _list(data, "languages")})),
            joined_after=joined_after,
            joined_before=joined_before,
            tags_any=tuple(sorted({str(value) for value in _list(data, "tags_any")})),
            tags_all=tuple(sorted({str(value) for value in _list(data, "tags_all")})),
            wrote_about=tuple(wrote_about),
            follows=tuple(follows),
            answered=answered,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with only the criteria in use; ``from_dict(f.to_dict()) == f``."""
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value in ((), None):
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Near):
                value = {"lat": value.latitude, "lon": value.longitude, "km": value.km}
                if self.near.place_id is not None:
                    value["place_id"] = self.near.place_id
            elif isinstance(value, datetime.datetime):
                value = value.isoformat()
            if field.name == "answered":
                value = [{"question": item.question, "choices": list(item.choices)} for item in self.answered]
            out[field.name] = value
        return out


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value in (None, ""):
        return []
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, list):
        raise AudienceError(f"{key} must be a list.")
    if len(value) > MAX_VALUES:
        raise AudienceError(f"{key} has more than {MAX_VALUES} values.")
    return value


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdecimal():
        raise AudienceError(f"{key} takes whole numbers, not {value!r}.")
    return int(value)


def _topic_ids(data: dict[str, Any], key: str, *, stored: bool) -> list[int]:
    ids = sorted({_positive(value, key, "topic ids") for value in _list(data, key)})
    if ids and not stored:
        # A topic deleted after the filter was stored selects no one (its rows went with it).
        known = set(Topic.objects.filter(pk__in=ids).values_list("pk", flat=True))
        missing = [topic_id for topic_id in ids if topic_id not in known]
        if missing:
            raise AudienceError(f"{key}: no topic with id {missing[0]}.", key=key)
    return ids


def _positive(value: Any, key: str, what: str, top: int = MAX_ID) -> int:
    number = _int(value, key)
    if not 0 < number <= top:
        raise AudienceError(f"{key} takes {what}.", key=key)
    return number


def _answered(value: Any) -> tuple[Answered, ...]:
    """[{"question": id, "choices": [positions]}, …] → Answered, one per question (choices of a question
    named twice are merged), in question order."""
    if value in (None, "", []):
        return ()
    shape = 'answered must be a list like [{"question": 12, "choices": [1, 3]}].'
    if not isinstance(value, list):
        raise AudienceError(shape, key="answered")
    if len(value) > MAX_ANSWERED:
        raise AudienceError(f"answered names more than {MAX_ANSWERED} questions.", key="answered")
    by_question: dict[int, set[int]] = {}
    for item in value:
        if not isinstance(item, dict) or set(item) != {"question", "choices"}:
            raise AudienceError(shape, key="answered")
        question = _positive(item["question"], "answered", "question ids in its question")
        choices = item["choices"]
        if isinstance(choices, int) and not isinstance(choices, bool):
            choices = [choices]
        if not isinstance(choices, list) or not choices:
            raise AudienceError(f"answered: question {question} needs at least one choice.", key="answered")
        if len(choices) > MAX_VALUES:
            raise AudienceError(
                f"answered: question {question} has more than {MAX_VALUES} choices.", key="answered"
            )
        by_question.setdefault(question, set()).update(
            _positive(choice, "answered", "choice positions (1, 2, …) in its choices", MAX_CHOICE_POSITION)
            for choice in choices
        )
    return tuple(Answered(q, tuple(sorted(by_question[q]))) for q in sorted(by_question))


def _place_id(value: Any, key: str) -> int:
    place_id = _int(value, key)
    if place_id > MAX_PLACE_ID:
        raise AudienceError(f"{key} takes GeoNames ids, at most {MAX_PLACE_ID}.")
    return place_id


def _age(value: Any, key: str) -> int | None:
    if value in (None, ""):
        return None
    age = _int(value, key)
    if not 0 <= age <= MAX_AGE:
        raise AudienceError(f"{key} must be between 0 and {MAX_AGE}.")
    return age


def _moment(value: Any, key: str) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.datetime.combine(day, datetime.time()) if day is not None else None
        if moment is not None and timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
    except (ValueError, OverflowError):  # well formed but no such day (2026-02-30), or out of range
        moment = None
    if moment is None:
        raise AudienceError(f"{key} must be a date (2026-05-01) or a date and time in ISO 8601.")
    try:
        # In UTC: PostgreSQL refuses offsets past ±15:59, which ISO 8601 (and Python) allow.
        return moment.astimezone(datetime.UTC)
    except OverflowError:  # past year 9999 or before year 1 in UTC: the first or last moment there is
        return (datetime.datetime.max if moment.year > 1 else datetime.datetime.min).replace(
            tzinfo=datetime.UTC
        )


def _near(value: Any) -> Near:
    if not isinstance(value, dict):
        raise AudienceError(
            'near must be like {"place_id": 6077243, "km": 30} or {"lat": …, "lon": …, "km": …}.'
        )
    unknown = sorted(set(value) - set(NEAR_KEYS))
    if unknown:
        raise AudienceError(f"near takes {', '.join(NEAR_KEYS)}, not {str(unknown[0])[:40]!r}.")
    try:
        km = float(value.get("km"))
    except (TypeError, ValueError):
        raise AudienceError("near needs a distance in km.") from None
    if not 0 < km <= MAX_RADIUS_KM:
        raise AudienceError(f"near.km must be above 0 and at most {MAX_RADIUS_KM}.")
    if value.get("place_id") is not None or value.get("city"):
        if value.get("place_id") is not None:
            place = places.get_place(_place_id(value["place_id"], "near.place_id"))
        else:
            place = places.resolve_city(str(value["city"]))
        if place is None:
            raise AudienceError("near names a place that is not in the gazetteer.")
        return Near(place.latitude, place.longitude, km, place.geoname_id)
    try:
        latitude, longitude = float(value["lat"]), float(value["lon"])
    except (KeyError, TypeError, ValueError):
        raise AudienceError("near needs a place_id, a city, or lat and lon.") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise AudienceError("near: latitude or longitude out of range.")
    return Near(latitude, longitude, km)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def birth_date_range(
    age_min: int | None, age_max: int | None, *, on: datetime.date
) -> tuple[datetime.date | None, datetime.date | None]:
    """(born after, born on or before) for members aged age_min..age_max on day `on`.

    Aged at least a on `on` ⇔ born on or before `on` minus a years; at most b ⇔ not aged b + 1.
    """
    latest = years_before(on, age_min) if age_min is not None else None
    earliest_excluded = years_before(on, age_max + 1) if age_max is not None else None
    return earliest_excluded, latest


_DISTANCE_SQL = (
    "2 * %s * asin(least(1.0, sqrt("
    'power(sin(radians("signup_member"."latitude" - %s) / 2), 2) + '
    'cos(radians(%s)) * cos(radians("signup_member"."latitude")) * '
    'power(sin(radians("signup_member"."longitude" - %s) / 2), 2)))) <= %s'
)


def _near_q(near: Near) -> tuple[Q, RawSQL]:
    """A bounding box on the indexed latitude/longitude, then the exact great-circle distance."""
    dlat = near.km / KM_PER_DEGREE_LATITUDE
    box = Q(latitude__gte=near.latitude - dlat, latitude__lte=near.latitude + dlat)
    widest = max(abs(near.latitude - dlat), abs(near.latitude + dlat))
    if widest < 89:
        dlon = near.km / (KM_PER_DEGREE_LATITUDE * math.cos(math.radians(widest)))
        west, east = near.longitude - dlon, near.longitude + dlon
        if west >= -180 and east <= 180:
            box &= Q(longitude__gte=west, longitude__lte=east)
        elif dlon < 180:  # the box crosses the antimeridian: two ranges
            box &= Q(longitude__gte=(west + 360) if west < -180 else west) | Q(
                longitude__lte=(east - 360) if east > 180 else east
            )
    # Constant SQL; every value is a query parameter.
    exact = RawSQL(  # noqa: S611
        _DISTANCE_SQL,
        (EARTH_RADIUS_KM, near.latitude, near.latitude, near.longitude, near.km),
        output_field=BooleanField(),
    )
    return box, exact


def reachable_members() -> QuerySet[Member]:
    """Members a broadcast may ever go to: subscribed and not known unreachable."""
    return Member.objects.reachable()


def audience_members(
    audience: AudienceFilter | dict[str, Any] | None, *, on: datetime.date | None = None
) -> QuerySet[Member]:
    """The members `audience` selects, as one SQL query; ages are counted on day `on` (default today).

    Call inside the leader's schema_context.
    """
    return audience_filter_apply(reachable_members(), audience, on=on)


def audience_filter_apply(
    queryset: QuerySet[Member],
    audience: AudienceFilter | dict[str, Any] | None,
    *,
    on: datetime.date | None = None,
) -> QuerySet[Member]:
    """`queryset` narrowed by the audience's criteria, without the reachability rule of `audience_members`:
    the console's members list and the API's members listing use it, so they select members exactly as
    broadcasts do and can still list opted-out members."""
    if not isinstance(audience, AudienceFilter):
        audience = AudienceFilter.from_dict(audience or {})
    on = on or timezone.localdate()
    if audience.place_ids:
        queryset = queryset.filter(place_id__in=audience.place_ids)
    if audience.regions:
        queryset = queryset.filter(region__in=audience.regions)
    if audience.countries:
        queryset = queryset.filter(country__in=audience.countries)
    if audience.near is not None:
        box, exact = _near_q(audience.near)
        queryset = queryset.filter(box).filter(exact)
    if audience.genders:
        queryset = queryset.filter(gender__in=audience.genders)
    if audience.age_min is not None or audience.age_max is not None:
        born_after, born_by = birth_date_range(audience.age_min, audience.age_max, on=on)
        if born_after is not None:
            queryset = queryset.filter(birth_date__gt=born_after)
        if born_by is not None:
            queryset = queryset.filter(birth_date__lte=born_by)
        queryset = queryset.filter(birth_date__isnull=False)
    if audience.languages:
        queryset = queryset.filter(language__in=audience.languages)
    if audience.joined_after is not None:
        queryset = queryset.filter(joined_at__gte=audience.joined_after)
    if audience.joined_before is not None:
        queryset = queryset.filter(joined_at__lt=audience.joined_before)
    if audience.tags_any:
        queryset = queryset.filter(tags__overlap=list(audience.tags_any))  # && : GIN
    if audience.tags_all:
        queryset = queryset.filter(tags__contains=list(audience.tags_all))  # @> : GIN
    if audience.wrote_about:
        wrote = MemberTopic.objects.filter(member_id=OuterRef("pk"), topic_id__in=audience.wrote_about)
        queryset = queryset.filter(Exists(wrote))
    if audience.follows:
        follows = MemberInterest.objects.filter(
            member_id=OuterRef("pk"), topic_id__in=audience.follows, following=True
        )
        queryset = queryset.filter(Exists(follows))
    for item in audience.answered:
        answered = MemberAnswer.objects.filter(
            member_id=OuterRef("pk"), question_id=item.question, choices__overlap=list(item.choices)
        )
        queryset = queryset.filter(Exists(answered))
    return queryset


def audience_count(
    audience: AudienceFilter | dict[str, Any] | None, *, on: datetime.date | None = None
) -> int:
    """How many members `audience` selects right now: the preview before sending."""
    return audience_members(audience, on=on).count()
