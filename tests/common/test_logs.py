"""common.logs: phone numbers and emails masked in log lines, query strings of request lines included.

The whole platform's logs after a fan's journey are read in tests/platform/test_privacy_logs.py; these are
the masks themselves, on lines as Django's and gunicorn's access logs and libraries write them.
"""

from __future__ import annotations

import logging
import re
import sys
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.logs import PersonalDataFilter, text_mask


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        (
            '"GET /api/v1/members/?q=%2B12025550142 HTTP/1.1" 200 478',
            '"GET /api/v1/members/?q=+1202•••0142 HTTP/1.1" 200 478',
        ),
        (
            '"GET /members/?q=2025550142&status=subscribed HTTP/1.1"',
            '"GET /members/?q=•••0142&status=subscribed HTTP/1.1"',
        ),
        ('"GET /x?phone=%28202%29+555-0142 HTTP/1.1"', '"GET /x?phone=(•••0142 HTTP/1.1"'),
        ('"GET /members/?q=maya%40example.org HTTP/1.1"', '"GET /members/?q=•••@••• HTTP/1.1"'),
        # What is not personal stays as sent: dates, coordinates, short numbers, ids.
        (
            '"GET /api/v1/members/?joined_after=2026-05-01&near%5Blat%5D=45.50884&age_min=18&limit=50 HTTP/1.1"',
            '"GET /api/v1/members/?joined_after=2026-05-01&near%5Blat%5D=45.50884&age_min=18&limit=50 HTTP/1.1"',
        ),
        (
            '"GET /members/?search=k3XbQ-1a9 HTTP/1.1" 200 5699',
            '"GET /members/?search=k3XbQ-1a9 HTTP/1.1" 200 5699',
        ),
        # The referrer of gunicorn's access line is a URL too.
        (
            '127.0.0.1 - - [05/Dec/2026:16:20:33 +0000] "GET /members/1/ HTTP/1.1" 200 4517 '
            '"http://alice.localhost/members/?q=%2B12025550142" "Mozilla/5.0"',
            '127.0.0.1 - - [05/Dec/2026:16:20:33 +0000] "GET /members/1/ HTTP/1.1" 200 4517 '
            '"http://alice.localhost/members/?q=+1202•••0142" "Mozilla/5.0"',
        ),
        # Outside URLs: what libraries quote in their errors.
        (
            'duplicate key value violates unique constraint "phone" DETAIL: Key (phone)=(+12025550142) exists.',
            'duplicate key value violates unique constraint "phone" DETAIL: Key (phone)=(+1202•••0142) exists.',
        ),
        ("invalid address maya@example.org: refused", "invalid address •••@•••: refused"),
        ("sent to %2B12025550142 today", "sent to +1202•••0142 today"),
        (
            "message SMab1234567890cdef claimed by pid 23704",
            "message SMab1234567890cdef claimed by pid 23704",
        ),
    ],
)
def test_log_lines_keep_no_phone_number_or_email(line, masked):
    assert text_mask(line) == masked


@given(
    national=st.from_regex(r"[2-9]\d{2}[2-9]\d{6}", fullmatch=True),
    separator=st.sampled_from(["", " ", "-", "."]),
)
def test_a_number_in_a_query_string_keeps_only_its_last_four_digits_however_it_is_written(
    national, separator
):
    written = separator.join((national[:3], national[3:6], national[6:]))
    for value in (written, "+1" + written, f"({national[:3]}) {national[3:6]}-{national[6:]}"):
        line = text_mask(f'"GET /api/v1/members/?q={quote(value)} HTTP/1.1" 200 12')
        shown = re.search(r"\?q=(.*) HTTP", line).group(1)
        assert "•••" in shown and shown.endswith(national[-4:])
        assert national not in re.sub(r"\D", "", shown)


def test_the_filter_masks_a_records_message_and_its_exception():
    try:
        raise ValueError("The 'To' number +12025550142 is not a valid phone number")
    except ValueError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "text to %s for %s failed",
            ("+12025550142", "maya@example.org"),
            sys.exc_info(),
        )
    assert PersonalDataFilter().filter(record) is True
    formatted = logging.Formatter().format(record)
    assert "2025550142" not in formatted and "maya@example.org" not in formatted
    assert "text to +1202•••0142 for •••@••• failed" in formatted and "ValueError" in formatted
