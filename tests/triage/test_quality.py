"""Triage's quality on the evaluation set's test part (tests/data/triage, never looked at while tuning): a
classifier built from the eight topics' 10 English examples each sorts texts in five languages. The figures
themselves are printed by `python -m bench triage_quality`, beside the issue's targets.

Issue 13's targets are accuracy ≥ 0.80 in each language, precision ≥ 0.90 and coverage ≥ 0.70 at the
default threshold. Measured when this classifier was settled: accuracy en 0.898, fr 0.949, es 0.864,
ar 0.797, de 0.797; precision 0.886; coverage 0.744. Arabic and German accuracy and the precision are just
short of the targets, and tuning against this part would make the figure a lie. So these tests hold the
floor the classifier reached (a change that makes sorting worse fails here) and the targets stay in the
benchmark's report until a better classifier meets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from triage.classifier import Classifier, TopicSpec
from triage.models import DEFAULT_THRESHOLD

DATA = Path(__file__).resolve().parents[1] / "data" / "triage"
LANGUAGES = ("en", "fr", "es", "ar", "de")


@pytest.fixture(scope="module")
def judged():
    """(topic id by label, test rows, their verdicts at the default threshold)."""
    seeds = json.loads((DATA / "examples.json").read_text(encoding="utf-8"))["topics"]
    ids = {topic["id"]: number for number, topic in enumerate(seeds, start=1)}
    topics = [TopicSpec(ids[t["id"]], t["name"], t["description"], tuple(t["examples"]), ()) for t in seeds]
    assert all(len(topic.examples) == 10 for topic in topics)
    with (DATA / "texts.jsonl").open(encoding="utf-8") as lines:
        rows = [row for row in map(json.loads, filter(str.strip, lines)) if row["part"] == "test"]
    verdicts = Classifier(topics=topics).classify([row["text"] for row in rows], threshold=DEFAULT_THRESHOLD)
    return ids, rows, verdicts


# The floors: what the classifier reached, rounded down (see the module's docstring for the targets).
ACCURACY_FLOOR = {"en": 0.88, "fr": 0.93, "es": 0.85, "ar": 0.77, "de": 0.77}
PRECISION_FLOOR = 0.87
COVERAGE_TARGET = 0.70


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_best_topic_is_right_at_least_as_often_as_when_the_classifier_was_settled(judged, language):
    ids, rows, verdicts = judged
    topical = [(row, v) for row, v in zip(rows, verdicts, strict=True) if row["language"] == language]
    topical = [(row, v) for row, v in topical if row["label"] in ids]
    assert len(topical) >= 30
    right = sum(v.best_topic_id == ids[row["label"]] for row, v in topical)
    assert right / len(topical) >= ACCURACY_FLOOR[language], f"{language}: {right}/{len(topical)}"


def test_at_the_default_threshold_labels_given_are_right_at_least_as_often_as_when_settled(judged):
    ids, rows, verdicts = judged
    given = [(row, v) for row, v in zip(rows, verdicts, strict=True) if v.topic_id is not None]
    right = sum(v.topic_id == ids.get(row["label"]) for row, v in given)
    assert right / len(given) >= PRECISION_FLOOR, f"{right}/{len(given)}"


def test_at_the_default_threshold_70_percent_of_texts_get_a_label(judged):
    _, rows, verdicts = judged
    given = sum(v.topic_id is not None for v in verdicts)
    assert given / len(rows) >= COVERAGE_TARGET, f"{given}/{len(rows)}"
