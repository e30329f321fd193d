"""A leader's topic classifier: texts in any language → one of the leader's topics with a confidence.
INTERFACE STUB (keywords only): the classifier helper replaces the internals, keeping these names. Pure: no
database; triage.services loads a leader's topics and corrections and keeps one classifier per leader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    id: int
    name: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    topic_id: int | None  # None: unsorted (the best topic's confidence is below the threshold)
    confidence: float  # of the best topic, in [0, 1]
    best_topic_id: int | None  # the best topic even when unsorted


class Classifier:
    """Built once per leader and version of its topics and corrections; `classify` is called per batch."""

    def __init__(self, *, topics: Sequence[TopicSpec], corrections: Sequence[tuple[str, int | None]] = ()):
        self.topics = tuple(topics)
        self.corrections = tuple(corrections)  # (text, topic id or None for "not any topic")

    def classify(self, texts: Sequence[str], *, threshold: float) -> list[Verdict]:
        verdicts = []
        for text in texts:
            folded = text.lower()
            best = next((t.id for t in self.topics if any(k in folded for k in t.keywords)), None)
            confidence = 1.0 if best is not None else 0.0
            verdicts.append(Verdict(best if confidence >= threshold else None, confidence, best))
        return verdicts


def holdout_accuracy(
    *, topics: Sequence[TopicSpec], corrections: Sequence[tuple[str, int | None]], threshold: float
) -> tuple[float | None, int]:
    """How often the classifier gets the team's corrected texts right, each judged by a classifier that did
    not learn from it (leave-one-out): (accuracy or None without corrections, number of corrected texts)."""
    return None, len(corrections)
