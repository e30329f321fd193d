"""Phone numbers, one way everywhere: parse and normalise to E.164, the country of a number, masks.

Members' numbers are stored as plain E.164 text (`PhoneField`): the bulk paths (COPY, INSERT … SELECT,
exports) read millions of them, and parsing each into a PhoneNumber object would cost more than the rest
of the row. Numbers are personal data: log lines and pages for readers carry `phone_mask(number)`.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.validators import RegexValidator
from django.db import models

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
E164_VALIDATOR = RegexValidator(E164.pattern, "Enter a phone number in E.164 form, like +12025550142.")
MAX_INPUT_LENGTH = 40  # longer input is no phone number, however it is written


class PhoneError(ValueError):
    """Why a text is not a usable phone number, as a sentence for the person who typed it."""


def PhoneField(**kwargs) -> models.CharField:  # noqa: N802 - reads like the field class it returns
    return models.CharField(max_length=16, validators=[E164_VALIDATOR], **kwargs)


def phone_parse(text: str, *, country: str | None = None) -> tuple[str, str | None]:
    """(E.164, ISO country of the number) for a valid number; PhoneError with a sentence otherwise.

    Without `country`, only a number written with + and its country code is accepted; with it (the
    number's likely country, e.g. a leader's default), national formats are read as that country's.
    """
    text = (text or "").strip()
    if not text:
        raise PhoneError("Enter a phone number.")
    if len(text) > MAX_INPUT_LENGTH:
        raise PhoneError("This is too long to be a phone number.")
    if any(character.isalpha() for character in text):
        # phonenumbers reads letters as a keypad's digits (+1 202 CALL NOW): a typo or a vanity number
        # would become someone else's number.
        raise PhoneError("A phone number has no letters: write its digits.")
    region = country.upper() if country else None
    if not text.startswith("+") and not region:
        raise PhoneError("Write the number in E.164 (+12025550142), or give its `country` (US, CA…).")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError("This is not a phone number.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("This is not a valid phone number.")
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(parsed),
    )


def phone_normalize(text: str, *, country: str | None = None) -> str | None:
    """E.164 for a valid number (national formats read as `country`'s), None otherwise."""
    try:
        return phone_parse(text, country=country)[0]
    except PhoneError:
        return None


def phone_country(phone: str) -> str | None:
    """The ISO country of a number from its prefix ("+15145550199" -> "CA"), None when unknown."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None)) or None
    except phonenumbers.NumberParseException:
        return None


def phone_mask(e164: str) -> str:
    """A phone number fit for a log line or a reader: "+12025550142" -> "+1202•••0142".

    Shows the country and area code (at most 4 leading digits) and the last 4, and always hides at least 3
    digits, so a short number is not given away almost whole. A channel prefix ("whatsapp:") is kept.
    """
    if not e164:
        return ""
    channel, _, number = e164.rpartition(":")
    prefix = f"{channel}:" if channel else ""
    plus = "+" if number.startswith("+") else ""
    digits = number[len(plus) :]
    if not digits.isdecimal():
        return f"{prefix}•••"
    if len(digits) < 8:
        return f"{prefix}{plus}•••{digits[-2:]}"
    shown = min(4, len(digits) - 4 - 3)
    return f"{prefix}{plus}{digits[:shown]}•••{digits[-4:]}"


def phone_mask_for_fan(phone: str) -> str:
    """How a page shows the fan their own number: the last four digits only ("•••• 0142")."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"•••• {digits[-4:]}" if len(digits) >= 4 else "••••"


# Carriers and Twilio echo numbers in their error messages ("The 'To' number +12025550142 is not a valid
# phone number"): masked, so an error stored or logged never carries a full number.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w+])\+?\d{7,15}(?!\w)")


def phones_scrub(text: str) -> str:
    """`text` with every phone number in it masked."""
    return _NUMBER_IN_TEXT.sub(lambda match: phone_mask(match.group()), text)


# Countries where a phone's owner most likely speaks one of our languages other than English. Canada is
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


def number_defaults(phone: str) -> tuple[str | None, str | None]:
    """A leader's likely time zone and language from their number's country and prefix (+33 → Europe/Paris,
    French; +1 415 → America/Los_Angeles): (zone, language), each None when the number does not say (a
    prefix spanning several zones; a country with several languages or English)."""
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None, None
    zones = [zone for zone in number_zones.time_zones_for_number(parsed) if zone != "Etc/Unknown"]
    zone = zones[0] if len(zones) == 1 else None
    return zone, language_for_country(phonenumbers.region_code_for_number(parsed))
