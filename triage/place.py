"""Where a text's sender is, for the topic × region matrix: the first source that tells, most trusted first
(triage.models.PlaceSource): the member's own place, Twilio's FromCity/FromState, the phone number's region
(phonenumbers' geocoder), a place named in the text (the gazetteer), else nothing; the country always from the
phone when nothing else says.

Regions are the gazetteer's region NAMES, as members.Member.region stores them ("Jalisco", "British
Columbia", "New York"), so a matrix cell, a member's place and a region filter compare equal. Pure Python, no
database; every lookup is cached per process, so a batch of a campaign's texts costs dictionary hits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder

from common.phones import phone_country
from places import gazetteer
from triage.models import PlaceSource

# The geocoder writes Mexican states with their usual abbreviations ("Guadalajara, JAL").
MEXICAN_STATES = {
    "AGS": "Aguascalientes",
    "BC": "Baja California",
    "BCS": "Baja California Sur",
    "CAMP": "Campeche",
    "CHIS": "Chiapas",
    "CHIH": "Chihuahua",
    "COAH": "Coahuila",
    "COL": "Colima",
    "CDMX": "Mexico City",
    "DF": "Mexico City",
    "DGO": "Durango",
    "GTO": "Guanajuato",
    "GRO": "Guerrero",
    "HGO": "Hidalgo",
    "JAL": "Jalisco",
    "MEX": "México",
    "EDOMEX": "México",
    "MICH": "Michoacán",
    "MOR": "Morelos",
    "NAY": "Nayarit",
    "NL": "Nuevo León",
    "OAX": "Oaxaca",
    "PUE": "Puebla",
    "QRO": "Querétaro",
    "QROO": "Quintana Roo",
    "SLP": "San Luis Potosí",
    "SIN": "Sinaloa",
    "SON": "Sonora",
    "TAB": "Tabasco",
    "TAMPS": "Tamaulipas",
    "TLAX": "Tlaxcala",
    "VER": "Veracruz",
    "YUC": "Yucatán",
    "ZAC": "Zacatecas",
}

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


@dataclass(frozen=True, slots=True)
class Whereabouts:
    country: str = ""
    region: str = ""
    city: str = ""
    source: str = PlaceSource.NONE


NOWHERE = Whereabouts()


def _key(text: str) -> str:
    return gazetteer.normalize_name(text).replace(" ", "")


@functools.cache
def _regions_of(country: str) -> dict[str, str]:
    """Name key -> region name, for one country's regions (and US states' postal codes)."""
    found: dict[str, str] = {}
    prefix = f"{country}."
    for code, name in gazetteer.admin1_names().items():
        if code.startswith(prefix) and name:
            found[_key(name)] = name
            if country == "US":
                found[_key(code[3:])] = name
    if country == "MX":
        for abbreviation, name in MEXICAN_STATES.items():
            found.setdefault(_key(abbreviation), found.get(_key(name), name))
    if country == "CA":  # "QC", "Colombie-Britannique": what gazetteer.region_names_for knows
        for code, name in gazetteer.admin1_names().items():
            if code.startswith(prefix):
                for alias in gazetteer.region_names_for(name):
                    found.setdefault(_key(alias), alias)
    return found


def region_in(country: str, text: str) -> str:
    """The region of `country` that `text` names ("JAL", "Jalisco", "NY", "Québec"), "" when none."""
    if not country or not text:
        return ""
    name = _regions_of(country).get(_key(text))
    if name:
        return name
    names = [n for n in gazetteer.region_names_for(text) if _key(n) in _regions_of(country)]
    return names[0] if len(names) == 1 else ""


@functools.lru_cache(maxsize=50_000)
def _city(text: str, country: str) -> tuple[str, str] | None:
    """(city, region) of the city `text` names in `country`, None when it names none there."""
    place = gazetteer.resolve_city(text, country=country or None)
    if place is None or (country and place.country != country):
        return None
    return place.name, place.region


def carrier_place(details: dict | None, country: str) -> Whereabouts | None:
    """Twilio's FromCity / FromState / FromCountry (US and Canadian numbers mostly), when they tell."""
    if not details:
        return None
    told = (details.get("FromCountry") or "").strip().upper()[:2]
    if told and country and told != country:
        # The carrier's idea of the sender's country contradicts the number's own (a ported or roaming
        # number, a gateway's defaults): its city and state are not about this sender either.
        return None
    country = (told or country or "").strip().upper()[:2]
    city_text = (details.get("FromCity") or "").strip()
    state = (details.get("FromState") or "").strip()
    region = region_in(country, state) if state else ""
    city = ""
    if city_text:
        found = _city(city_text.title(), country)
        if found and (not region or found[1] == region):
            city, region = found[0], region or found[1]
    if not region and not city:
        return None
    return Whereabouts(country=country, region=region, city=city, source=PlaceSource.CARRIER)


@functools.lru_cache(maxsize=200_000)
def phone_place(phone: str) -> Whereabouts:
    """The region the phone number's prefix belongs to, from phonenumbers' geocoder ("Guadalajara, JAL" ->
    Jalisco; "British Columbia"; "New York, NY"); only the country when the geocoder names no region."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return NOWHERE
    country = phonenumbers.region_code_for_number(number) or ""
    if country in ("", "001", "ZZ"):
        return NOWHERE
    description = geocoder.description_for_number(number, "en")
    region = city = ""
    if description and description != geocoder.country_name_for_number(number, "en"):
        parts = [part.strip() for part in description.split(",")]
        if len(parts) >= 2:
            region = region_in(country, parts[-1])
            name = parts[0].split("/")[-1]  # "Conkal/Merida, YUC"
            found = _city(name, country)
            if found and (not region or found[1] == region):
                city, region = found[0], region or found[1]
        else:
            region = region_in(country, parts[0])
            if not region:
                found = _city(parts[0], country)
                if found:
                    city, region = found
    if region:
        return Whereabouts(country=country, region=region, city=city, source=PlaceSource.PHONE)
    return Whereabouts(country=country)


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
