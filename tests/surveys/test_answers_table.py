"""The answer parser against two tables of labelled real-looking replies, each written by someone else:
- tests/data/surveys/replies.jsonl (497 rows, en/fr/es/ar/de), written while the parser was written and read
  only once its first version was committed;
- tests/data/surveys/replies-heldout.jsonl (300 rows, 60 per language), written blind by another person
  and read only once the parser had been corrected against the first table;
- tests/data/surveys/replies-final.jsonl (250 rows, 50 per language), written blind by another person and
  read only once the parser had been corrected against the first two.

Each row: a question as the engine holds it (kind, one label per choice in the question's language, the
team's synonyms, number bounds), the reply as a member typed it, and what a person reads in it: the choices
(an empty list is "none of them", an answer to a multiple-choice question), the value, or null when a person
would ask again. Issue 14's target: at least 98 % read as a person would, in each table and each language.

Measured (docs/architecture.md, "Surveys: understanding answers"): the first table was read at 0.944 by the
first version, blind; its misreadings were fixed in general ways (1.000). The held-out table was then read
blind at 0.927 (278 of 300); its misreadings were fixed in general ways too, and it is now read in full:
since then neither figure is blind. The third table was read blind at 0.936 (234 of 250, once this harness
compared a multiple choice's "none" value too; it had compared only choices, and counted 229); its
misreadings were fixed as general rules (everyday synonyms by concept, weekday abbreviations, ae/oe/ue for
umlauts, "the 4th one", a hedge about later, "como 12"): 1.000, no longer blind either."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from surveys.answers import ChoiceSpec, answer_parse

DATA = Path(__file__).resolve().parents[1] / "data" / "surveys"
LANGUAGES = ("en", "fr", "es", "ar", "de")
# Each table: how many replies it holds at least in each language, and unclear ones among them.
TABLES = {
    "replies.jsonl": ({"en": 100, "fr": 100, "es": 100, "ar": 100, "de": 40}, 40),
    "replies-heldout.jsonl": (dict.fromkeys(LANGUAGES, 60), 30),
    "replies-final.jsonl": (dict.fromkeys(LANGUAGES, 50), 30),
}
TARGET = 0.98


def table_rows(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def table_read(row: dict) -> dict | None:
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
    expected = row["expected"] or {}
    if row["kind"] in ("number", "yes_no", "text") or "value" in expected:
        read["value"] = (
            parsed.value
        )  # a multiple choice's "none" is its value: compared when expected says one
    return read


@pytest.fixture(scope="module", params=list(TABLES))
def table(request) -> tuple[str, list[tuple[dict, dict | None]]]:
    return request.param, [(row, table_read(row)) for row in table_rows(request.param)]


def misread(judged: list[tuple[dict, dict | None]]) -> list[tuple]:
    return [
        (row["id"], row["reply"], row["expected"], read) for row, read in judged if read != row["expected"]
    ]


def test_each_table_holds_replies_in_every_language_of_every_kind(table):
    name, judged = table
    per_language, unclear = TABLES[name]
    held = Counter(row["language"] for row, _ in judged)
    assert all(held[language] >= least for language, least in per_language.items()), held
    assert {row["kind"] for row, _ in judged} == {"single", "multiple", "number", "yes_no", "text"}
    assert sum(1 for row, _ in judged if row["expected"] is None) >= unclear  # unclear replies are in it too


def test_at_least_98_percent_of_each_table_is_read_as_a_person_would(table):
    name, judged = table
    wrong = misread(judged)
    rate = 1 - len(wrong) / len(judged)
    assert rate >= TARGET, f"{name}: {rate:.3f} of {len(judged)}; misread:\n" + "\n".join(map(repr, wrong))


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_of_each_table_is_read_as_well(table, language):
    name, judged = table
    rows = [(row, read) for row, read in judged if row["language"] == language]
    assert rows
    wrong = misread(rows)
    assert 1 - len(wrong) / len(rows) >= TARGET, (name, wrong)


def test_no_unclear_reply_is_taken_for_an_answer(table):
    """The costly mistake: recording an answer the member did not give (asking again costs one text)."""
    _, judged = table
    invented = [(row["id"], row["reply"], read) for row, read in judged if row["expected"] is None and read]
    assert not invented
