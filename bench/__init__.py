"""Benchmarks: `make bench` (`python -m bench`) runs every module here that has a `main()`.

They print figures; they are not timed tests. A benchmark that needs Django calls `django_setup()` first,
which points it at a database of its own (`community_bench` by default) on the same PostgreSQL server as
development (DATABASE_URL's server, or the embedded one), so development data is never touched.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# The bench's own ledger key, for the bench process and the production-mode servers it starts alike (the
# development default is refused in production, and both must hash phones the same way).
os.environ.setdefault("CONSENT_HASH_KEY", "bench-only-consent-ledger-key")
BENCH_DATABASE = "community_bench"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def bench_database_url(name: str = BENCH_DATABASE) -> str:
    """The URL of database `name` on the development server, created (empty) when missing."""
    import psycopg

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from community.database import embedded_database_url

    base = os.environ.get("DATABASE_URL", "").strip()
    if not base:
        # Starts (or attaches to) the embedded server; community.database keeps it alive for this process.
        data_dir = Path(os.environ.get("EMBEDDED_DATABASE_DIR") or ROOT / ".data" / "postgres")
        base = embedded_database_url(data_dir)
    with psycopg.connect(_with_database(base, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(base, name)


def django_setup(database: str = BENCH_DATABASE) -> str:
    """Point Django at the bench database (before settings load) and set it up; returns its URL.

    Child processes started afterwards (manage.py, workers) inherit DATABASE_URL and use it too.
    """
    url = bench_database_url(database)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")
    import django

    django.setup()
    return url


def time_median(label: str, func, runs: int) -> None:
    """Run func `runs` times and print its median and best time with what it returned."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    print(
        f"{label:<48} median {statistics.median(times) * 1000:8.1f} ms  (best {min(times) * 1000:.1f}; {result})"
    )


def manage_command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def _cpu_seconds(processes, *, children: bool = False) -> float:
    """User + system CPU so far of these processes; with `children`, also of the children they waited for
    (PostgreSQL's postmaster: a backend that ended meanwhile still counts, through its parent)."""
    import psutil

    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
        if children:
            total += times.children_user + times.children_system
    return total


def server_cpu_seconds(process) -> float:
    """User + system CPU so far of a server's worker processes (gunicorn's children): steadier than wall
    time on a busy machine."""
    import psutil

    return _cpu_seconds(psutil.Process(process.pid).children(recursive=True))


def database_cpu_seconds() -> float:
    """User + system CPU so far of this machine's PostgreSQL processes (0.0 when the database runs
    elsewhere): what a request costs the database, beside what it costs the server."""
    import psutil

    return _cpu_seconds(
        (
            process
            for process in psutil.process_iter(["name"])
            if process.info["name"] in ("postgres", "postmaster")
        ),
        children=True,
    )


def machine_busy_share(before, after) -> float:
    """The share of this machine's CPU time that was busy between two psutil.cpu_times() readings."""
    total = sum(after) - sum(before)
    idle = (after.idle + getattr(after, "iowait", 0.0)) - (before.idle + getattr(before, "iowait", 0.0))
    return 1.0 - idle / total if total > 0 else 0.0


def leader_number_free(preferred: str) -> str:
    """`preferred` when no leader of the bench database has it, else a free fictional number from the back
    half of them: the leaders bench creates a thousand leaders from the front half, which may include the
    number another bench prefers."""
    from leaders.models import Leader
    from members.demo import FICTIONAL_LINES, fictional_number

    taken = set(Leader.objects.values_list("phone_number", flat=True))
    if preferred not in {str(number) for number in taken}:
        return preferred
    taken_text = {str(number) for number in taken}
    for index in range(FICTIONAL_LINES - 1, FICTIONAL_LINES // 2, -1):
        if fictional_number(index) not in taken_text:
            return fictional_number(index)
    raise SystemExit("no free fictional number left for a bench leader")


def bench_leader_with_members(*, slug: str, name: str, number: str, members: int, **fields):
    """The bench database's leader `slug` (made once, `fields` set on it every run) with at least `members`
    seeded members (COPY, once; reused by later runs), their table vacuumed and analysed: index-only scans
    need the visibility map, which autovacuum keeps up in production."""
    import time

    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from leaders.models import Leader
    from leaders.services import leader_create
    from members.demo import members_seed
    from members.models import Member

    call_command("platform_migrate", verbosity=0)
    leader = Leader.objects.filter(slug=slug).first()
    if leader is None:
        leader = leader_create(slug=slug, name=name, phone_number=leader_number_free(number))
    if fields:
        Leader.objects.filter(pk=leader.pk).update(**fields)
        leader.refresh_from_db()
    with schema_context(leader.schema_name):
        existing = Member.objects.count()
        if existing < members:
            started = time.perf_counter()
            print(f"seeding {members - existing:,} members (once; reused by later runs)…", flush=True)
            members_seed(count=members - existing, start_index=existing)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE signup_member")
    return leader


# A bench server runs the production settings (DEBUG off), over plain HTTP on loopback where a deployment
# has TLS in front, and mails nothing.
PRODUCTION_ON_LOOPBACK = {
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
}
