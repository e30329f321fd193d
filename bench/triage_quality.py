"""How well triage sorts fans' texts: the evaluation set's test part, scored once, and the sorting speed.

    python -m bench triage_quality        (or: python bench/triage_quality.py [--part test] [--seconds 10])

The classifier is built from the eight topics of tests/data/triage/examples.json (a name, a description and 10
English examples each, no keywords, no corrections), as a new leader's would be. On the test part of
tests/data/triage/texts.jsonl (never looked at while tuning; --part tuning or development for the texts
that may be) it prints, per language and overall:
- accuracy: the best topic against the label, over the texts whose label is a topic (threshold aside);
- at the default threshold (triage.models.DEFAULT_THRESHOLD): precision (labels given that are right, over
  every text, those labelled "none" included) and coverage (the share of texts given a label);
- language detection: the detected language against the text's main language.
The same again with the other part's texts given as the team's corrections (what the classifier learns).
Then texts/s for language and topic together on one core (one process, one BLAS thread), in batches of 200
distinct texts, per wall second and per CPU second.
Targets (issue 13): accuracy ≥ 0.80 in each language, precision ≥ 0.90, coverage ≥ 0.70, ≥ 1,500 texts/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ROOT, django_setup  # noqa: E402

DATA = ROOT / "tests" / "data" / "triage"
LANGUAGES = ("en", "fr", "es", "ar", "de")


@dataclass(frozen=True)
class Scores:
    texts: int
    accuracy: float  # best topic right, over texts whose label is a topic
    precision: float  # labels given at the threshold that are right
    coverage: float  # texts given a label at the threshold
    language_accuracy: float


def evalset_load(part: str):
    """(topics, topic id by label, rows of the part): topic ids are 1.. in the file's order."""
    from triage.classifier import TopicSpec

    seeds = json.loads((DATA / "examples.json").read_text(encoding="utf-8"))["topics"]
    ids = {topic["id"]: number for number, topic in enumerate(seeds, start=1)}
    topics = [
        TopicSpec(ids[t["id"]], t["name"], t.get("description", ""), tuple(t["examples"]), ()) for t in seeds
    ]
    source = DATA / ("development.jsonl" if part == "development" else "texts.jsonl")
    with source.open(encoding="utf-8") as lines:
        rows = [row for row in map(json.loads, filter(str.strip, lines)) if row["part"] == part]
    return topics, ids, rows


def scores_measure(rows: Sequence[dict], verdicts, languages: Sequence[str], ids: dict[str, int]) -> Scores:
    topical = [(row, v) for row, v in zip(rows, verdicts, strict=True) if row["label"] in ids]
    given = [(row, v) for row, v in zip(rows, verdicts, strict=True) if v.topic_id is not None]
    return Scores(
        texts=len(rows),
        accuracy=sum(v.best_topic_id == ids[row["label"]] for row, v in topical) / max(len(topical), 1),
        precision=sum(v.topic_id == ids.get(row["label"]) for row, v in given) / max(len(given), 1),
        coverage=len(given) / max(len(rows), 1),
        language_accuracy=sum(d == row["language"] for row, d in zip(rows, languages, strict=True))
        / max(len(rows), 1),
    )


def quality_measure(part: str, threshold: float, *, learnt: str | None = None) -> dict[str, Scores]:
    """Scores per language and "all" on one part of the evaluation set; `learnt`: another part whose texts
    the classifier has as the team's corrections (its label, or "none" as not any topic)."""
    from triage.classifier import Classifier
    from triage.language import languages_detect

    topics, ids, rows = evalset_load(part)
    corrections = [(row["text"], ids.get(row["label"])) for row in evalset_load(learnt)[2]] if learnt else []
    classifier = Classifier(topics=topics, corrections=corrections)
    texts = [row["text"] for row in rows]
    verdicts = classifier.classify(texts, threshold=threshold)
    languages = languages_detect(texts)
    results = {}
    for language in (*LANGUAGES, "all"):
        picked = [i for i, row in enumerate(rows) if language == "all" or row["language"] == language]
        results[language] = scores_measure(
            [rows[i] for i in picked], [verdicts[i] for i in picked], [languages[i] for i in picked], ids
        )
    return results


def throughput_measure(part: str, seconds: float, batch: int = 200) -> tuple[float, float]:
    """Texts/s for language and topic together, in batches of distinct texts of the part (a batch with copies
    would flatter the figure: each distinct text is encoded once): (per wall second, per CPU second of this
    process, which is the figure on one core when the machine is shared)."""
    from triage.classifier import Classifier
    from triage.language import languages_detect

    topics, _, rows = evalset_load(part)
    classifier = Classifier(topics=topics)
    texts = [row["text"] for row in rows]
    batches = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    classifier.classify(batches[0], threshold=0.5)  # loads the encoder and the language model
    languages_detect(batches[0])
    done, wall, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        for chunk in batches:
            classifier.classify(chunk, threshold=0.5)
            languages_detect(chunk)
            done += len(chunk)
    return done / (time.perf_counter() - wall), done / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--part", default="test", choices=("test", "tuning", "development"))
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the speed is measured")
    args = parser.parse_args()
    django_setup()
    from triage.models import DEFAULT_THRESHOLD

    # What the classifier learns as corrections: never the test part when another part is measured.
    other = {"test": "tuning", "tuning": "development", "development": "tuning"}[args.part]
    for learnt, title in (
        (None, "examples in English only"),
        (other, f"and the {other} part's texts as the team's corrections"),
    ):
        results = quality_measure(args.part, DEFAULT_THRESHOLD, learnt=learnt)
        print(f"triage quality on the {args.part} part, {title}, threshold {DEFAULT_THRESHOLD}")
        header = (
            f"{'language':<9}{'texts':>6}{'accuracy':>10}{'precision':>11}{'coverage':>10}{'language id':>13}"
        )
        print(f"  {header}")
        for language, s in results.items():
            print(
                f"  {language:<9}{s.texts:>6}{s.accuracy:>10.3f}{s.precision:>11.3f}{s.coverage:>10.3f}"
                f"{s.language_accuracy:>13.3f}"
            )
    print("  targets (examples only): accuracy ≥ 0.80 in each language, precision ≥ 0.90, coverage ≥ 0.70")
    wall, cpu = throughput_measure(args.part, args.seconds)
    print(f"language + topic, one process, one BLAS thread: {wall:,.0f} texts/s; {cpu:,.0f} per CPU second")
    print("  target ≥ 1,500 texts/s on one core")


if __name__ == "__main__":
    main()
