"""VOLUNTEER and its translations: a member's whole text that says they want to help.

Called on a member's plain text after the carriers' keywords (STOP, START, HELP: messaging.keywords, which
always win) and after the leader's own keyword replies, so it costs an ordinary text one length check, and
a short one a fold and a dict lookup: no query. Like the carriers' keywords, only the whole text counts
("I'd volunteer if I could" is conversation), folded the same way (case, accents, Arabic marks:
messaging.keywords.keyword_fold), so BENEVOLE = Bénévole = BÉNÉVOLE.
"""

from __future__ import annotations

import dataclasses

from messaging.keywords import keyword_fold

# By the language the word says (None: the answer is in the member's language).
VOLUNTEER_WORDS_BY_LANGUAGE: dict[str | None, tuple[str, ...]] = {
    None: ("VOLUNTEER", "VOLUNTEERS", "VOLUNTEERING"),
    "fr": ("BÉNÉVOLE", "BÉNÉVOLAT", "JE SUIS BÉNÉVOLE"),
    "es": ("VOLUNTARIO", "VOLUNTARIA", "VOLUNTARIADO"),
    "de": ("FREIWILLIG", "FREIWILLIGE", "FREIWILLIGER", "HELFEN", "ICH HELFE"),
    "ar": ("متطوع", "متطوعة", "تطوع", "أتطوع"),
}


@dataclasses.dataclass(frozen=True, slots=True)
class VolunteerWord:
    word: str  # as listed above
    language: str | None


_WORDS: dict[str, VolunteerWord] = {
    keyword_fold(word): VolunteerWord(word, language)
    for language, words in VOLUNTEER_WORDS_BY_LANGUAGE.items()
    for word in words
}
# A text longer than every word (and some punctuation around it) is conversation: not even folded.
_LONGEST = max(len(word) for word in _WORDS) + 8


def volunteer_word_find(body: str | None) -> VolunteerWord | None:
    """The volunteer word this whole text is, if it is one."""
    if not body or len(body) > _LONGEST:
        return None
    return _WORDS.get(keyword_fold(body))
