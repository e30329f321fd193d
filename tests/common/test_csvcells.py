"""common.csvcells: no part of an exported cell is a formula a spreadsheet would run; phones stay numbers."""

from __future__ import annotations

import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.csvcells import csv_cell, formula_neutralise

SEPARATORS = re.compile(r"[;,\t\r\n]")
E164 = re.compile(r"\+[1-9]\d{7,14}")


def runnable_parts(cell: str) -> list[str]:
    parts = [part.lstrip(" ") for part in SEPARATORS.split(cell)]
    return [p for p in parts if p[:1] in ("=", "+", "-", "@") and not E164.fullmatch(p)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("a;=1", "a;'=1"),
        ("x,+1", "x,'+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "\t'=1"),
        ("\r=1", "\r'=1"),
        ("a; =1", "a; '=1"),
        ("line\n-1+2", "line\n'-1+2"),
        ("+15145550142", "+15145550142"),  # a phone stays usable
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),  # written otherwise, it is not E.164
        ("+1234567", "'+1234567"),
        ("Ana María", "Ana María"),
        ("1+1", "1+1"),
        ("", ""),
    ],
)
def test_each_part_that_starts_like_a_formula_is_quoted(text, expected):
    assert formula_neutralise(text) == expected


def test_values_become_cells():
    assert csv_cell(None) == ""
    assert csv_cell(datetime.date(2026, 4, 25)) == "2026-04-25"
    assert csv_cell(["vip", "=1"]) == "vip;'=1"
    assert csv_cell(42) == "42"


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n;, 'a1")), max_size=30))
def test_no_part_of_a_cell_can_run_and_nothing_but_quotes_is_added(text):
    cell = csv_cell(text)
    assert runnable_parts(cell) == []
    assert len(cell) >= len(text)
    # Taking out the added quotes gives the text back.
    added = len(cell) - len(text)
    assert cell.count("'") - text.count("'") == added
