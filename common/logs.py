"""Log lines without personal data: phone numbers and emails masked in whatever the platform logs.

Code that logs a number masks it itself (`common.phones.phone_mask`); this is the net under it, for what the
code does not write itself: access logs (Django's `django.server` under `runserver`, gunicorn's access log)
print request lines with their query strings, where an API client's `?q=+12025550142` or a search typed in
a form would otherwise be kept in full, and exceptions from libraries quote the values they choke on.

- In a URL's query string (after `?`, in any line), each value is read percent-decoded: a run of 6 or more
  digits, spaces, dots, dashes and brackets allowed between them (`+1 (202) 555-0142`, `2025550142`),
  keeps its last 4 digits (`+1202•••0142`, `•••0142`), ISO dates and decimals excepted (`2026-05-01`,
  `45.50884`); an email
  becomes `•••@•••`.
- Anywhere else in a line: numbers of 7 to 15 digits (with or without `+`, or `%2B` as a URL writes it) and
  emails are masked the same way.

`PersonalDataFilter` applies it to a log record (its message, exception and stack); settings.LOGGING puts it
on every handler, and `community.gunicorn_logging` on gunicorn's access and error logs.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from common.phones import phone_mask, phones_scrub

MASK = "•••"
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-]*\d")
_NOT_A_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}|\d+\.\d+")  # a date, a decimal number (coordinates)
_EMAIL = re.compile(r"[^\s@&=?/\"'<>:;,()\[\]]+@[^\s@&=?/\"'<>:;,()\[\]]+\.[^\s@&=?/\"'<>:;,()\[\]]+")
_QUERY = re.compile(r"\?([^\s\"'#<>]+)")
_ENCODED_PLUS_NUMBER = re.compile(r"%2B(\d{7,15})(?!\w)", re.IGNORECASE)
MIN_DIGITS = 6


def _phone_like_mask(match: re.Match) -> str:
    run = match.group()
    digits = "".join(character for character in run if character.isdigit())
    if len(digits) < MIN_DIGITS or _NOT_A_PHONE.fullmatch(run):
        return run
    if run.startswith("+") and len(digits) >= 7:
        return phone_mask("+" + digits)
    return MASK + digits[-4:]


def value_mask(value: str) -> str:
    """One decoded query-string value with phone-like runs and emails masked."""
    return _PHONE_LIKE.sub(_phone_like_mask, _EMAIL.sub(MASK + "@" + MASK, value))


def query_mask(query: str) -> str:
    """A raw query string (`q=%2B12025550142&after=…`) with personal values masked; the others as sent."""
    parts = []
    for part in query.split("&"):
        name, equals, raw = part.partition("=")
        try:
            value = unquote_plus(raw, errors="strict")
        except UnicodeDecodeError:
            value = unquote_plus(raw)
        masked = value_mask(value)
        parts.append(f"{name}{equals}{masked}" if masked != value else part)
    return "&".join(parts)


def text_mask(text: str) -> str:
    """A log line with the query strings of its URLs, and any phone number or email in it, masked."""
    if not text:
        return text
    text = _QUERY.sub(lambda match: "?" + query_mask(match.group(1)), text)
    text = _ENCODED_PLUS_NUMBER.sub(lambda match: phone_mask("+" + match.group(1)), text)
    return phones_scrub(_EMAIL.sub(MASK + "@" + MASK, text))


class PersonalDataFilter(logging.Filter):
    """Masks personal data in a record before any handler formats it; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the logging module's to report
            return True
        masked = text_mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = text_mask(record.exc_text)
        if record.stack_info:
            record.stack_info = text_mask(record.stack_info)
        return True


class ForbiddenLogFilter(logging.Filter):
    """A 403 is logged as its one line ("Forbidden (Permission denied): /broadcasts/"), without the traceback
    Django attaches: a page refused to a role is the permission check working, not a failure to read
    through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info, record.exc_text = None, None
        return True
