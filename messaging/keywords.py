"""Reserved words a fan can text (STOP, START, HELP) and a guess at the language of a text.

Pure Python (no Django), called on every inbound text: a few set lookups and one regular expression.

Keyword lists (shared/PRODUCT.md): Twilio's own stop, start and help words, plus Community's REMOVE and
"OPT OUT" for stopping. Start words stay Twilio's (START, UNSTOP, YES) on purpose: GO, JOIN and RESTART
are words a fan may well text in a conversation ("Go Maya!", "How do I join?"), and treating one as an
opt-in would resubscribe someone who asked to stop without their clear intent. STOP must be honoured
broadly (every variant stops); START must be deliberate.
"""

from __future__ import annotations

import enum
import re
import unicodedata


class Keyword(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "REMOVE", "OPT OUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(STOP_WORDS, Keyword.STOP),
    **dict.fromkeys(START_WORDS, Keyword.START),
    **dict.fromkeys(HELP_WORDS, Keyword.HELP),
}
# Punctuation, symbols and spaces around the word are ignored ("  Stop! ", "STOP.", "¡stop!", "'stop'");
# inside, any run of spaces, hyphens or underscores counts as one space ("opt-out", "Opt  out").
_INNER_SEPARATORS = re.compile(r"[\s\-_]+")
_LONGEST = max(len(word) for word in _KEYWORDS) + 8  # longer texts are conversation, not a keyword


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


def keyword_match(body: str | None) -> Keyword | None:
    """The reserved word this whole text is, if it is one: case, surrounding whitespace and punctuation
    ignored. A keyword inside a sentence ("please don't stop") is conversation, as carriers treat it."""
    if not body or len(body) > 3 * _LONGEST:
        return None
    word = _strip_edges(body.strip())
    if not word or len(word) > _LONGEST:
        return None
    word = _INNER_SEPARATORS.sub(" ", word).upper()
    found = _KEYWORDS.get(word)
    if found is None and " " in word and word.replace(" ", "") in _KEYWORDS:
        found = _KEYWORDS[word.replace(" ", "")]  # "OPT OUT" and "OPTOUT", "UN STOP"
    return found


# -- language guess ------------------------------------------------------------------------------------------

_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Common short words that say the language of a short text. Words shared by several of these languages
# ("a", "de", "la", "no", "die"... ) are left out, or kept only where they are most telling.
_WORDS: dict[str, frozenset[str]] = {
    "fr": frozenset(
        [
            "bonjour",
            "salut",
            "merci",
            "oui",
            "je",
            "suis",
            "vous",
            "nous",
            "est",
            "avec",
            "pour",
            "les",
            "des",
            "une",
            "dans",
            "pas",
            "c'est",
            "svp",
            "s'il",
            "plait",
            "plaît",
            "rejoindre",
            "inscrire",
            "voudrais",
            "veux",
            "bonsoir",
            "madame",
            "monsieur",
            "aussi",
            "très",
            "trés",
            "où",
        ]
    ),
    "es": frozenset(
        [
            "hola",
            "gracias",
            "quiero",
            "unirme",
            "soy",
            "estoy",
            "usted",
            "nosotros",
            "para",
            "pero",
            "muy",
            "buenos",
            "buenas",
            "días",
            "dias",
            "señor",
            "señora",
            "cómo",
            "como",
            "estás",
            "qué",
            "porque",
            "también",
            "donde",
            "dónde",
            "mucho",
            "el",
            "los",
            "las",
            "por",
            "favor",
        ]
    ),
    "de": frozenset(
        [
            "hallo",
            "danke",
            "bitte",
            "ich",
            "bin",
            "und",
            "nicht",
            "ist",
            "mit",
            "für",
            "ein",
            "eine",
            "guten",
            "tag",
            "moin",
            "servus",
            "möchte",
            "mitmachen",
            "wie",
            "geht's",
            "gerne",
            "auch",
            "sehr",
            "der",
            "das",
            "wir",
            "sie",
        ]
    ),
    "en": frozenset(
        [
            "hi",
            "hello",
            "hey",
            "thanks",
            "thank",
            "you",
            "please",
            "i",
            "am",
            "the",
            "and",
            "want",
            "join",
            "how",
            "what",
            "is",
            "are",
            "we",
            "this",
        ]
    ),
}
# Letters that belong to one of our languages more than the others.
_LETTERS = {"fr": "çêèëîïôœûùâ", "es": "ñ¿¡áíóú", "de": "äöüß"}


def language_guess(body: str | None) -> str | None:
    """The likely language of a fan's text among en, fr, es, de, ar; None when there is no clue.

    Cheap heuristics for short texts: Arabic script; then words and letters typical of each language.
    Used only for automatic answers to phones that are not members yet (a member's stored language wins).
    """
    if not body:
        return None
    text = body[:320]
    if _ARABIC.search(text):
        return "ar"
    lowered = unicodedata.normalize("NFC", text.lower()).replace("’", "'")
    scores = dict.fromkeys(("fr", "es", "de", "en"), 0.0)
    for word in _WORD.findall(lowered):
        for language, words in _WORDS.items():
            if word in words:
                scores[language] += 1
    for word in re.findall(r"[\w']+", lowered):  # c'est, s'il, geht's
        if "'" in word:
            for language, words in _WORDS.items():
                if word in words:
                    scores[language] += 1
    for language, letters in _LETTERS.items():
        scores[language] += 1.5 * sum(lowered.count(letter) for letter in letters)
    best = max(scores, key=lambda language: scores[language])
    if scores[best] == 0:
        return None
    if sorted(scores.values())[-2] == scores[best]:
        return None  # a tie says nothing
    return best


# Countries where the caller most likely speaks one of our languages other than English. Canada is
# deliberately absent (English or French), and so are English-speaking countries: the leader's default
# language decides for them.
_COUNTRY_LANGUAGE = {
    **dict.fromkeys(["FR", "BE", "LU", "MC", "SN", "CI", "CM", "ML", "BF", "NE", "GN", "BJ", "TG"], "fr"),
    **dict.fromkeys(
        ["ES", "MX", "AR", "CO", "PE", "VE", "CL", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV"]
        + ["NI", "CR", "PA", "UY", "PR"],
        "es",
    ),
    **dict.fromkeys(["DE", "AT", "LI"], "de"),
    **dict.fromkeys(
        ["MA", "DZ", "TN", "LY", "EG", "SD", "SA", "AE", "QA", "BH", "KW", "OM", "YE", "JO", "LB", "SY"]
        + ["IQ", "PS", "MR"],
        "ar",
    ),
}


def language_for_country(country_code: str | None) -> str | None:
    """The language a phone's country most likely speaks, among ours; None when unknown or mixed (CA)."""
    return _COUNTRY_LANGUAGE.get((country_code or "").upper())
