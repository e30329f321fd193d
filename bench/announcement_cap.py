"""The announcement cap's cost when a broadcast queues, at a million members, next to the same queueing
without a cap, measured in the same run.

    python bench/announcement_cap.py [--members 1000000] [--runs 3]

Each run queues four broadcasts to every reachable member (quiet hours on) into fresh partitions:
1. no cap (the baseline: what queueing costs today);
2. cap 2, one broadcast in the last 7 days: fewer than the cap, so nobody can be over it and the cap costs
   one indexed read of the recent broadcasts;
3. cap 2 after "everyone" (1) and "half" (a broadcast to the women, about half the members): the members
   in both are over the cap; the statement counts each member's deliveries over the recent broadcasts'
   partitions (a hash aggregate) and leaves them out;
4. as 3, after a third broadcast to everyone: every member is over it (nothing is inserted, everyone is
   counted).
Target: case 3 within 2× the baseline (the cap reads the recent deliveries once: about as many rows as the
broadcast writes).

Its own database (community_bench_cap) and leader ("bench-cap"), seeded on the first run and reused, so the
other benchmarks' data and timings are not touched. Not a test: it prints figures and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLUG = "bench-cap"
NUMBER = "+12025550178"  # fictional: 555-01XX
DATABASE = "community_bench_cap"


def bench_leader(members: int):
    from bench import bench_leader_with_members

    return bench_leader_with_members(slug=SLUG, name="Cap Bench", number=NUMBER, members=members)


def _fresh(leader) -> None:
    """No broadcast left from an earlier run: partitions dropped, broadcasts deleted, a checkpoint."""
    from django.db import connection

    from messaging.models import Broadcast, Delivery

    with connection.cursor() as cursor:
        for partition in Delivery.partition_names():
            cursor.execute(f'DROP TABLE "{partition}"')
        Broadcast.objects.all().delete()
        cursor.execute("CHECKPOINT")


def _queue(leader, *, cap: int, filters: dict | None = None) -> tuple[float, int, int]:
    """(seconds, queued, capped) of one broadcast queued under `cap`."""
    from leaders.models import Leader
    from messaging.broadcasts.compose import broadcast_create
    from messaging.broadcasts.queueing import broadcast_queue

    Leader.objects.filter(pk=leader.pk).update(announcement_cap=cap)
    leader.refresh_from_db()
    broadcast = broadcast_create(leader=leader, body="Rally Saturday at 10am, City Hall.", filters=filters)
    started = time.perf_counter()
    count = broadcast_queue(leader=leader, broadcast=broadcast)
    seconds = time.perf_counter() - started
    broadcast.refresh_from_db()
    return seconds, count, broadcast.capped_count


def one_run(leader) -> dict[str, tuple[float, int, int]]:
    from django_tenants.utils import schema_context

    with schema_context(leader.schema_name):
        _fresh(leader)
        figures = {"no cap": _queue(leader, cap=0)}
        _fresh(leader)
        _queue(leader, cap=0)
        figures["cap 2, 1 recent"] = _queue(leader, cap=2)
        _fresh(leader)
        _queue(leader, cap=0)
        _queue(leader, cap=0, filters={"genders": ["female"]})
        figures["cap 2, half over"] = _queue(leader, cap=2)
        figures["cap 2, all over"] = _queue(leader, cap=2)
        _fresh(leader)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from bench import django_setup

    django_setup(DATABASE)
    leader = bench_leader(args.members)
    one_run(leader)  # warm: the process's time zone list, the caches, the table's pages
    runs = [one_run(leader) for _ in range(args.runs)]
    baseline = statistics.median(run["no cap"][0] for run in runs)
    for case in runs[0]:
        seconds = statistics.median(run[case][0] for run in runs)
        _, queued, capped = runs[-1][case]
        print(
            f"{case:>18}: median {seconds:.2f} s over {args.runs} runs, queued {queued:,}, capped {capped:,}; "
            f"ratio to no cap {seconds / baseline:.2f}"
        )
    half = statistics.median(run["cap 2, half over"][0] for run in runs)
    verdict = "OK" if half <= 2 * baseline else "OVER TARGET"
    print(f"cap with half the members over it: {half / baseline:.2f}× the baseline (target ≤ 2: {verdict})")


if __name__ == "__main__":
    main()
