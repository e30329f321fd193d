"""The texts members get about an event, in the platform's languages (messaging.texts.LANGUAGES).

A table in code, as messaging.texts is, because each is an SMS whose length is a cost: tests hold each one,
filled with a 30-character title and venue, to two segments, and the European languages to GSM-7 (no "À",
"ê", "á": one such letter doubles the cost of the whole text). The instruction appended to an alert is the shortest of all: it
rides on every copy of the broadcast. Times are the venue's, written as numbers (2026-12-12 14:00), which
read the same in every language and stay GSM-7.
"""

from __future__ import annotations

import datetime

from messaging.texts import LANGUAGES, language_or_default

TEXTS: dict[str, dict[str, str]] = {
    # Appended to the alert broadcast, in each member's language (Broadcast.suffixes).
    "rsvp_instruction": {
        "en": "Reply YES or NO.",
        "fr": "Répondez OUI ou NON.",
        "es": "Responde SI o NO.",
        "de": "Antworte JA oder NEIN.",
        "ar": "أرسل نعم أو لا.",
    },
    # The alert's body when the organiser writes none: in the event's first language.
    "alert": {
        "en": "{leader}: {title}, {when}, {venue}.",
        "fr": "{leader} : {title}, {when}, {venue}.",
        "es": "{leader}: {title}, {when}, {venue}.",
        "de": "{leader}: {title}, {when}, {venue}.",
        "ar": "{leader}: {title}، {when}، {venue}.",
    },
    "confirmed": {
        "en": "{leader}: you're in for {title}, {when}. At the door, text {code}.",
        "fr": "{leader} : c'est noté pour {title}, {when}. Sur place, écrivez {code}.",
        "es": "{leader}: te esperamos en {title}, {when}. En la entrada, escribe {code}.",
        "de": "{leader}: Du bist dabei: {title}, {when}. Am Eingang schreib {code}.",
        "ar": "{leader}: تم تسجيلك في {title}، {when}. عند الباب أرسل {code}.",
    },
    "waitlisted": {
        "en": "{leader}: {title} is full. You're #{position} on the waitlist; we'll text you if a seat frees.",
        "fr": "{leader} : {title} est complet. Liste d'attente : vous avez le rang {position} ; on vous écrira si une place se libère.",
        "es": "{leader}: no quedan lugares en {title}. Quedas en la lista de espera (puesto {position}); te escribiremos si se libera uno.",
        "de": "{leader}: {title} ist voll. Du bist Nr. {position} auf der Warteliste; wir schreiben dir, wenn ein Platz frei wird.",
        "ar": "{leader}: {title} ممتلئ. أنت رقم {position} في قائمة الانتظار؛ سنراسلك إذا توفر مكان.",
    },
    "declined": {
        "en": "{leader}: noted, you won't be at {title}. Changed your mind? Reply YES.",
        "fr": "{leader} : noté, vous ne viendrez pas à {title}. Changement d'avis ? Répondez OUI.",
        "es": "{leader}: anotado, no vienes a {title}. ¿Cambias de idea? Responde SI.",
        "de": "{leader}: Notiert, du kommst nicht zu {title}. Doch dabei? Antworte JA.",
        "ar": "{leader}: تم، لن تحضر {title}. غيرت رأيك؟ أرسل نعم.",
    },
    "promoted": {
        "en": "{leader}: a seat freed up! You're in for {title}, {when}. Can't come? Reply NO.",
        "fr": "{leader} : une place s'est libérée ! C'est noté pour {title}, {when}. Pas dispo ? Répondez NON.",
        "es": "{leader}: ¡hay un lugar libre! Te esperamos en {title}, {when}. ¿No puedes ir? Responde NO.",
        "de": "{leader}: Ein Platz ist frei! Du bist dabei: {title}, {when}. Kannst du nicht? Antworte NEIN.",
        "ar": "{leader}: توفر مكان! تم تسجيلك في {title}، {when}. لا تستطيع؟ أرسل لا.",
    },
    "reminder": {
        "en": "{leader}: reminder, {title} {when}, {venue}. At the door, text {code}.",
        "fr": "{leader} : rappel, {title} {when}, {venue}. Sur place, écrivez {code}.",
        "es": "{leader}: recordatorio, {title} {when}, {venue}. En la entrada, escribe {code}.",
        "de": "{leader}: Erinnerung: {title} {when}, {venue}. Am Eingang schreib {code}.",
        "ar": "{leader}: تذكير، {title} {when}، {venue}. عند الباب أرسل {code}.",
    },
    "checked_in": {
        "en": "{leader}: welcome to {title}, you're checked in!",
        "fr": "{leader} : bienvenue à {title}, votre arrivée est notée !",
        "es": "{leader}: ¡bienvenido a {title}! Ya te registramos.",
        "de": "{leader}: Willkommen bei {title}, du bist eingecheckt!",
        "ar": "{leader}: أهلًا بك في {title}، تم تسجيل حضورك!",
    },
}

assert all(set(texts) == set(LANGUAGES) for texts in TEXTS.values())  # noqa: S101 - a table check at import


def when_text(moment: datetime.datetime) -> str:
    """A local moment as every text writes it."""
    return f"{moment:%Y-%m-%d %H:%M}"


def venue_text(event) -> str:
    return ", ".join(part for part in (event.address, event.place_name) if part)[:80]


def event_text(name: str, *, language: str, leader, event, **values) -> str:
    """The text `name` about `event` in `language` (the event's choice of it: Event.language_for)."""
    template = TEXTS[name][language_or_default(event.language_for(language))]
    fields = {
        "leader": leader.name,
        "title": event.title,
        "when": when_text(event.local_start()),
        "venue": venue_text(event),
        "code": event.code_word.upper(),
        **{key: str(value) for key, value in values.items()},
    }
    out = template
    for key, value in fields.items():
        out = out.replace("{" + key + "}", value)
    return out


def rsvp_instructions(event) -> dict[str, str]:
    """The alert's suffix in every platform language, each in the language the event gives its speakers."""
    return {language: TEXTS["rsvp_instruction"][event.language_for(language)] for language in LANGUAGES}
