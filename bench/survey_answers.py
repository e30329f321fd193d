"""How fast survey replies are understood, and how many of the labelled tables are read as a person would.

    python -m bench survey_answers        (or: python bench/survey_answers.py [--rounds 50])

The parser (surveys/answers.py) runs inside the inbound webhook, so its time per reply counts. Over every
reply of tests/data/surveys/replies.jsonl, replies-heldout.jsonl and replies-final.jsonl, it prints:
- the time of a reply once its question is indexed (what almost every reply costs), in µs: each reply is
  timed alone --rounds times and keeps its median (a shared machine's pauses aside); the median, p99 and
  slowest of those over the replies, and the p99 of every single call (pauses included);
- the time of a question's first reply, which builds the question's index (cache cleared before each);
- the share of each table read as the table says, per language (the tests hold these at ≥ 0.98).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import ROOT  # noqa: E402

DATA = ROOT / "tests" / "data" / "surveys"
TABLES = ("replies.jsonl", "replies-heldout.jsonl", "replies-final.jsonl")


def rows_load(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def call_args(row: dict) -> dict:
    from surveys.answers import ChoiceSpec

    return {
        "kind": row["kind"],
        "text": row["reply"],
        "choices": tuple(
            ChoiceSpec(c["position"], (c["label"],), tuple(c.get("synonyms", ()))) for c in row["choices"]
        ),
        "language": row["language"],
        "number_min": row["number_min"],
        "number_max": row["number_max"],
    }


def as_read(row: dict, parsed) -> dict | None:
    """What the parser read, in the table's terms (tests/surveys/test_answers_table.py does the same)."""
    if parsed is None:
        return None
    read: dict = {}
    if row["kind"] in ("single", "multiple", "yes_no"):
        read["choices"] = list(parsed.choices)
    # A multiple choice's "none" is its value: compared wherever the expected row has a value.
    if row["kind"] in ("number", "yes_no", "text") or "value" in (row["expected"] or {}):
        read["value"] = parsed.value
    return read


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50, help="times each reply is parsed")
    args = parser.parse_args()

    started = time.perf_counter()
    from surveys import answers

    print(f"import (vocabularies folded and indexed): {(time.perf_counter() - started) * 1000:.0f} ms")

    rows = [(name, row) for name in TABLES for row in rows_load(name)]
    calls = [call_args(row) for _, row in rows]

    # Accuracy, per table and language.
    right: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for (name, row), call in zip(rows, calls, strict=True):
        ok = as_read(row, answers.answer_parse(**call)) == row["expected"]
        right[(name, row["language"])].append(ok)
        right[(name, "all")].append(ok)
    for name in TABLES:
        cells = [
            f"{language} {sum(v) / len(v):.3f}"
            for language in ("all", "en", "fr", "es", "ar", "de")
            if (v := right[(name, language)])
        ]
        print(
            f"{name:<24} read as labelled: " + "  ".join(cells) + f"  ({len(right[(name, 'all')])} replies)"
        )

    # A question's first reply: its index is built.
    questions = list({call["choices"]: call for call in calls if call["choices"]}.values())
    first = [[0.0] * max(1, args.rounds // 10) for _ in questions]
    for r in range(len(first[0])):
        for q, call in enumerate(questions):
            answers._options.cache_clear()
            t0 = time.perf_counter_ns()
            answers.answer_parse(**call)
            first[q][r] = (time.perf_counter_ns() - t0) / 1000

    # Every other reply: the question is indexed.
    for call in calls:
        answers.answer_parse(**call)
    each = [[0.0] * args.rounds for _ in calls]
    for r in range(args.rounds):
        for c, call in enumerate(calls):
            t0 = time.perf_counter_ns()
            answers.answer_parse(**call)
            each[c][r] = (time.perf_counter_ns() - t0) / 1000

    per_reply = [statistics.median(times) for times in each]
    slowest = max(range(len(calls)), key=per_reply.__getitem__)
    print(
        f"a reply, question indexed ({len(calls)} replies, median of {args.rounds} each): "
        f"median {statistics.median(per_reply):.1f} µs  p99 {percentile(per_reply, 0.99):.1f} µs  "
        f"slowest {per_reply[slowest]:.0f} µs ({calls[slowest]['text']!r})"
    )
    every_call = [t for times in each for t in times]
    print(
        f"  every single call: p99 {percentile(every_call, 0.99):.1f} µs, mean {statistics.fmean(every_call):.1f} µs"
    )
    per_question = [statistics.median(times) for times in first]
    print(
        f"a question's first reply, index built ({len(questions)} questions): median "
        f"{statistics.median(per_question):.0f} µs  p99 {percentile(per_question, 0.99):.0f} µs"
    )
    print("  one process, one core of a machine that may be shared: compare runs on the same machine")


if __name__ == "__main__":
    main()
