"""Phone numbers from API clients: E.164, or a national format with a country hint."""

from __future__ import annotations

import phonenumbers

MAX_INPUT_LENGTH = 40


class PhoneError(ValueError):
    pass


def phone_normalize(text: str, *, country: str | None = None) -> tuple[str, str | None]:
    """(E.164, ISO country of the number) for a valid number; PhoneError with a sentence otherwise."""
    text = (text or "").strip()
    if not text:
        raise PhoneError("Enter a phone number.")
    if len(text) > MAX_INPUT_LENGTH:
        raise PhoneError("This is too long to be a phone number.")
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
