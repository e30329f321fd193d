"""The triage evaluation set (tests/data/triage/): its shape, its labels against the codebook, and its split.

The set is data written and labelled by hand before any classifier ran; these tests keep it honest as the
code around it changes: every text has a language and a label the codebook defines, each language has enough
test texts for every topic, and no text's part can be moved without the split rule noticing.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "triage"
LANGUAGES = ("en", "fr", "es", "ar", "de")
TOPICS = (
    "health",
    "security",
    "cost_of_living",
    "education",
    "water_environment",
    "jobs_economy",
    "corruption",
    "transport",
)
LABELS = (*TOPICS, "none")
FIELDS = {"id", "text", "language", "label", "part"}


def texts() -> list[dict]:
    lines = (DATA / "texts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def examples() -> dict:
    return json.loads((DATA / "examples.json").read_text(encoding="utf-8"))


def split_rule(rows: list[dict]) -> dict[str, str]:
    """The part of each id as codebook.md's "The split" states it, recomputed from the labels."""
    parts = {}
    for language in LANGUAGES:
        for label in LABELS:
            ids = sorted(r["id"] for r in rows if r["language"] == language and r["label"] == label)
            random.Random(f"triage-evalset-13:{language}:{label}").shuffle(ids)
            tuning = 3 if label == "none" else 2
            parts.update({id_: "tuning" if i < tuning else "test" for i, id_ in enumerate(ids)})
    return parts


def test_every_line_is_a_json_object_with_exactly_the_fields():
    for row in texts():
        assert set(row) == FIELDS, row
        assert all(isinstance(row[field], str) and row[field].strip() for field in FIELDS), row


def test_the_codebook_defines_every_label_used():
    codebook = (DATA / "codebook.md").read_text(encoding="utf-8")
    defined = set(re.findall(r"^### `([a-z_]+)`$", codebook, flags=re.MULTILINE))
    assert defined == set(LABELS)
    assert {row["label"] for row in texts()} == set(LABELS)


def test_languages_and_parts_are_the_known_ones():
    rows = texts()
    assert {row["language"] for row in rows} == set(LANGUAGES)
    assert {row["part"] for row in rows} == {"tuning", "test"}


def test_ids_are_unique_and_name_their_language():
    ids = [row["id"] for row in texts()]
    assert len(ids) == len(set(ids))
    for row in texts():
        assert row["id"].startswith(f"{row['language']}-"), row["id"]


def test_no_text_is_written_twice_so_none_is_in_both_parts():
    normalised = Counter(" ".join(row["text"].casefold().split()) for row in texts())
    assert [text for text, n in normalised.items() if n > 1] == []
    tuning = {row["text"] for row in texts() if row["part"] == "tuning"}
    test = {row["text"] for row in texts() if row["part"] == "test"}
    assert tuning.isdisjoint(test)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_enough_texts_in_each_part(language):
    parts = Counter(row["part"] for row in texts() if row["language"] == language)
    assert parts["tuning"] + parts["test"] >= 80
    assert 15 <= parts["tuning"] <= 25
    assert parts["test"] >= 60


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_topic_has_at_least_five_test_texts_in_each_language(language):
    labels = Counter(r["label"] for r in texts() if r["language"] == language and r["part"] == "test")
    assert {topic: labels[topic] for topic in TOPICS if labels[topic] < 5} == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_about_a_sixth_of_each_language_is_about_no_topic(language):
    labels = Counter(row["label"] for row in texts() if row["language"] == language)
    assert 0.15 <= labels["none"] / labels.total() <= 0.20


def test_the_parts_are_the_split_rules_and_were_never_moved_by_hand():
    rows = texts()
    assert {row["id"]: row["part"] for row in rows} == split_rule(rows)


def test_the_split_rule_would_notice_a_text_moved_to_tuning():
    rows = texts()
    moved = next(row for row in rows if row["part"] == "test")
    tampered = {row["id"]: row["part"] for row in rows} | {moved["id"]: "tuning"}
    assert tampered != split_rule(rows)


def test_examples_are_the_eight_topics_with_ten_english_texts_each():
    topics = examples()["topics"]
    assert [topic["id"] for topic in topics] == list(TOPICS)
    for topic in topics:
        assert topic["name"].strip() and topic["description"].strip()
        assert len(topic["examples"]) == 10
        assert len(set(topic["examples"])) == 10
        # English only (the quality target is examples written in one language): no letter outside
        # ASCII, so no accented, Arabic or other script slipped in; emojis are not letters.
        letters = "".join(ch for text in topic["examples"] for ch in text if ch.isalpha())
        assert letters.isascii(), topic["id"]


def test_no_example_is_also_an_evaluation_text():
    seeds = {text for topic in examples()["topics"] for text in topic["examples"]}
    assert seeds.isdisjoint(row["text"] for row in texts())


def development() -> list[dict]:
    with (DATA / "development.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_the_development_set_has_90_labelled_texts_a_language_and_no_test_text_of_substance():
    rows = development()
    assert all(set(row) == FIELDS for row in rows)
    assert {row["part"] for row in rows} == {"development"}
    assert {row["label"] for row in rows} <= set(LABELS)
    assert len({row["id"] for row in rows}) == len(rows)
    assert Counter(row["language"] for row in rows) == dict.fromkeys(LANGUAGES, 90)
    # Written blind to the evaluation set: only a few words of greeting ("ok", "merci") may coincide.
    evaluation = {row["text"].strip().casefold() for row in texts()}
    repeated = [row for row in rows if row["text"].strip().casefold() in evaluation]
    assert all(len(row["text"]) <= 12 and row["label"] == "none" for row in repeated), repeated
