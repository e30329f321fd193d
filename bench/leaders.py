"""Creating and migrating leaders when the platform has many: creation must stay flat.

    python -m bench.leaders [--leaders 1000] [--fresh] [--sample 5] [--parallel 2] [--no-new-migration]
                            [--baseline-schemas N] [--database NAME]

Runs against its own database (`community_bench`, on the development server), where it keeps its leaders
between runs (`--fresh` drops and rebuilds them). Prints:
- leader creation time, p50 over a few creations around the 1st and around the Nth leader, and their ratio
  (target: the 1,000th under 0.5 s and about equal to the 1st);
- `manage.py platform_migrate --parallel 2` over every schema with nothing to apply, next to the path
  before the replay (`--full`: django-tenants' migrate in each schema behind);
- the same when there is one new tenant migration to apply to every schema: a throwaway app in a temporary
  folder (its own settings module adds it to TENANT_APPS); afterwards its tables, migration rows, content
  types and permissions are removed from every schema and the folder is deleted, so nothing is left behind.
  The old path takes minutes there: `--baseline-schemas N` times it on N leaders' schemas only and
  extrapolates to all of them (labelled as such).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import BENCH_DATABASE, ROOT, django_setup, manage_command  # noqa: E402

SLUG_PREFIX = "bench-"
PROBE_APP = "bench_probe"
# The first creations are timed when the leaders are built; a later run that reuses them reports those.
TIMINGS_DDL = "CREATE SCHEMA IF NOT EXISTS bench; CREATE TABLE IF NOT EXISTS bench.timings (label text PRIMARY KEY, seconds float8[] NOT NULL, measured_at timestamptz NOT NULL DEFAULT now())"


def slug_for(index: int) -> str:
    return f"{SLUG_PREFIX}{index:05d}"


def backend_cpu_seconds() -> float | None:
    """CPU time used so far by this connection's PostgreSQL backend, when the server runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def number_for(index: int) -> str:
    """The index-th fictional number, or one from the second half of them (far beyond this bench's
    leaders) when another bench's leader already has it: the benches share the database."""
    from leaders.models import Leader
    from members.demo import FICTIONAL_LINES, fictional_number

    number = fictional_number(index)
    if Leader.objects.filter(phone_number=number).exists():
        number = fictional_number(FICTIONAL_LINES // 2 + index)
    return number


def leader_create_timed(index: int) -> tuple[float, float | None]:
    """(wall seconds, CPU seconds of this process and its PostgreSQL backend) to create one leader.

    On a busy machine the wall time swings with whatever else runs; the CPU time much less.
    """
    from leaders.services import leader_create

    number = number_for(index)
    server = backend_cpu_seconds()
    client = time.process_time()
    started = time.perf_counter()
    leader_create(slug=slug_for(index), name=f"Bench Leader {index}", phone_number=number)
    wall = time.perf_counter() - started
    client = time.process_time() - client
    after = backend_cpu_seconds()
    cpu = None if server is None or after is None else client + after - server
    return wall, cpu


def bench_leaders() -> list[int]:
    from leaders.models import Leader

    # Only this bench's numbered leaders: the other benches' share the database ("bench-inbound", …).
    numbered = Leader.objects.filter(slug__regex=rf"^{SLUG_PREFIX}[0-9]+$")
    return sorted(int(slug[len(SLUG_PREFIX) :]) for slug in numbered.values_list("slug", flat=True))


def leaders_drop(indexes: list[int]) -> None:
    """Delete bench leaders with their schemas (auto_drop_schema) and domains."""
    from leaders.models import Leader

    for index in indexes:
        for leader in Leader.objects.filter(slug=slug_for(index)):
            leader.delete(force_drop=True)


def timings_save(label: str, seconds: list[float]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(TIMINGS_DDL)
        cursor.execute(
            "INSERT INTO bench.timings (label, seconds) VALUES (%s, %s) "
            "ON CONFLICT (label) DO UPDATE SET seconds = EXCLUDED.seconds, measured_at = now()",
            [label, seconds],
        )


def timings_load(label: str) -> list[float] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(TIMINGS_DDL)
        cursor.execute("SELECT seconds FROM bench.timings WHERE label = %s", [label])
        row = cursor.fetchone()
    return list(row[0]) if row else None


def leaders_build(target: int, sample: int) -> list[tuple[float, float | None]]:
    """Create bench leaders up to `target`, timing the first `sample` when starting from none."""
    existing = bench_leaders()
    first: list[tuple[float, float | None]] = []
    if existing and existing != list(range(1, len(existing) + 1)):
        print("  bench leaders are not numbered 1..n: rebuilding them", flush=True)
        leaders_drop(existing)
        existing = []
    start = len(existing) + 1
    if start > target:
        return first
    print(f"  creating leaders {start}..{target} (progress every 50)", flush=True)
    started = time.perf_counter()
    for index in range(start, target + 1):
        seconds, cpu = leader_create_timed(index)
        if index <= sample:
            first.append((seconds, cpu))
        if index % 50 == 0 or index == target:
            elapsed = time.perf_counter() - started
            done = index - start + 1
            print(
                f"    {index:>5} leaders  {elapsed:6.0f}s  {done / elapsed:5.1f}/s  last {seconds * 1000:.0f} ms",
                flush=True,
            )
    if first:
        timings_save("first", [wall for wall, _ in first])
        if all(cpu is not None for _, cpu in first):
            timings_save("first_cpu", [cpu for _, cpu in first])
    return first


def migrate_timed(parallel: int, env: dict[str, str] | None = None, *, full: bool = False) -> float:
    """Seconds `manage.py platform_migrate` takes; `full` is the path before the replay (the baseline)."""
    started = time.perf_counter()
    command = manage_command("platform_migrate", "--parallel", str(parallel), "--verbosity", "0")
    if full:
        command.append("--full")
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"platform_migrate failed:\n{result.stderr[-3000:]}")
    return seconds


@contextlib.contextmanager
def probe_installed():
    """The environment of a manage.py that has one new tenant migration; every trace removed afterwards."""
    from tests.migration_probe import CREATE_PROBE, probe_app

    with tempfile.TemporaryDirectory(prefix="bench-probe-") as folder:
        settings_module = probe_app(Path(folder), app=PROBE_APP, migrations={"0001_initial": CREATE_PROBE})
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "PYTHONPATH": os.pathsep.join([folder, str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        try:
            yield env
        finally:
            probe_remove()


def migrate_new_migration_timed(parallel: int, baseline_schemas: int) -> dict[str, float | int]:
    """One new tenant migration applied everywhere: by the replay, then (undone) by the old path.

    The old path runs in every leader's schema, or, with `baseline_schemas` fewer than the leaders, in that
    many of them (the template and the others already have the migration from the replay's run).
    """
    from leaders.models import Leader

    figures: dict[str, float | int] = {}
    with probe_installed() as env:
        figures["new"] = migrate_timed(parallel, env)
        figures["new_reached"] = probe_schemas()
        schemas = list(Leader.objects.order_by("pk").values_list("schema_name", flat=True))
        if baseline_schemas >= len(schemas):
            probe_remove()
        else:
            probe_remove(schemas=schemas[:baseline_schemas])
        figures["old_schemas"] = min(baseline_schemas, len(schemas))
        figures["old"] = migrate_timed(parallel, env, full=True)
        figures["old_reached"] = probe_schemas()
    return figures


def probe_schemas() -> int:
    """How many schemas the probe migration reached (every leader's and the template)."""
    from tests.migration_probe import probe_schemas as schemas_holding

    return schemas_holding(app=PROBE_APP)


def probe_remove(schemas: list[str] | None = None) -> None:
    """Every trace of the probe app from `schemas`, by default from every schema."""
    from tests.migration_probe import probe_remove as remove

    remove(app=PROBE_APP, schemas=schemas)


def p50(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--leaders", type=int, default=1000, help="how many leaders the platform holds")
    parser.add_argument("--sample", type=int, default=5, help="creations timed around the 1st and the Nth")
    parser.add_argument("--parallel", type=int, default=2, help="platform_migrate --parallel")
    parser.add_argument("--fresh", action="store_true", help="drop the bench leaders and build them again")
    parser.add_argument(
        "--no-new-migration", action="store_true", help="skip timing a migration applied to every schema"
    )
    parser.add_argument(
        "--baseline-schemas",
        type=int,
        default=None,
        help="time the old path's new migration on this many leaders only, and extrapolate (default: all)",
    )
    parser.add_argument("--database", default=BENCH_DATABASE, help="bench database on the development server")
    args = parser.parse_args()
    if args.leaders < args.sample + 1:
        parser.error("--leaders must be larger than --sample")

    django_setup(args.database)
    from django.db import connection

    print(f"database: {connection.settings_dict['NAME']} on {connection.settings_dict['HOST'] or 'socket'}")
    probe_remove()  # what an interrupted run may have left
    started = time.perf_counter()
    migrate_timed(args.parallel)  # the bench database may be new, or behind the code
    print(f"migrated the bench database in {time.perf_counter() - started:.1f}s", flush=True)
    if args.fresh:
        existing = bench_leaders()
        print(f"  --fresh: dropping {len(existing)} bench leaders", flush=True)
        leaders_drop(existing)

    # The Nth leader: build up to N - sample, then time the last `sample` creations.
    built = leaders_build(args.leaders - args.sample, args.sample)
    first = [wall for wall, _ in built] or timings_load("first")
    first_cpu = [cpu for _, cpu in built if cpu is not None] or timings_load("first_cpu")
    count = len(bench_leaders())
    around = [leader_create_timed(index) for index in range(count + 1, count + args.sample + 1)]
    around_n = [wall for wall, _ in around]
    around_n_cpu = [cpu for _, cpu in around if cpu is not None]
    if count + args.sample > args.leaders:
        # Reused leaders: the timed extras go again, so the platform keeps exactly --leaders of them.
        leaders_drop(list(range(args.leaders + 1, count + args.sample + 1)))
    total = len(bench_leaders())

    print(
        f"\nleader creation, p50 of {args.sample}: wall clock, and CPU (this process + its PostgreSQL backend)"
    )
    label_n = f"around leader {count + 1:,}-{count + args.sample:,}"
    if first:
        cpu = f"{p50(first_cpu) * 1000:7.0f} ms CPU" if first_cpu else ""
        print(f"  {'around the 1st leader':<30} {p50(first) * 1000:7.0f} ms   {cpu}")
    else:
        print(f"  {'around the 1st leader':<30} not measured (run with --fresh)")
    cpu = f"{p50(around_n_cpu) * 1000:7.0f} ms CPU" if around_n_cpu else ""
    print(f"  {label_n:<30} {p50(around_n) * 1000:7.0f} ms   {cpu}   (target < 500 ms)")
    if first:
        ratio = f"{p50(around_n) / p50(first):7.2f}"
        if first_cpu and around_n_cpu:
            ratio += f"   CPU {p50(around_n_cpu) / p50(first_cpu):5.2f}"
        print(f"  {'ratio Nth / 1st':<30} {ratio}   (target ≈ 1)")

    nothing_new = migrate_timed(args.parallel)
    nothing_old = migrate_timed(args.parallel, full=True)
    print(f"\nplatform_migrate --parallel {args.parallel}, {total:,} leaders, nothing to apply")
    print(f"  {'replayed SQL (today)':<34} {nothing_new:7.1f}s   (target <= 5 s)")
    print(f"  {'full migrate per schema (--full)':<34} {nothing_old:7.1f}s")
    if args.no_new_migration:
        print("migration applied to every schema: skipped (--no-new-migration)")
        return
    baseline = total if args.baseline_schemas is None else args.baseline_schemas
    figures = migrate_new_migration_timed(args.parallel, baseline)
    print(
        f"platform_migrate --parallel {args.parallel}, {total:,} leaders + template, "
        "one new migration (CreateModel + index)"
    )
    print(
        f"  {'replayed SQL (today)':<34} {figures['new']:7.1f}s   in {figures['new_reached']:,} schemas"
        "   (target <= 60 s)"
    )
    old, old_schemas = float(figures["old"]), int(figures["old_schemas"])
    if old_schemas >= total:
        print(
            f"  {'full migrate per schema (--full)':<34} {old:7.1f}s   in {figures['old_reached']:,} schemas"
        )
    else:
        # What does not grow with the schemas (starting Python, public and template) is the nothing-to-apply
        # run's; the rest is taken as proportional to the schemas.
        extrapolated = nothing_old + (old - nothing_old) * total / max(old_schemas, 1)
        print(
            f"  {'full migrate per schema (--full)':<34} {old:7.1f}s   measured on {old_schemas:,} leaders' "
            f"schemas only; EXTRAPOLATED to {total:,}: {extrapolated:.0f}s"
        )


if __name__ == "__main__":
    main()
