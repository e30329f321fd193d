"""What a member reads of a survey: a question with its options numbered ("1 Health", "2 Housing"…), the
intro before the first one, the polite re-ask after an unclear answer. Pure: no database.

The questions, options, intro and thanks are the team's words, per language (text_for). The
few words the platform adds (the re-ask, "Yes"/"No") are a table here, like messaging.texts' automatic texts
and for the same reason: each is part of an SMS whose length is a cost, in the five languages the platform
speaks to fans. The whole text is in one language, the one the question is shown in: the member's when the
team wrote the question in it, else the leader's default, else the first written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from messaging.texts import LANGUAGES

YES_NO = {
    "en": ("Yes", "No"),
    "fr": ("Oui", "Non"),
    "es": ("Sí", "No"),
    "de": ("Ja", "Nein"),
    "ar": ("نعم", "لا"),
}

# After an unclear answer, once: an apology and what kind of answer is wanted; the options follow.
REASK = {
    "single": {
        "en": "Sorry, I didn't get that. Please reply with one number:",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un seul numéro :",
        "es": "Perdón, no entendí. Responde con un solo número:",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer Zahl:",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم واحد:",
    },
    "multiple": {
        "en": "Sorry, I didn't get that. Please reply with one or more numbers, like 1,3:",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un ou plusieurs numéros, par exemple 1,3 :",
        "es": "Perdón, no entendí. Responde con uno o varios números, por ejemplo 1,3:",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer oder mehreren Zahlen, z. B. 1,3:",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم أو أكثر، مثل 1,3:",
    },
    "number": {
        "en": "Sorry, I didn't get that. Please reply with a number.",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un nombre.",
        "es": "Perdón, no entendí. Responde con un número.",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer Zahl.",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم.",
    },
    "number_range": {
        "en": "Sorry, I didn't get that. Please reply with a number from {min} to {max}.",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un nombre entre {min} et {max}.",
        "es": "Perdón, no entendí. Responde con un número del {min} al {max}.",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer Zahl von {min} bis {max}.",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم من {min} إلى {max}.",
    },
    "number_min": {
        "en": "Sorry, I didn't get that. Please reply with a number of {min} or more.",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un nombre d'au moins {min}.",
        "es": "Perdón, no entendí. Responde con un número de {min} o más.",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer Zahl ab {min}.",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم لا يقل عن {min}.",
    },
    "number_max": {
        "en": "Sorry, I didn't get that. Please reply with a number up to {max}.",
        "fr": "Désolé, je n'ai pas compris. Répondez avec un nombre jusqu'à {max}.",
        "es": "Perdón, no entendí. Responde con un número hasta {max}.",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit einer Zahl bis {max}.",
        "ar": "عذرًا، لم أفهم. يُرجى الرد برقم حتى {max}.",
    },
    "text": {
        "en": "Sorry, I didn't get that. Please reply with a few words.",
        "fr": "Désolé, je n'ai pas compris. Répondez en quelques mots.",
        "es": "Perdón, no entendí. Responde con unas palabras.",
        "de": "Entschuldigung, das habe ich nicht verstanden. Antworte bitte mit ein paar Worten.",
        "ar": "عذرًا، لم أفهم. يُرجى الرد ببضع كلمات.",
    },
}


@dataclass(frozen=True)
class QuestionView:
    """A question as the texts need it: its kind, its text per language, its options (position, label per
    language) in order, its number range."""

    kind: str
    text: dict[str, str]
    options: Sequence[tuple[int, dict[str, str]]] = ()
    number_min: int | None = None
    number_max: int | None = None


def language_shown(texts: dict[str, str], language: str, default_language: str) -> str:
    """The language text_for picks for `texts`: the member's, else the leader's, else the
    first written."""
    for candidate in (language, default_language):
        if texts.get(candidate):
            return candidate
    return next((code for code, value in texts.items() if value), default_language)


def _ours(language: str) -> str:
    """The language of the platform's own words: the one shown when it is one of the five, else English."""
    return language if language in LANGUAGES else "en"


def text_for(texts: dict[str, str], language: str, default_language: str) -> str:
    """The text of a {language: text} dict in the member's language, else the leader's, else any."""
    return texts.get(language_shown(texts, language, default_language), "")


def options_lines(question: QuestionView, language: str, default_language: str) -> list[str]:
    """The options as members read them, one a line: "1 Health". A yes/no question without options of the
    team's own lists "1 Yes", "2 No" in the platform's words."""
    if question.kind in ("single", "multiple") or (question.kind == "yes_no" and question.options):
        return [
            f"{position} {text_for(labels, language, default_language)}".rstrip()
            for position, labels in question.options
        ]
    if question.kind == "yes_no":
        yes, no = YES_NO[_ours(language)]
        return [f"1 {yes}", f"2 {no}"]
    return []


def question_text(
    question: QuestionView, *, language: str, default_language: str, intro: dict[str, str] | None = None
) -> str:
    """What the member receives for `question`: the intro first when given (the survey's first text), then
    the question, then its options one a line, all in the language the question is shown in."""
    shown = language_shown(question.text, language, default_language)
    lines = [question.text.get(shown, ""), *options_lines(question, shown, default_language)]
    body = "\n".join(line for line in lines if line)
    opening = text_for(intro or {}, shown, default_language)
    return f"{opening}\n\n{body}" if opening else body


def reask_text(question: QuestionView, *, language: str, default_language: str) -> str:
    """The one polite re-ask after an unclear answer, with the options again."""
    shown = language_shown(question.text, language, default_language)
    ours = _ours(shown)
    if question.kind == "number":
        low, high = question.number_min, question.number_max
        if low is not None and high is not None:
            return REASK["number_range"][ours].format(min=low, max=high)
        if low is not None:
            return REASK["number_min"][ours].format(min=low)
        if high is not None:
            return REASK["number_max"][ours].format(max=high)
        return REASK["number"][ours]
    if question.kind == "text":
        return REASK["text"][ours]
    apology = REASK["multiple" if question.kind == "multiple" else "single"][ours]
    return "\n".join([apology, *options_lines(question, shown, default_language)])
