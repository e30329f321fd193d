"""Audience filters: the SQL the selectors build selects exactly who a plain-Python reading selects."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from members.audience import AudienceFilter, audience_count, audience_members, birth_date_range
from members.models import Member
from messaging.models import BroadcastError
from places.gazetteer import distance_km
from tests import builders
from tests.places import LONGUEUIL, LOS_ANGELES, MONTREAL, OTTAWA, PARIS

PLACES = [MONTREAL, LONGUEUIL, OTTAWA, PARIS, LOS_ANGELES, None]  # None: a city the gazetteer did not know
TAGS = ["volunteer", "donor", "press", "2026"]
GENDERS = ["female", "male", "non_binary", ""]
LANGUAGES = ["en", "fr", "es"]
DAYS = [
    datetime.date(2026, 2, 28),
    datetime.date(2026, 3, 1),
    datetime.date(2028, 2, 29),
    datetime.date(2026, 11, 22),
]
BASE_TIME = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

members_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "place": st.sampled_from(PLACES),
            "gender": st.sampled_from(GENDERS),
            "birth_date": st.none() | st.dates(datetime.date(1930, 1, 1), datetime.date(2015, 12, 31)),
            "language": st.sampled_from(LANGUAGES),
            "joined_days": st.integers(0, 300),
            "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=3),
            "opted_out": st.booleans(),
            "unreachable": st.integers(0, 5).map(lambda n: n == 0),
        }
    ),
    min_size=1,
    max_size=25,
)

filter_strategy = st.fixed_dictionaries(
    {},
    optional={
        "place_ids": st.lists(st.sampled_from([p.geoname_id for p in PLACES if p]), min_size=1, max_size=3),
        "regions": st.lists(st.sampled_from(["Quebec", "Ontario", "California"]), min_size=1, max_size=2),
        "countries": st.lists(st.sampled_from(["CA", "FR", "US"]), min_size=1, max_size=2),
        "near": st.fixed_dictionaries(
            {"lat": st.just(45.5017), "lon": st.just(-73.5673), "km": st.sampled_from([5, 30, 200, 6000 / 3])}
        ),
        "genders": st.lists(st.sampled_from(GENDERS[:3]), min_size=1, max_size=2),
        "age_min": st.integers(0, 60),
        "age_max": st.integers(10, 100),
        "languages": st.lists(st.sampled_from(LANGUAGES), min_size=1, max_size=2),
        "joined_after": st.integers(0, 300).map(
            lambda d: (BASE_TIME + datetime.timedelta(days=d)).isoformat()
        ),
        "joined_before": st.integers(0, 300).map(
            lambda d: (BASE_TIME + datetime.timedelta(days=d)).isoformat()
        ),
        "tags_any": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
        "tags_all": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
    },
)


def reference(member: Member, audience: AudienceFilter, day: datetime.date) -> bool:
    """The same filter, read in plain Python, one member at a time."""
    if member.status != Member.Status.SUBSCRIBED or member.unreachable_at is not None:
        return False
    if audience.place_ids and member.place_id not in audience.place_ids:
        return False
    if audience.regions and member.region not in audience.regions:
        return False
    if audience.countries and member.country not in audience.countries:
        return False
    if audience.near is not None:
        if member.latitude is None:
            return False
        near = audience.near
        if distance_km(near.latitude, near.longitude, member.latitude, member.longitude) > near.km:
            return False
    if audience.genders and member.gender not in audience.genders:
        return False
    if audience.age_min is not None or audience.age_max is not None:
        age = member.age_on(day)
        if age is None:
            return False
        if audience.age_min is not None and age < audience.age_min:
            return False
        if audience.age_max is not None and age > audience.age_max:
            return False
    if audience.languages and member.language not in audience.languages:
        return False
    if audience.joined_after is not None and member.joined_at < audience.joined_after:
        return False
    if audience.joined_before is not None and member.joined_at >= audience.joined_before:
        return False
    if audience.tags_any and not set(member.tags) & set(audience.tags_any):
        return False
    return not (audience.tags_all and not set(audience.tags_all) <= set(member.tags))


def create(spec: dict) -> Member:
    unknown_city = {"city": "Somewhere"} if spec["place"] is None else {}
    return builders.fan(
        place=spec["place"],
        gender=spec["gender"],
        birth_date=spec["birth_date"],
        language=spec["language"],
        joined_at=BASE_TIME + datetime.timedelta(days=spec["joined_days"], hours=12),
        tags=spec["tags"],
        status="opted_out" if spec["opted_out"] else "subscribed",
        unreachable_at=BASE_TIME if spec["unreachable"] else None,
        **unknown_city,
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=members_strategy, filters=filter_strategy, day=st.sampled_from(DAYS))
def test_the_audience_in_sql_is_the_audience_in_plain_python(alice_schema, specs, filters, day):
    if "age_min" in filters and "age_max" in filters and filters["age_min"] > filters["age_max"]:
        filters["age_max"] = filters["age_min"]
    audience = AudienceFilter.from_dict(filters)
    with transaction.atomic():
        members = [create(spec) for spec in specs]
        ids = [member.pk for member in members]
        selected = set(audience_members(audience, on=day).filter(pk__in=ids).values_list("pk", flat=True))
        expected = {member.pk for member in members if reference(member, audience, day)}
        transaction.set_rollback(True)
    assert selected == expected


def test_a_filter_survives_its_json_form(alice_schema):
    audience = AudienceFilter.from_dict(
        {
            "cities": ["Montréal", "Laval, CA"],
            "near": {"city": "Ottawa", "km": 30},
            "genders": ["female"],
            "age_min": 18,
            "age_max": 34,
            "joined_after": "2026-01-01",
            "tags_all": ["donor"],
        }
    )
    assert AudienceFilter.from_dict(audience.to_dict()) == audience
    assert MONTREAL.geoname_id in audience.place_ids and len(audience.place_ids) == 2
    assert audience.near.place_id == OTTAWA.geoname_id


def test_ages_are_counted_on_the_day_of_sending_even_for_leap_day_birthdays():
    # On 29 February 2028, whoever was born on or before 28 February 2010 is 18 (or older).
    born_after, born_by = birth_date_range(18, 18, on=datetime.date(2028, 2, 29))
    assert born_after < datetime.date(2010, 2, 28) <= born_by
    assert datetime.date(2010, 3, 1) > born_by
    born_after, born_by = birth_date_range(18, None, on=datetime.date(2027, 2, 28))
    assert born_by == datetime.date(2009, 2, 28)


def test_opted_out_and_unreachable_members_are_never_in_an_audience(alice_schema):
    kept = create({**BASE_SPEC})
    create({**BASE_SPEC, "opted_out": True})
    create({**BASE_SPEC, "unreachable": True})
    ids = list(Member.objects.filter(tags=["only-here"]).values_list("pk", flat=True))
    assert list(
        audience_members({"tags_any": ["only-here"]}).filter(pk__in=ids).values_list("pk", flat=True)
    ) == [kept.pk]
    assert audience_count({"tags_all": ["only-here"]}) == 1


BASE_SPEC = {
    "place": PLACES[0],
    "gender": "female",
    "birth_date": datetime.date(1990, 1, 1),
    "language": "fr",
    "joined_days": 3,
    "tags": ["only-here"],
    "opted_out": False,
    "unreachable": False,
}


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        ({"age_min": 40, "age_max": 30}, "age_min is above age_max"),
        ({"genders": ["robot"]}, "Unknown gender 'robot'"),
        ({"countries": ["Canada"]}, "'CANADA' is not a two-letter country code"),
        ({"near": {"lat": 45, "lon": -73}}, "near needs a distance in km"),
        ({"near": {"lat": 95, "lon": -73, "km": 10}}, "out of range"),
        ({"joined_after": "last week"}, "joined_after must be a date"),
        ({"place_ids": ["x"]}, "place_ids takes whole numbers"),
        ("everyone", "must be a JSON object"),
    ],
)
def test_a_bad_filter_gets_a_clear_reason(filters, reason):
    with pytest.raises(BroadcastError, match=reason):
        AudienceFilter.from_dict(filters)
