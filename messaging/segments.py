"""SMS encoding and segment counting for broadcast bodies.

A carrier bills, paces and queues an SMS by *segments*, not by messages, so the composer, the cost
estimate and the sender's pacing all depend on counting them exactly. The rules (3GPP TS 23.038,
formerly GSM 03.38, and TS 23.040 for concatenated messages):

* If every character is in the GSM 7-bit default alphabet, the message is sent as GSM-7. A single
  segment holds 160 septets; once the message needs more than one, each segment carries a
  concatenation header and holds 153. Characters of the basic table cost 1 septet; characters of
  the extension table (``^ { } \\ [ ] ~ | €`` and form feed) are sent as ESC + character and cost 2.
* One character outside GSM-7 switches the whole message to UCS-2 (UTF-16 on the wire): 70 code
  units in a single segment, 67 per segment when split. A character outside the Basic Multilingual
  Plane (most emoji) is a surrogate pair and costs 2 code units.
* An escape sequence or a surrogate pair is never split across two segments: when it would straddle
  the boundary, the whole of it moves to the next segment, leaving a unit unused. That is why the
  counts here come from really splitting the text, not from dividing lengths.

This module is pure Python (no Django) so that the composer, the API, the sender and the tests can all
share it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# The longest broadcast body, counted in Python ``str`` length, i.e. Unicode code points, which is what
# a person sees as characters in nearly every case (an emoji with a skin tone or a flag is two or more
# code points, and is counted as such). It is a product limit, not an SMS one: 400 characters are
# 3 segments in GSM-7 and 6 in UCS-2 (more with emoji, which cost 2 UTF-16 code units each).
MAX_BODY_LENGTH = 400

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_SINGLE_SEPTETS = 160
GSM7_MULTIPART_SEPTETS = 153  # 7 septets of each segment carry the concatenation header
UCS2_SINGLE_UNITS = 70
UCS2_MULTIPART_UNITS = 67  # 3 code units of each segment carry the concatenation header

# The GSM 03.38 default alphabet, one row per 16 codes, so that a character's index in this string is
# its code and can be checked against the table in TS 23.038 section 6.2.1. Note 0x02 is "$" and 0x24
# is "¤"; 0x09 is the *capital* Ç (TS 23.038 and the Unicode mapping agree: lower-case ç is not in the
# alphabet); 0x1B is the escape to the extension table, not a character a message may contain.
GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"  # 0x10
    " !\"#¤%&'()*+,-./"  # 0x20
    "0123456789:;<=>?"  # 0x30
    "¡ABCDEFGHIJKLMNO"  # 0x40
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50
    "¿abcdefghijklmno"  # 0x60
    "pqrstuvwxyzäöñüà"  # 0x70
)
GSM7_BASIC_CHARACTERS: frozenset[str] = frozenset(GSM7_BASIC_TABLE) - {"\x1b"}

# The extension table (TS 23.038 section 6.2.1.1): sent as ESC followed by the code, so 2 septets each.
# Codes: form feed 0x0A, ^ 0x14, { 0x28, } 0x29, \ 0x2F, [ 0x3C, ~ 0x3D, ] 0x3E, | 0x40, € 0x65.
GSM7_EXTENSION_CHARACTERS: frozenset[str] = frozenset("\x0c^{}\\[~]|€")

_LOOKALIKE_GROUPS: dict[str, str] = {
    # Typographic apostrophes, single quotes, primes and accents used as apostrophes.
    "\u2018\u2019\u201a\u201b\u2032\u2035\u2039\u203a\u00b4\u0060\u02b9\u02bc": "'",
    # Typographic double quotes, double primes and guillemets.
    "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u02ba": '"',
    # Hyphens, figure/en/em dashes, horizontal bar and the minus sign.
    "\u2010\u2011\u2012\u2013\u2014\u2015\u2212": "-",
    # Bullets: a list that starts with "•" reads the same with "-".
    "\u2022\u2023\u2043\u2219\u25e6": "-",
    # Fraction and division slashes.
    "\u2044\u2215": "/",
    # Tab, no-break and the other Unicode spaces.
    "\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000": " ",
    # Line and paragraph separators (pasted from some editors) are line breaks to the reader.
    "\u2028\u2029": "\n",
    # Invisible characters pasted from web pages and word processors: soft hyphen, zero-width space,
    # word joiner, byte order mark. They show nothing, yet alone they would make the message UCS-2.
    "\u00ad\u200b\u2060\ufeff": "",
}

# Characters outside GSM-7 that look like GSM-7 text, mapped to it (an empty string removes them).
# Applying them changes only typography, never what a message says, so the composer may offer them
# freely. Every key is outside GSM-7 and every value is GSM-7 (the tests hold this).
GSM7_REPLACEMENTS: dict[str, str] = {
    **{char: replacement for chars, replacement in _LOOKALIKE_GROUPS.items() for char in chars},
    "\u2026": "...",  # horizontal ellipsis
}

# Letters with no base-letter decomposition, mapped by hand.
_EXTRA_TRANSLITERATIONS = {
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ı": "i",
    "œ": "oe",
    "Œ": "OE",
}


def _build_transliterations() -> dict[str, str]:
    """Map accented Latin letters outside GSM-7 to their base letter (á → a, È → E, ç → c, ő → o).

    Built from the Unicode decomposition of Latin-1 Supplement, Latin Extended-A/B and Latin Extended
    Additional rather than typed by hand, so no letter is forgotten. ç maps to "c", not to the GSM-7
    capital "Ç": a capital inside a word reads as a typo, an unaccented c as a plain spelling.
    """
    table: dict[str, str] = {}
    code_points = [*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00)]
    for code_point in code_points:
        char = chr(code_point)
        if char in GSM7_BASIC_CHARACTERS:
            continue
        decomposed = unicodedata.normalize("NFD", char)
        base, marks = decomposed[0], decomposed[1:]
        if base.isascii() and base.isalpha() and marks and all(unicodedata.combining(m) for m in marks):
            table[char] = base
    table.update(_EXTRA_TRANSLITERATIONS)
    return table


# Accented letters outside GSM-7 mapped to their closest GSM-7 letter (á → a, Í → I, ç → c). Opt-in
# only (``to_gsm7(..., transliterate=True)``): dropping an accent can change a word ("papá" is dad,
# "papa" is potato), so the person writing the broadcast must choose it. Disjoint from GSM7_REPLACEMENTS.
GSM7_TRANSLITERATIONS: dict[str, str] = _build_transliterations()

# Personalisation placeholders and the longest value each may take. The sender must not store or pass
# longer values, or a personalised message can cost more segments than the composer estimated.
PLACEHOLDER_MAX_LENGTHS: dict[str, int] = {
    "first_name": 20,
    "name": 40,
    "city": 30,
}

# Any "{word}" is a candidate; whether it is a placeholder is decided against PLACEHOLDER_MAX_LENGTHS at
# call time, so unknown ones ("{foo}") and stray braces are left as they are.
_PLACEHOLDER_PATTERN = re.compile(r"\{([A-Za-z_]+)\}")

# The filler for a placeholder when estimating: one septet per character in GSM-7 and one code unit in
# UCS-2, so it never changes the encoding of the body around it.
_TEMPLATE_FILLER = "x"


@dataclass(frozen=True)
class SegmentInfo:
    """How a message body will be sent: its encoding and how many segments it costs.

    For the empty string: GSM-7, 0 segments, 0 units, and the full single-segment room (160) remaining.
    """

    encoding: str  # GSM7 ("GSM-7") or UCS2 ("UCS-2")
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2) the whole message uses
    per_segment: int  # the size that applied: 160 or 153 (GSM-7), 70 or 67 (UCS-2)
    remaining: int  # units still free in the last segment before another segment is needed
    non_gsm_characters: tuple[str, ...]  # distinct characters that forced UCS-2, in order of appearance


def _gsm7_septets(char: str) -> int:
    """Septets one GSM-7 character costs; only call with characters for which ``is_gsm7`` holds."""
    return 2 if char in GSM7_EXTENSION_CHARACTERS else 1


def _utf16_units(char: str) -> int:
    """UTF-16 code units one code point costs: 2 for a surrogate pair (outside the BMP), else 1."""
    return 2 if ord(char) > 0xFFFF else 1


def _is_gsm7_character(char: str) -> bool:
    return char in GSM7_BASIC_CHARACTERS or char in GSM7_EXTENSION_CHARACTERS


def is_gsm7(text: str) -> bool:
    """Whether ``text`` can be sent in GSM-7 (basic table plus extension table). True for ``""``."""
    return all(_is_gsm7_character(char) for char in text)


def _non_gsm_characters(text: str) -> tuple[str, ...]:
    # dict.fromkeys keeps the first appearance order while dropping repeats.
    return tuple(dict.fromkeys(char for char in text if not _is_gsm7_character(char)))


def _split(text: str, *, unit_cost: Callable[[str], int], single: int, multipart: int) -> list[str]:
    """Split ``text`` into segments the way a sender does: greedily, never splitting one character.

    A character here is one code point, which is exactly the unit that must not be split: an escape
    sequence (GSM-7) or a surrogate pair (UCS-2). When it does not fit the current segment it starts the
    next one. Filling greedily gives the fewest segments possible for order-preserving packing.
    """
    total = sum(unit_cost(char) for char in text)
    if total == 0:
        return []
    if total <= single:
        return [text]
    parts: list[str] = []
    start = 0
    used = 0
    for index, char in enumerate(text):
        cost = unit_cost(char)
        if used + cost > multipart:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def _encode_parameters(text: str) -> tuple[str, Callable[[str], int], int, int]:
    if is_gsm7(text):
        return GSM7, _gsm7_septets, GSM7_SINGLE_SEPTETS, GSM7_MULTIPART_SEPTETS
    return UCS2, _utf16_units, UCS2_SINGLE_UNITS, UCS2_MULTIPART_UNITS


def split_segments(text: str) -> list[str]:
    """The parts ``text`` is sent as, in order; ``"".join(parts) == text``. ``[]`` for ``""``.

    GSM-7 text is split at 153 septets per part (one part if it fits 160), UCS-2 text at 67 code units
    (one part if it fits 70). An extension character or a surrogate pair is never split between parts.
    """
    _, unit_cost, single, multipart = _encode_parameters(text)
    return _split(text, unit_cost=unit_cost, single=single, multipart=multipart)


def segment_info(text: str) -> SegmentInfo:
    """Encoding, segment count and room left for ``text``, from splitting it as a sender would.

    ``text`` is counted as it is: the ``MAX_BODY_LENGTH`` limit is checked by whoever accepts a body,
    not here, so the composer can still show the cost of a body that is too long.
    """
    encoding, unit_cost, single, multipart = _encode_parameters(text)
    parts = _split(text, unit_cost=unit_cost, single=single, multipart=multipart)
    per_segment = multipart if len(parts) > 1 else single
    units_in_last = sum(unit_cost(char) for char in parts[-1]) if parts else 0
    return SegmentInfo(
        encoding=encoding,
        segments=len(parts),
        units=sum(unit_cost(char) for char in text),
        per_segment=per_segment,
        remaining=per_segment - units_in_last,
        non_gsm_characters=() if encoding == GSM7 else _non_gsm_characters(text),
    )


def gsm7_suggestions(text: str) -> dict[str, str]:
    """For each character outside GSM-7 in ``text`` that has one, its proposed GSM-7 replacement.

    Keys are in order of first appearance. The look-alike table (``GSM7_REPLACEMENTS``) is consulted
    first, then the transliteration table (``GSM7_TRANSLITERATIONS``); the caller can tell which kind a
    suggestion is by looking the key up. An empty string means "remove" (an invisible character).
    Characters with no suggestion (emoji, Arabic, Greek lower case...) are left out: see
    ``segment_info(text).non_gsm_characters`` for the full list.
    """
    suggestions: dict[str, str] = {}
    for char in _non_gsm_characters(text):
        if char in GSM7_REPLACEMENTS:
            suggestions[char] = GSM7_REPLACEMENTS[char]
        elif char in GSM7_TRANSLITERATIONS:
            suggestions[char] = GSM7_TRANSLITERATIONS[char]
    return suggestions


_REPLACEMENTS_TRANSLATION = str.maketrans(GSM7_REPLACEMENTS)
_TRANSLITERATING_TRANSLATION = str.maketrans({**GSM7_TRANSLITERATIONS, **GSM7_REPLACEMENTS})


def to_gsm7(text: str, *, transliterate: bool = False) -> str:
    """``text`` with its look-alike characters replaced by GSM-7 ones (“quotes” → "quotes", … → ...).

    With ``transliterate=True`` accented letters outside GSM-7 also lose their accent (á → a), which
    the writer must opt into. Characters with no replacement (emoji, other scripts) are kept, so the
    result is GSM-7 only when every character outside GSM-7 had one; check with ``is_gsm7``.
    """
    table = _TRANSLITERATING_TRANSLATION if transliterate else _REPLACEMENTS_TRANSLATION
    return text.translate(table)


def render_template(body: str, *, values: dict[str, str]) -> str:
    """``body`` with each known placeholder (``{first_name}``, ``{name}``, ``{city}``) substituted.

    A known placeholder missing from ``values`` becomes the empty string. Anything else in braces
    (``{foo}``, ``{ name }``, a lone ``{``) is left exactly as written; this never raises. Values are
    inserted as given and are not themselves searched for placeholders.
    """

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in PLACEHOLDER_MAX_LENGTHS:
            return match.group(0)
        return values.get(key, "")

    return _PLACEHOLDER_PATTERN.sub(substitute, body)


def segment_info_for_template(body: str) -> SegmentInfo:
    """The cost of ``body`` once personalised, at its longest.

    Each known placeholder is counted at its maximum length (``PLACEHOLDER_MAX_LENGTHS``) as GSM-7
    text, one unit per character; the rest of the body keeps its own encoding, so a body that is
    already UCS-2 is counted in UCS-2. This is an upper bound for every member whose values are GSM-7
    basic characters within those lengths. A member's name with a character outside GSM-7 (say "Zoë")
    still makes that one message UCS-2; the sender counts each rendered message with ``segment_info``.
    ``non_gsm_characters`` is that of the body.
    """
    longest = render_template(
        body,
        values={key: _TEMPLATE_FILLER * length for key, length in PLACEHOLDER_MAX_LENGTHS.items()},
    )
    return segment_info(longest)
