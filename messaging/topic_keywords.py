"""Topic keywords a member can text: "STOP HOUSING" leaves one topic, "JOIN HOUSING" follows it, in every
platform language ("ARRÊT LOGEMENT", "UNIRME VIVIENDA", "توقف الصحة"...).

Pure Python but for the leader's topics, which come from a short per-process cache (topics.cache), and
called on every plain text of a member, so the common case costs almost nothing: a text longer than any
command, or whose first word is no command word, is answered None after one split and one fold of that first
word (a dict lookup). Only then are the topics read.

The whole-text keywords stay the carriers' (messaging.keywords): "STOP" alone, "STOP ALL", "OPT OUT" leave
everything and never come here; "STOP HOUSING" is a plain text to the carrier rules and a topic command here.

Words that mean something else in conversation (Spanish ALTO "high", BAJA "low" and Baja California,
PARAR, SEGUIR; FOLLOW, FOLGEN, SUIVRE...) count only before a topic's name or keyword. The command words (STOP, ARRÊT, STOPP, توقف, JOIN,
REJOINDRE, UNIRME, BEITRETEN, اشترك, انضم...) followed by a short text that names no topic are answered with
the list of topics (`TopicCommand.topic` None), so a fan who misspelt one learns what to write.

Matching folds what keywords fold (case, accents, Arabic marks and letter variants: messaging.keywords'
keyword_fold), and tries the words after a leading article too ("STOP THE HOUSING", "ARRÊT LE LOGEMENT",
"توقف الصحة" for a keyword "صحة").
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import re

from messaging.keywords import keyword_fold
from topics.cache import TopicRef


class TopicAction(enum.StrEnum):
    FOLLOW = "follow"
    LEAVE = "leave"


# By the language the word says (None: used in every language, as STOP and JOIN are: the answer is in the
# member's language). The second tuple holds words with an everyday meaning: they act only before a topic.
LEAVE_WORDS_BY_LANGUAGE: dict[str | None, tuple[tuple[str, ...], tuple[str, ...]]] = {
    None: (("STOP", "UNSUBSCRIBE", "UNFOLLOW"), ("LEAVE", "CANCEL")),
    "fr": (("ARRÊT", "DÉSABONNER", "ARRÊTER"), ("QUITTER",)),
    "es": ((), ("BAJA", "ALTO", "PARAR", "CANCELAR", "DEJAR")),
    "de": (("STOPP", "ABMELDEN", "ENTFOLGEN"), ("BEENDEN",)),
    "ar": (("توقف", "إلغاء"), ("أوقف",)),
}
FOLLOW_WORDS_BY_LANGUAGE: dict[str | None, tuple[tuple[str, ...], tuple[str, ...]]] = {
    None: (("JOIN",), ("FOLLOW",)),
    "fr": (("REJOINDRE",), ("SUIVRE",)),
    "es": (("UNIRME",), ("SEGUIR", "UNIR")),
    "de": (("BEITRETEN",), ("FOLGEN",)),
    "ar": (("اشترك", "انضم"), ("تابع",)),
}
# The word the confirmations tell a member to text to follow a topic again, in their language.
FOLLOW_WORD = {"en": "JOIN", "fr": "SUIVRE", "es": "SEGUIR", "de": "FOLGEN", "ar": "اشترك"}

# Longer texts are conversation (a topic's name is at most 60 characters; the word and some leeway).
MAX_COMMAND_LENGTH = 90
# A command word followed by more words than this that name no topic is conversation ("Stop the war in
# our streets!"), not a misspelt topic: no answer, the text goes to the inbox as any other.
MAX_UNKNOWN_WORDS = 2
# How close (difflib's ratio) an unknown word must be to a topic's name or keyword to count as its typo.
NEAR_MISS = 0.75
# Articles fans put before a topic's name, folded as keyword_fold folds them.
_ARTICLES = re.compile(r"^(?:THE|LE|LA|LES|L'|L’|EL|LOS|LAS|DER|DIE|DAS|DEN|DEM)\s*|^ال(?=..)")


@dataclasses.dataclass(frozen=True, slots=True)
class _Verb:
    action: TopicAction
    word: str
    language: str | None
    strong: bool  # a command word: a short unknown topic after it gets the list of topics


@dataclasses.dataclass(frozen=True, slots=True)
class TopicCommand:
    """A member's text that asks to follow or leave a topic: the action, the word as listed (ARRÊT, JOIN),
    the language it says (None: every language), the topic it named (None: no topic of the leader, and
    `asked` is what they wrote after the word, to quote back)."""

    action: TopicAction
    word: str
    language: str | None
    topic: TopicRef | None
    asked: str


def _verbs() -> dict[str, _Verb]:
    table: dict[str, _Verb] = {}
    for action, by_language in (
        (TopicAction.LEAVE, LEAVE_WORDS_BY_LANGUAGE),
        (TopicAction.FOLLOW, FOLLOW_WORDS_BY_LANGUAGE),
    ):
        for language, (strong, weak) in by_language.items():
            for words, is_strong in ((strong, True), (weak, False)):
                for word in words:
                    table.setdefault(keyword_fold(word), _Verb(action, word, language, is_strong))
    return table


_VERBS = _verbs()


def _bare(folded: str) -> str:
    """A folded topic name or text without its leading article ("LE LOGEMENT" → "LOGEMENT")."""
    return _ARTICLES.sub("", folded, count=1).strip()


@functools.lru_cache(maxsize=256)
def _topic_table(topics: tuple[TopicRef, ...]) -> dict[str, TopicRef]:
    """A leader's topics by every spelling a fan may text: name first, then keywords, each with and without
    a leading article; the leader's order decides between two topics sharing a word. Built once per list of
    topics (the cache hands back the same tuple while fresh)."""
    table: dict[str, TopicRef] = {}
    for topic in topics:
        for spelling in (keyword_fold(topic.name), _bare(keyword_fold(topic.name))):
            if spelling:
                table.setdefault(spelling, topic)
    for topic in topics:
        for keyword in topic.keywords:
            for spelling in (keyword_fold(keyword), _bare(keyword_fold(keyword))):
                if spelling:
                    table.setdefault(spelling, topic)
    return table


def _near_miss(verb: _Verb, bare: str, table: dict[str, TopicRef]) -> bool:
    """Whether an unknown topic after a command word looks like a misspelt one ("STOP HOUSNG"): only then
    does the member get the list of topics. Anything else ("Stop texting me", "Stop the war", "Join us
    tonight") is conversation, filed for the team as before, and may be a survey's answer; a phone that
    means to stop everything is never answered with a list instead."""
    if not verb.strong or not bare or len(bare.split()) > MAX_UNKNOWN_WORDS:
        return False
    return bool(difflib.get_close_matches(bare, list(table), n=1, cutoff=NEAR_MISS))


def topic_command_verb(body: str | None) -> bool:
    """Whether this text could be a topic command at all (its first word is a command word): the check in
    Python that keeps ordinary texts free of any read. No query."""
    return _verb_and_rest(body) is not None


def _verb_and_rest(body: str | None) -> tuple[_Verb, str] | None:
    if not body or len(body) > MAX_COMMAND_LENGTH:
        return None
    parts = body.split(None, 1)
    if len(parts) != 2:
        return None  # one word: the carriers' keywords (messaging.keywords), not ours
    verb = _VERBS.get(keyword_fold(parts[0]))
    if verb is None:
        return None
    return verb, parts[1]


def topic_command_find(body: str | None, topics: tuple[TopicRef, ...]) -> TopicCommand | None:
    """The topic command this text is, if it is one, for a leader with these topics (topics.cache)."""
    found = _verb_and_rest(body)
    if found is None or not topics:
        return None
    verb, rest = found
    folded = keyword_fold(rest)
    if not folded:
        return None
    table = _topic_table(topics)
    topic = table.get(folded) or table.get(_bare(folded))
    if topic is None and not _near_miss(verb, _bare(folded), table):
        return None
    asked = " ".join(rest.split())[:40]
    return TopicCommand(action=verb.action, word=verb.word, language=verb.language, topic=topic, asked=asked)
