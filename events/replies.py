"""Whether a member's whole text means yes or no, in the platform's languages: pure Python, called on every
member's text before any query (a text that is neither costs a fold and a dict lookup).

As keywords are (messaging.keywords), the answer is the whole text, never a word in a sentence: "yes!",
"Oui", "sí.", "نعم" are answers; "yes but only if it's after 6" is a text for the team's inbox. Case,
accents, Arabic marks and the punctuation and emoji around the word are ignored (keyword_fold).
"""

from __future__ import annotations

from messaging.keywords import keyword_fold

YES = "yes"
NO = "no"

_WORDS: dict[str, tuple[str, ...]] = {
    YES: (
        # English
        "YES", "Y", "YEP", "YEAH", "YEA", "YUP", "SURE", "YES PLEASE", "I'M IN", "IM IN", "COUNT ME IN",
        # French
        "OUI", "OUAIS", "OUI MERCI", "BIEN SUR", "JE VIENS",
        # Spanish
        "SÍ", "SI", "CLARO", "SI CLARO", "VOY", "AHÍ ESTARÉ",
        # German
        "JA", "JAWOHL", "JA KLAR", "KLAR", "JA GERNE", "ICH KOMME",
        # Arabic: na'am, aywa, ajal, sa-ahdur (I'll attend)
        "نعم", "ايوه", "ايوا", "أجل", "اكيد", "سأحضر",
    ),
    NO: (
        "NO", "N", "NOPE", "NAH", "NO THANKS", "NO THANK YOU", "CAN'T", "CANT", "CAN'T MAKE IT",
        "NON", "NON MERCI", "PAS DISPO",
        "NO GRACIAS", "NO PUEDO",
        "NEIN", "NEIN DANKE", "KANN NICHT",
        "لا", "لا شكرا", "لن أحضر",
    ),
}  # fmt: skip

_TABLE: dict[str, str] = {keyword_fold(word): answer for answer, words in _WORDS.items() for word in words}
_LONGEST = max(len(word) for word in _TABLE) + 8


def rsvp_answer(body: str | None) -> str | None:
    """YES or NO when the whole text means it, else None."""
    if not body or len(body) > 3 * _LONGEST:
        return None
    return _TABLE.get(keyword_fold(body))


def is_answer_word(text: str | None) -> bool:
    """Whether `text` would read as a yes or a no (a code word must not)."""
    return rsvp_answer(text) is not None
