"""Broadcast engine figures with a million members, each next to a baseline measured in the same run.

    python bench/broadcast.py [--members 1000000] [--send N] [--dispatchers N]

1. Audience count for a combined filter (two cities + gender + age range): target ≤ 150 ms. Baseline: a bare
   ``SELECT count(*)`` of the member table.
2. Queueing a broadcast to every reachable member (one INSERT … SELECT with quiet-hours due times): target
   within 3× a bare ``INSERT INTO t (broadcast_id, member_id) SELECT 1, id FROM signup_member`` into a
   two-column table without indexes.
3. Dispatch against the fake Twilio in its own process (no rate cap), statuses persisted: target ≥ 3,000
   messages/s end to end and ≥ 70% of the bare twilio async client's best rate against the same fake; each
   dispatch process stays under 300 MB resident (peak RSS, sampled).

   How many dispatch processes: by default ``BROADCAST_DISPATCHERS`` (2), the number of dispatch tasks
   production starts per broadcast, each in its own queue worker process (``Q_BROADCAST_WORKERS`` = 2), so the
   figure is what one broadcast gets on a two-core machine with the default settings. The bare client is given
   its best shot in the same run: the stock client exactly as its README shows it (``create_async`` with its
   own ``AsyncTwilioHttpClient``), at the best of several concurrencies, in one process and in as many
   processes as there are dispatchers at once; the baseline is the better of the two. The ratio therefore
   compares like with like (as many processes, both cores, the same fake) and the baseline does no database
   work at all, so it flatters the baseline if anything.

The bench leader ("bench-broadcast") and its members are created on the first run and reused afterwards.
Not a test: it prints figures and ratios, and takes minutes (seeding a million members the first time, then
sending to all of them at a few thousand per second).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLUG = "bench-broadcast"
NUMBER = "+12025550177"  # fictional: 555-01XX
COMBINED_FILTER = {
    "cities": ["Montréal, CA", "Toronto, CA"],
    "genders": ["female"],
    "age_min": 18,
    "age_max": 34,
}


def setup_django() -> None:
    import logging

    from bench import django_setup

    django_setup()  # the bench database (community_bench), never the development one
    logging.getLogger("twilio").setLevel(logging.WARNING)  # its client logs every request at INFO


def bench_leader(members: int):
    from bench import bench_leader_with_members

    return bench_leader_with_members(slug=SLUG, name="Broadcast Bench", number=NUMBER, members=members)


def timed(function, runs: int = 5) -> tuple[float, float]:
    """(best, median) seconds of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def bench_audience(leader) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from members.audience import AudienceFilter, audience_count

    with schema_context(leader.schema_name):
        audience = AudienceFilter.from_dict(COMBINED_FILTER)
        count = audience_count(audience)

        def bare() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM signup_member")
                cursor.fetchone()

        best, median = timed(lambda: audience_count(audience))
        bare_best, _ = timed(bare, runs=3)
    verdict = "OK" if best <= 0.150 else "OVER TARGET"
    print(
        f"audience count (2 cities + gender + age 18-34 → {count:,} members): best {best * 1000:.1f} ms, "
        f"median {median * 1000:.1f} ms (target ≤ 150 ms: {verdict}); "
        f"bare count(*) of all members {bare_best * 1000:.1f} ms, ratio {best / bare_best:.2f}"
    )


def partitions_drop() -> None:
    """Previous runs' deliveries, one table per broadcast, dropped (in the current schema)."""
    from django.db import connection

    from messaging.models import Delivery

    with connection.cursor() as cursor:
        for partition in Delivery.partition_names():
            cursor.execute(f'DROP TABLE "{partition}"')


def bare_queue_seconds(members_sql: str = "SELECT id FROM signup_member", params=()) -> tuple[float, int]:
    """The queueing baseline, in the current schema: (seconds, rows) of a bare ``INSERT … SELECT 1, id``
    of `members_sql`'s members into a two-column table without indexes, in a transaction of its own, after a
    checkpoint (so that neither side pays the other's writes)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_delivery")
        cursor.execute("CREATE TABLE bench_bare_delivery (broadcast_id integer, member_id bigint)")
        cursor.execute("CHECKPOINT")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO bench_bare_delivery (broadcast_id, member_id) SELECT 1, m.id FROM ({members_sql}) m",
            params,
        )
        rows = cursor.rowcount
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_bare_delivery")
        cursor.execute("CHECKPOINT")
    return seconds, rows


def bench_queue(leader):
    from django_tenants.utils import schema_context

    from messaging.broadcasts.compose import broadcast_create
    from messaging.broadcasts.queueing import broadcast_queue

    with schema_context(leader.schema_name):
        partitions_drop()
        bare, bare_rows = bare_queue_seconds()
        broadcast = broadcast_create(leader=leader, body="Rally Saturday at 10am, City Hall. Bring a friend!")
        started = time.perf_counter()
        count = broadcast_queue(leader=leader, broadcast=broadcast)
        queued = time.perf_counter() - started
    verdict = "OK" if queued <= 3 * bare else "OVER TARGET"
    print(
        f"queueing to {count:,} members (quiet hours on): {queued:.2f} s; bare two-column INSERT … SELECT of "
        f"{bare_rows:,} rows {bare:.2f} s; ratio {queued / bare:.2f} (target ≤ 3: {verdict})"
    )
    return broadcast


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    host = db["HOST"]
    if host.startswith("/"):
        url = f"postgresql://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={host}"
        return url + (f"&port={db['PORT']}" if db["PORT"] else "")
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT']}/{db['NAME']}"


def bench_dispatch(leader, broadcast, *, send: int | None, dispatchers: int) -> None:
    import psutil
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from bench.transport_rate import bench_bare, bench_bare_processes
    from leaders.models import Leader
    from messaging.models import Broadcast, Delivery, DeliveryStatus
    from tests.fake_twilio import FakeTwilioProcess

    Leader.objects.filter(pk=leader.pk).update(segments_per_second=10**8)  # no rate cap
    with FakeTwilioProcess(magic_numbers=False) as fake:
        by_concurrency = {c: bench_bare(fake, 5000, 2, c)[0] for c in (50, 100, 200)}
        best = max(by_concurrency, key=by_concurrency.__getitem__)
        bare_one = by_concurrency[best]
        bare_many = bench_bare_processes(fake, 5000, best, dispatchers) if dispatchers > 1 else 0.0
        bare_rate = max(bare_one, bare_many)
        fake.clear()
        with schema_context(leader.schema_name):
            total = Broadcast.objects.get(pk=broadcast.pk).recipient_count
            # Members in quiet hours now (Los Angeles at dawn…) are due later: make everyone due for the bench.
            Delivery.objects.filter(broadcast=broadcast, status=DeliveryStatus.QUEUED).update(
                due_at=timezone.now()
            )
            if send is not None and send < total:
                # Send to the first `send` members only: cancel the others up front.
                keep = (
                    Delivery.objects.filter(broadcast=broadcast)
                    .order_by("member_id")
                    .values_list("member_id", flat=True)[send]
                )
                Delivery.objects.filter(broadcast=broadcast, member_id__gte=keep).update(
                    status=DeliveryStatus.CANCELLED
                )
                total = send
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_API_BASE_URL": fake.base_url,
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, "manage.py", "broadcast", SLUG, "dispatch", str(broadcast.pk)]
        started = time.perf_counter()
        workers = [subprocess.Popen(command, cwd=ROOT, env=env) for _ in range(dispatchers)]
        peak_rss = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_rss
            while not stop.is_set():
                for worker in workers:
                    with contextlib.suppress(psutil.Error):
                        peak_rss = max(peak_rss, psutil.Process(worker.pid).memory_info().rss)
                stop.wait(0.5)

        def drain() -> None:
            while not stop.wait(5):  # keep the fake's memory flat: it records every message
                fake.clear()

        threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=drain, daemon=True)]
        for thread in threads:
            thread.start()
        for worker in workers:
            worker.wait()
        elapsed = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
    with schema_context(leader.schema_name):
        from django.db.models import Max, Min

        broadcast.refresh_from_db()
        unsent = Delivery.objects.filter(broadcast=broadcast, status__in=[0, 1]).count()
        span = Delivery.objects.filter(broadcast=broadcast, sent_at__isnull=False).aggregate(
            first=Min("sent_at"), last=Max("sent_at")
        )
    rate = broadcast.sent_count / elapsed
    # Without the worker's start (imports, connections) and its last scans: what a long broadcast sees.
    steady = broadcast.sent_count / max(0.001, (span["last"] - span["first"]).total_seconds())
    print(
        f"dispatch of {broadcast.sent_count:,} messages ({dispatchers} process(es), statuses persisted, "
        f"{unsent} left unsent): {elapsed:.1f} s, {rate:,.0f} messages/s from start to exit, {steady:,.0f} "
        "messages/s from first to last recorded "
        f"(target ≥ 3,000: {'OK' if rate >= 3000 else 'UNDER TARGET'}); bare twilio async client against the "
        f"same fake {bare_rate:,.0f} messages/s (best of 1 process: {bare_one:,.0f} at concurrency {best}"
        + (f", {dispatchers} processes: {bare_many:,.0f}" if dispatchers > 1 else "")
        + f"), ratio {rate / bare_rate:.2f} (steady {steady / bare_rate:.2f}) "
        f"(target ≥ 0.70: {'OK' if rate >= 0.7 * bare_rate else 'UNDER TARGET'})"
    )
    print(
        f"dispatch process peak resident memory (the largest of {dispatchers}): {peak_rss / 2**20:.0f} MB "
        f"(target < 300 MB: {'OK' if peak_rss < 300 * 2**20 else 'OVER TARGET'})"
    )
    del total


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--send", type=int, default=None, help="dispatch to this many only (default: all)")
    parser.add_argument(
        "--dispatchers",
        type=int,
        default=None,
        help="dispatch processes sharing the broadcast (default: BROADCAST_DISPATCHERS, as in production)",
    )
    parser.add_argument("--skip-dispatch", action="store_true")
    args = parser.parse_args()
    setup_django()
    if args.dispatchers is None:
        from messaging.broadcasts.tasks import dispatchers

        args.dispatchers = dispatchers()
    leader = bench_leader(args.members)
    bench_audience(leader)
    broadcast = bench_queue(leader)
    if not args.skip_dispatch:
        bench_dispatch(leader, broadcast, send=args.send, dispatchers=args.dispatchers)


if __name__ == "__main__":
    main()
