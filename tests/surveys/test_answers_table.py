"""The answer parser against the table of labelled real-looking replies (tests/data/surveys/replies.jsonl,
written by someone else while the parser was written, and read only once its first version was committed).

Each row: a question as the engine holds it (kind, one label per choice in the question's language, the
team's synonyms, number bounds), the reply as a member typed it, and what a person reads in it: the choices,
the value, or null when a person would ask again. Issue 14's target: at least 98 % read as a person would.
Measured: the first version, committed before the table was opened, read 469 of its 497 rows (0.944); the
causes of the 28 misreadings were then fixed in general ways and the parser reads all 497 (1.000), a figure
from the table it was corrected against (docs/architecture.md, "Surveys: understanding answers")."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from surveys.answers import ChoiceSpec, answer_parse

TABLE = Path(__file__).resolve().parents[1] / "data" / "surveys" / "replies.jsonl"
TARGET = 0.98


def _rows() -> list[dict]:
    with TABLE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _read(row: dict) -> dict | None:
    """What the parser reads in a row's reply, in the table's terms."""
    parsed = answer_parse(
        kind=row["kind"],
        text=row["reply"],
        choices=[
            ChoiceSpec(choice["position"], (choice["label"],), tuple(choice.get("synonyms", ())))
            for choice in row["choices"]
        ],
        language=row["language"],
        number_min=row["number_min"],
        number_max=row["number_max"],
    )
    if parsed is None:
        return None
    read: dict = {}
    if row["kind"] in ("single", "multiple", "yes_no"):
        read["choices"] = list(parsed.choices)
    if row["kind"] in ("number", "yes_no", "text"):
        read["value"] = parsed.value
    return read


@pytest.fixture(scope="module")
def judged() -> list[tuple[dict, dict | None]]:
    return [(row, _read(row)) for row in _rows()]


def test_the_table_holds_at_least_a_hundred_replies_in_each_of_the_surveyed_languages():
    per_language = Counter(row["language"] for row in _rows())
    for language in ("en", "fr", "es", "ar"):
        assert per_language[language] >= 100, per_language
    kinds = Counter(row["kind"] for row in _rows())
    assert set(kinds) == {"single", "multiple", "number", "yes_no", "text"}
    assert sum(1 for row in _rows() if row["expected"] is None) >= 40  # unclear replies are in it too


def test_at_least_98_percent_of_the_table_is_read_as_a_person_would(judged):
    wrong = [
        (row["id"], row["reply"], row["expected"], read) for row, read in judged if read != row["expected"]
    ]
    rate = 1 - len(wrong) / len(judged)
    assert rate >= TARGET, f"{rate:.3f} of {len(judged)}; misread: " + "\n".join(map(repr, wrong))


@pytest.mark.parametrize("language", ["en", "fr", "es", "ar", "de"])
def test_each_language_is_read_as_well(judged, language):
    rows = [(row, read) for row, read in judged if row["language"] == language]
    assert rows
    wrong = [
        (row["id"], row["reply"], row["expected"], read) for row, read in rows if read != row["expected"]
    ]
    assert 1 - len(wrong) / len(rows) >= TARGET, wrong


def test_no_unclear_reply_is_taken_for_an_answer(judged):
    """The costly mistake: recording an answer the member did not give (asking again costs one text)."""
    invented = [(row["id"], row["reply"], read) for row, read in judged if row["expected"] is None and read]
    assert not invented
