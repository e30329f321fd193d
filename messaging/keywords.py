"""Reserved words a fan can text (STOP, START, HELP) in our languages, and a guess at the language of a text.

Pure Python (no Django), called on every inbound text: one fold of a short text and a few dict lookups.

Keyword lists (shared/PRODUCT.md, issue 12): Twilio's own stop, start and help words, plus Community's REMOVE
and "OPT OUT" for stopping, and the words carriers require or fans use in our other languages: Canada's
French ARRÊT and AIDE (the bilingual words of Canadian carriers' rules), Spanish BAJA, ALTO, CANCELAR and AYUDA, French DÉSABONNER, German STOPP
and ABMELDEN, Arabic توقف and إلغاء (stop) and مساعدة (help). German HILFE is ours: a help word only sends the
help text, so it costs nothing to honour. Each leader may add stop words of their own
(`Leader.stop_words`, checked by the console's settings form); nobody can remove these: they are constants,
not data.

A keyword is the whole text, never a word in a sentence, as carriers treat it. That is what makes the
words that also mean something else acceptable: Spanish ALTO ("tall", "high", but also "halt") and BAJA
("low"), English END or CANCEL, are stop words only when they are all a fan texts. A leader should not ask
a question whose one-word answer is one of them ("¿Nivel: alto, medio o bajo?" would opt out the "alto"s):
the console shows the list next to the leader's own.

Start words stay Twilio's (START, UNSTOP, YES), in every language, on purpose: GO, JOIN and RESTART are
words a fan may well text in a conversation ("Go Maya!", "How do I join?"), and treating one as an opt-in
would resubscribe someone who asked to stop without their clear intent; every stop and help text tells
them to answer START. STOP must be honoured broadly (every variant, every language); START must be
deliberate.

Matching folds what fans vary: case, accents and other marks (ARRÊT = ARRET = arrêt, DÉSABONNER =
desabonner), full-width letters, the punctuation, symbols and spaces around the word, and in Arabic the
marks (harakat, shadda), the tatweel (ـ), the hamza on an alef (إلغاء = الغاء), ة written ه and ى written ي.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import unicodedata
from collections.abc import Iterable


class Keyword(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


# By the language a word says (None: used in every language, as STOP and HELP are, so the word says
# nothing of the fan's language and the answer is in the member's or the leader's).
STOP_WORDS_BY_LANGUAGE: dict[str | None, tuple[str, ...]] = {
    None: (
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "OPT OUT",
        "REVOKE",
        "REMOVE",
    ),
    "fr": ("ARRÊT", "DÉSABONNER"),
    "es": ("BAJA", "ALTO", "CANCELAR"),
    "de": ("STOPP", "ABMELDEN"),
    "ar": ("توقف", "إلغاء"),
}
HELP_WORDS_BY_LANGUAGE: dict[str | None, tuple[str, ...]] = {
    None: ("HELP", "INFO"),
    "fr": ("AIDE",),
    "es": ("AYUDA",),
    "de": ("HILFE",),
    "ar": ("مساعدة",),
}
START_WORDS_BY_LANGUAGE: dict[str | None, tuple[str, ...]] = {None: ("START", "UNSTOP", "YES")}
# Community's other start words: not start words here (see above), but kept from keyword replies and from
# leaders' stop words, so that they never mean the opposite of what fans of other platforms expect.
OTHER_START_WORDS = ("GO", "RESTART", "JOIN")

STOP_WORDS = frozenset(word for words in STOP_WORDS_BY_LANGUAGE.values() for word in words)
START_WORDS = frozenset(word for words in START_WORDS_BY_LANGUAGE.values() for word in words)
HELP_WORDS = frozenset(word for words in HELP_WORDS_BY_LANGUAGE.values() for word in words)

# A leader's own stop words: at most this many, each at most this long (after keyword_clean).
LEADER_STOP_WORDS_MAX = 20
LEADER_STOP_WORD_MAX_LENGTH = 30


@dataclasses.dataclass(frozen=True, slots=True)
class KeywordMatch:
    """What a whole text was: the keyword, the word as listed (ARRÊT, BAJA, a leader's own; kept in the
    consent ledger's detail) and the language that word is in, when it says (BAJA: es; STOP: None)."""

    keyword: Keyword
    word: str
    language: str | None = None


# Punctuation, symbols and spaces around the word are ignored ("  Stop! ", "STOP.", "¡stop!", "'stop'");
# inside, any run of spaces, hyphens or underscores counts as one space ("opt-out", "Opt  out").
_INNER_SEPARATORS = re.compile(r"[\s\-_]+")
# Arabic spellings fans use interchangeably: ة (teh marbuta) as ه, ى (alef maksura) as ي; the tatweel
# (a stretching stroke, ـ) dropped. The hamza and madda on an alef are marks, dropped with the others.
_ARABIC_FOLD = str.maketrans({"\u0629": "\u0647", "\u0649": "\u064a", "\u0640": None})


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]


def keyword_clean(text: str | None) -> str:
    """A keyword as it is shown and stored: punctuation, symbols and spaces around it dropped, inner
    spaces, hyphens and underscores one space, upper case ("  opt-out! " → "OPT OUT"); accents kept."""
    word = _strip_edges(text or "")
    if not word:
        return ""
    return _INNER_SEPARATORS.sub(" ", unicodedata.normalize("NFC", word)).upper()


def keyword_fold(text: str | None) -> str:
    """A keyword as it is compared: keyword_clean, then accents and other marks, invisible format
    characters and Arabic variants folded (ARRÊT and arret → ARRET; إلغاء and الغاء → الغاء)."""
    word = _strip_edges(text or "")
    if not word:
        return ""
    word = _INNER_SEPARATORS.sub(" ", word)
    if not word.isascii():  # the common case costs nothing more
        word = "".join(
            c for c in unicodedata.normalize("NFKD", word) if unicodedata.category(c) not in ("Mn", "Cf")
        ).translate(_ARABIC_FOLD)
        word = _strip_edges(word)  # a mark left at an edge
    return word.upper()


def _table(words_by_language: dict[str | None, tuple[str, ...]], keyword: Keyword) -> dict[str, KeywordMatch]:
    return {
        keyword_fold(word): KeywordMatch(keyword=keyword, word=word, language=language)
        for language, words in words_by_language.items()
        for word in words
    }


_KEYWORDS: dict[str, KeywordMatch] = {
    **_table(STOP_WORDS_BY_LANGUAGE, Keyword.STOP),
    **_table(START_WORDS_BY_LANGUAGE, Keyword.START),
    **_table(HELP_WORDS_BY_LANGUAGE, Keyword.HELP),
}
_RESERVED: dict[str, Keyword] = {
    **{folded: match.keyword for folded, match in _KEYWORDS.items()},
    **{keyword_fold(word): Keyword.START for word in OTHER_START_WORDS},
}
# Longer texts are conversation, not a keyword (a few characters of leeway for what edges may hold).
_LONGEST = max(LEADER_STOP_WORD_MAX_LENGTH, *(len(word) for word in _KEYWORDS)) + 8


@functools.lru_cache(maxsize=1024)
def _leader_words(words: tuple[str, ...]) -> dict[str, KeywordMatch]:
    """A leader's own stop words by their folded spelling, computed once per list (not once per text)."""
    table: dict[str, KeywordMatch] = {}
    for word in words:
        folded = keyword_fold(word)
        match = KeywordMatch(keyword=Keyword.STOP, word=word)
        for spelling in (folded, folded.replace(" ", "")):  # "NO MORE" also as "nomore", as OPT OUT is
            if spelling:
                table.setdefault(spelling, match)
    return table


def _lookup(word: str, leader_words: dict[str, KeywordMatch] | None) -> KeywordMatch | None:
    found = _KEYWORDS.get(word)  # the required words first: a leader's word never changes their meaning
    if found is None and leader_words:
        found = leader_words.get(word)
    return found


def keyword_find(body: str | None, leader_stop_words: Iterable[str] = ()) -> KeywordMatch | None:
    """The reserved word this whole text is, if it is one, with the word and its language; the leader's own
    stop words (`Leader.stop_words`) count as stop words. Case, accents, surrounding whitespace and
    punctuation ignored. A keyword inside a sentence ("please don't stop", "alto ahí") is conversation, as
    carriers treat it."""
    if not body or len(body) > 3 * _LONGEST:
        return None
    word = _strip_edges(body)
    if not word or len(word) > _LONGEST:
        return None
    word = keyword_fold(word)
    leader_words = _leader_words(tuple(leader_stop_words)) if leader_stop_words else None
    found = _lookup(word, leader_words)
    if found is None and " " in word:
        found = _lookup(word.replace(" ", ""), leader_words)  # "OPT OUT" and "OPTOUT", "UN STOP"
    return found


def keyword_match(body: str | None, leader_stop_words: Iterable[str] = ()) -> Keyword | None:
    """Which reserved word this whole text is (keyword_find's keyword), if it is one."""
    found = keyword_find(body, leader_stop_words)
    return found.keyword if found else None


def keyword_reserved(text: str | None) -> Keyword | None:
    """Which kind of reserved word `text` is, in any of our languages, spacing, case and accents ignored
    (Community's GO, RESTART and JOIN count as start words here): what a leader's keyword reply or stop word
    may not be."""
    word = keyword_fold(text)
    if not word:
        return None
    return _RESERVED.get(word) or _RESERVED.get(word.replace(" ", ""))


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
