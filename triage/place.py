"""Where a text's sender is, for the topic × region matrix: the first source that tells, most trusted first
(triage.models.PlaceSource): the member's own place, Twilio's FromCity/FromState, the phone number's region
(phonenumbers' geocoder), a place named in the text (the gazetteer), else nothing; the country always from the
phone when nothing else says. The carrier's and the number's places are the library's
(places.whereabouts: the inbound path asks them too, for a leader's pilot regions); a place named in a
text, and the order of the sources, are triage's.

Regions are the gazetteer's region NAMES, as members.Member.region stores them ("Jalisco", "British
Columbia", "New York"), so a matrix cell, a member's place and a region filter compare equal. Pure Python, no
database; every lookup is cached per process, so a batch of a campaign's texts costs dictionary hits.
"""

from __future__ import annotations

import functools

from common.phones import phone_country
from places import gazetteer
from places.whereabouts import (  # noqa: F401 - Whereabouts, phone_place and region_in are triage's words too
    NOWHERE,
    Whereabouts,
    carrier_place,
    phone_place,
    region_in,
)
from places.whereabouts import name_key as _key
from places.whereabouts import regions_of as _regions_of
from triage.models import PlaceSource

# A place named in a text is looked for among the words and word pairs of the text, in the phone's country
# only, and only big places (a town of 5,000 shares its name with too many words). Words that are big cities'
# names but mostly mean something else in our fans' languages are never taken for places.
TEXT_CITY_MIN_POPULATION = 100_000
TEXT_MIN_WORD_LENGTH = 4
COMMON_WORDS = frozenset(
    [
        "nice",
        "mobile",
        "orange",
        "reading",
        "bath",
        "split",
        "tours",
        "mans",
        "sale",
        "mesa",
        "hope",
        "eagle",
        "victoria",
        "temple",
        "gary",
        "independence",
        "concord",
        "surprise",
        "lawrence",
        "paradise",
        "spring",
        "springs",
        "garden",
        "grove",
        "bend",
        "mission",
        "union",
        "santa",
        "salud",
        "agua",
        "vida",
        "paz",
        "progreso",
        "victoria",
        "esperanza",
        "libertad",
        "reforma",
        "bonn",
        "essen",
        "hamm",
        "halle",
        "worms",
        "marl",
        "herne",
        "gera",
        "plauen",
        "grand",
    ]
)


def text_place(text: str, country: str) -> Whereabouts | None:
    """A region or big city of `country` named in the text ("agua en Jalisco", "the hospital in
    Vancouver"), by its words and word pairs; None when none is named."""
    if not country:
        return None
    words = gazetteer.normalize_name(text[:400]).split()
    regions = _regions_of(country)
    candidates = [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] + words
    for candidate in candidates:
        key = candidate.replace(" ", "")
        if len(key) < TEXT_MIN_WORD_LENGTH or candidate in COMMON_WORDS:
            continue
        if key in regions:
            return Whereabouts(country=country, region=regions[key], source=PlaceSource.TEXT)
        found = _big_city(candidate, country)
        if found:
            return Whereabouts(country=country, region=found[1], city=found[0], source=PlaceSource.TEXT)
    return None


@functools.lru_cache(maxsize=200_000)
def _big_city(words: str, country: str) -> tuple[str, str] | None:
    """(city, region) when `words` is the main name of a big city of `country`."""
    place = gazetteer.resolve_city(words, country=country)
    if place is None or place.country != country or place.population < TEXT_CITY_MIN_POPULATION:
        return None
    if _key(place.name) != words.replace(" ", ""):
        return None  # an alternate name: too many are also ordinary words
    return place.name, place.region


def place_find(
    *, member: tuple[str, str, str] | None, details: dict | None, phone: str, text: str
) -> Whereabouts:
    """Where the sender of `text` is: the first source that tells (see the module). `member` is the member's
    (city, region, country), None for a newcomer."""
    from_phone = phone_place(phone) if phone else NOWHERE
    country = from_phone.country or (phone_country(phone) or "" if phone else "")
    if member is not None:
        city, region, member_country = member
        if region or city:
            return Whereabouts(
                country=member_country or country, region=region, city=city, source=PlaceSource.MEMBER
            )
        country = member_country or country
    carrier = carrier_place(details, country)
    if carrier is not None:
        return carrier
    if from_phone.source and from_phone.country == country:
        return from_phone
    named = text_place(text, country)
    if named is not None:
        return named
    return Whereabouts(country=country)
