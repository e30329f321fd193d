"""The topic × region matrix at a million texts: does listening's matrix answer in ≤ 100 ms?

    python bench/triage_matrix.py [--messages 1000000] [--runs 5]

Creates (or reuses) a leader "bench-triage-matrix" in the bench database with 8 topics, then fills its
counter rows (triage.Count) as a million texts over 48 hours would: every hour × topic (8, and "unsorted")
× region (32, and the unknown place) × language (5, and unknown) that any text fell into, with the texts
spread unevenly (a few busy topics, regions and languages, most of them quiet), about a tenth still open.
Then it times triage.selectors.matrix, the page's one read, and prints its plan. Figures are printed,
never asserted (the target is ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

from bench import django_setup, leader_number_free, time_median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLUG = "bench-triage-matrix"
NUMBER = "+13125550157"
TOPICS = ["Health", "Security", "Cost of living", "Water", "Jobs", "Schools", "Roads", "Corruption"]
REGIONS = [f"Region {n:02d}" for n in range(32)]
LANGUAGES = ["es", "en", "fr", "ar", "de"]
HOURS = 48


def _weights(n: int) -> list[float]:
    """Zipf-like shares: the first value busiest."""
    raw = [1 / (k + 1) for k in range(n)]
    total = sum(raw)
    return [value / total for value in raw]


def count_rows(*, messages: int, topic_ids: list[int], start: datetime.datetime):
    """The counter rows `messages` texts make: (hour, topic_id, country, region, language, texts, open)."""
    topics = [*topic_ids, 0]  # 0: unsorted
    regions = [*REGIONS, ""]
    languages = [*LANGUAGES, ""]
    topic_w, region_w, language_w = _weights(len(topics)), _weights(len(regions)), _weights(len(languages))
    # More texts in the first hours after the number was published, then a long tail.
    hour_w = _weights(HOURS)
    for h, wh in enumerate(hour_w):
        hour = start + datetime.timedelta(hours=h)
        for topic, wt in zip(topics, topic_w, strict=True):
            for region, wr in zip(regions, region_w, strict=True):
                for language, wl in zip(languages, language_w, strict=True):
                    texts = round(messages * wh * wt * wr * wl)
                    if texts:
                        yield hour, topic, "MX" if region else "", region, language, texts, texts // 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    django_setup()
    from django.db import connection
    from django.db.models import Sum
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from leaders.migrating import platform_migrate
    from leaders.models import Leader
    from leaders.services import leader_create
    from topics.models import Topic
    from triage import selectors
    from triage.models import Count

    platform_migrate(verbosity=0)
    leader = Leader.objects.filter(slug=SLUG).first() or leader_create(
        slug=SLUG, name="Bench Triage Matrix", phone_number=leader_number_free(NUMBER)
    )
    with schema_context(leader.schema_name):
        topic_ids = []
        for position, name in enumerate(TOPICS, start=1):
            topic, _ = Topic.objects.get_or_create(name=name, defaults={"position": position})
            topic_ids.append(topic.pk)
        now = timezone.now()
        start = selectors.hour_floor(now) - datetime.timedelta(hours=HOURS - 1)
        started = time.perf_counter()
        Count.objects.all().delete()
        rows = 0
        total = 0
        with connection.cursor() as cursor:
            copy_sql = "COPY triage_count (hour, topic_id, country, region, language, texts, open) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in count_rows(messages=args.messages, topic_ids=topic_ids, start=start):
                    copy.write_row(row)
                    rows += 1
                    total += row[5]
            cursor.execute("ANALYZE triage_count")
        print(
            f"filled {rows:,} counter rows for {total:,} texts over {HOURS} h "
            f"({len(TOPICS)} topics, {len(REGIONS)} regions, {len(LANGUAGES)} languages) "
            f"in {time.perf_counter() - started:.1f}s"
        )

        def read(**kwargs):
            grid = selectors.matrix(**kwargs)
            return f"{grid.total:,} texts, {len(grid.rows)} rows × {len(grid.columns)} columns"

        since48 = now - datetime.timedelta(hours=48)
        since24 = now - datetime.timedelta(hours=24)
        time_median("matrix 48 h, regions, open texts", lambda: read(since=since48), args.runs)
        time_median(
            "matrix 48 h, regions, all texts", lambda: read(since=since48, measure="texts"), args.runs
        )
        time_median("matrix 24 h, regions, open texts", lambda: read(since=since24), args.runs)
        time_median(
            "matrix 48 h, languages, all texts",
            lambda: read(since=since48, axis="language", measure="texts"),
            args.runs,
        )
        time_median(
            "matrix 48 h, every region as a column",
            lambda: read(since=since48, columns_shown=None),
            args.runs,
        )
        time_median(
            "texts per topic this week (topics page)", lambda: len(selectors.topic_texts_since()), args.runs
        )

        counts = Count.objects.filter(hour__gte=selectors.hour_floor(since48))
        sql, params = (
            counts.values_list("topic_id", "region").annotate(n=Sum("open")).order_by()
        ).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN ANALYZE " + sql, params)
            print("plan of the matrix's query:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))
    print("target: the matrix at 1,000,000 texts answers in ≤ 100 ms")


if __name__ == "__main__":
    main()
