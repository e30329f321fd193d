"""Cells of a CSV export that a spreadsheet cannot run: every export writes its values through `csv_cell`.

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a carriage return
before one) as a formula, which can fetch URLs or run commands when the file is opened ("CSV injection"). A
cell is not always split where the export put its commas: opened with `;` as the separator, or with its
commas taken as separators too, `Ana;=HYPERLINK(…)` becomes two cells (and tabs separate cells when it is
read as tab-separated). So every part of a cell between `;`, `,`, a tab or a line break is looked at, not
only its start, and a part that begins (after spaces) with one of those characters gets a single quote in
front, which spreadsheets show as text and do not evaluate: `a;=1` is written `a;'=1`.

One exception keeps phone numbers usable: a part shaped like an E.164 number (`+`, then 8 to 15 digits,
the first not 0: how the members export writes phones) is left as it is, so the column can be pasted back
into an import or a dialler. It cannot call a function or name a cell: at worst a spreadsheet shows it as
the number it is. Any other part starting with `+` or `-` (`+1`, `+1 (514)…`, `-1+2`) is quoted like the
others. The shape is checked with a pattern, not by parsing the number (common.phones): an export writes
millions of them.
"""

from __future__ import annotations

import datetime
import re

FORMULA_STARTS = frozenset("=+-@\t\r")
_PARTS = re.compile(r"([;,\t\r\n])")  # split keeping the separators, at the odd indexes
_E164 = re.compile(r"\+[1-9]\d{7,14}")
LIST_SEPARATOR = ";"


def formula_neutralise(text: str) -> str:
    """`text` with a quote before each part (between `;`, `,`, tabs, line breaks) a spreadsheet would read
    as a formula."""
    parts = _PARTS.split(text)
    for index in range(0, len(parts), 2):
        part = parts[index]
        start = part.lstrip(" ")
        if start[:1] in FORMULA_STARTS and not _E164.fullmatch(start):
            parts[index] = part[: len(part) - len(start)] + "'" + start
    return "".join(parts)


def csv_cell(value: object) -> str:
    """A value as an export's cell: None empty, dates in ISO 8601, lists joined with `;`, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = LIST_SEPARATOR.join(str(item) for item in value)
    return formula_neutralise(str(value))
