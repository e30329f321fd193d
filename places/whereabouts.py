"""Where a phone is, as the gazetteer's region names (the names members.Member.region stores: "Jalisco",
"British Columbia", "New York"): what Twilio's FromState / FromCity / FromCountry say, and the region the
number's prefix belongs to (phonenumbers' geocoder). Library layer: phonenumbers and the gazetteer, nothing
of the project's.

Two callers: triage places each text in its topic × region matrix (`carrier_place`, `phone_place`, with the
city when one is named), and the inbound path asks whether a newcomer texts from inside a leader's pilot
regions (`sender_region`: the region only, on the webhook's path, so it never waits for the city index).
Every lookup is cached per process: a burst of texts costs dictionary hits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder

from places import gazetteer

# Where a place came from (triage.models.PlaceSource holds the same values, with labels).
SOURCE_CARRIER = "carrier"
SOURCE_PHONE = "phone"
SOURCE_NONE = ""

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


@dataclass(frozen=True, slots=True)
class Whereabouts:
    country: str = ""
    region: str = ""
    city: str = ""
    source: str = SOURCE_NONE


NOWHERE = Whereabouts()


def name_key(text: str) -> str:
    """How place names are compared: normalised (case, accents, punctuation), spaces dropped."""
    return gazetteer.normalize_name(text).replace(" ", "")


@functools.cache
def regions_of(country: str) -> dict[str, str]:
    """Name key -> region name, for one country's regions (and US states' postal codes)."""
    found: dict[str, str] = {}
    prefix = f"{country}."
    for code, name in gazetteer.admin1_names().items():
        if code.startswith(prefix) and name:
            found[name_key(name)] = name
            if country == "US":
                found[name_key(code[3:])] = name
    if country == "MX":
        for abbreviation, name in MEXICAN_STATES.items():
            found.setdefault(name_key(abbreviation), found.get(name_key(name), name))
    if country == "CA":  # "QC", "Colombie-Britannique": what gazetteer.region_names_for knows
        for code, name in gazetteer.admin1_names().items():
            if code.startswith(prefix):
                for alias in gazetteer.region_names_for(name):
                    found.setdefault(name_key(alias), alias)
    return found


def region_in(country: str, text: str) -> str:
    """The region of `country` that `text` names ("JAL", "Jalisco", "NY", "Québec"), "" when none."""
    if not country or not text:
        return ""
    name = regions_of(country).get(name_key(text))
    if name:
        return name
    names = [n for n in gazetteer.region_names_for(text) if name_key(n) in regions_of(country)]
    return names[0] if len(names) == 1 else ""


@functools.lru_cache(maxsize=50_000)
def _city(text: str, country: str) -> tuple[str, str] | None:
    """(city, region) of the city `text` names in `country`, None when it names none there. Builds the
    city index on first use (seconds): callers that must not wait ask `gazetteer.is_loaded()` first."""
    place = gazetteer.resolve_city(text, country=country or None)
    if place is None or (country and place.country != country):
        return None
    return place.name, place.region


def _carrier_told(details: dict | None, country: str) -> tuple[str, str, str] | None:
    """(country, state text, city text) Twilio's carrier lookup gave, None when it contradicts the number's
    own country (a ported or roaming number, a gateway's defaults: its city and state are not about this
    sender either) or says nothing."""
    if not details:
        return None
    told = (details.get("FromCountry") or "").strip().upper()[:2]
    if told and country and told != country:
        return None
    country = (told or country or "").strip().upper()[:2]
    return country, (details.get("FromState") or "").strip(), (details.get("FromCity") or "").strip()


def carrier_place(details: dict | None, country: str) -> Whereabouts | None:
    """Twilio's FromCity / FromState / FromCountry (US and Canadian numbers mostly), when they tell."""
    told = _carrier_told(details, country)
    if told is None:
        return None
    country, state, city_text = told
    region = region_in(country, state) if state else ""
    city = ""
    if city_text:
        found = _city(city_text.title(), country)
        if found and (not region or found[1] == region):
            city, region = found[0], region or found[1]
    if not region and not city:
        return None
    return Whereabouts(country=country, region=region, city=city, source=SOURCE_CARRIER)


@functools.lru_cache(maxsize=200_000)
def _described(phone: str) -> tuple[str, tuple[str, ...]]:
    """The number's country and the geocoder's description of where its prefix is, in parts
    (("MX", ("Guadalajara", "JAL")), ("CA", ("Quebec",))); () when it says only the country."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return "", ()
    country = phonenumbers.region_code_for_number(number) or ""
    if country in ("", "001", "ZZ"):
        return "", ()
    description = geocoder.description_for_number(number, "en")
    if not description or description == geocoder.country_name_for_number(number, "en"):
        return country, ()
    return country, tuple(part.strip() for part in description.split(","))


@functools.lru_cache(maxsize=200_000)
def phone_place(phone: str) -> Whereabouts:
    """The region the phone number's prefix belongs to, from phonenumbers' geocoder ("Guadalajara, JAL" ->
    Jalisco; "British Columbia"; "New York, NY"); only the country when the geocoder names no region."""
    country, parts = _described(phone)
    if not country:
        return NOWHERE
    region = city = ""
    if len(parts) >= 2:
        region = region_in(country, parts[-1])
        name = parts[0].split("/")[-1]  # "Conkal/Merida, YUC"
        found = _city(name, country)
        if found and (not region or found[1] == region):
            city, region = found[0], region or found[1]
    elif parts:
        region = region_in(country, parts[0])
        if not region:
            found = _city(parts[0], country)
            if found:
                city, region = found
    if region:
        return Whereabouts(country=country, region=region, city=city, source=SOURCE_PHONE)
    return Whereabouts(country=country)


def phone_region(phone: str) -> tuple[str, str]:
    """(country, region) of the number's prefix, the region only: named by the geocoder's state or province
    ("New York, NY", "Quebec", "Guadalajara, JAL"), or by its city ("Washington D.C.") when the city index is
    already built; "" when neither tells (a French or British mobile: the prefix is the whole country)."""
    country, parts = _described(phone)
    if not parts:
        return country, ""
    region = region_in(country, parts[-1])
    if not region and gazetteer.is_loaded():
        found = _city(parts[0].split("/")[-1], country)
        region = found[1] if found else ""
    return country, region


def sender_region(*, phone: str, details: dict | None = None) -> tuple[str, str]:
    """(country, region) a texter is in, for a leader's pilot: the number's country, and the region Twilio's
    carrier lookup names (FromState, else FromCity when the city index is built), else the number's prefix's
    (`phone_region`); region "" when nothing tells. Never builds the city index: it is on the webhook's path."""
    country, region = phone_region(phone)
    told = _carrier_told(details, country)
    if told is not None:
        _, state, city_text = told
        from_carrier = region_in(country, state) if state else ""
        if not from_carrier and city_text and gazetteer.is_loaded():
            found = _city(city_text.title(), country)
            from_carrier = found[1] if found else ""
        region = from_carrier or region
    return country, region
