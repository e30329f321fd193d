"""The console's reads on a leader with a million members: dashboard aggregates, member pages, search.

    python bench/console_dashboard.py [--members 1000000] [--runs 3]

Creates (or reuses) a dedicated leader "bench-console" in the development database and seeds it with
synthetic members (members.demo.members_seed, COPY) up to --members, then prints the time of each read and
the plan of the dashboard query. Seeding a million members takes a few minutes the first time only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import django_setup, leader_number_free, time_median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLUG = "bench-console"
NUMBER = "+13125550142"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    # The bench database, never the development one: these seed hundreds of thousands of rows.
    django_setup()
    from django.db import connection
    from django_tenants.utils import schema_context

    from console.dashboard import selectors
    from leaders.migrating import platform_migrate
    from leaders.models import Leader
    from leaders.services import leader_create
    from members import selectors as member_selectors
    from members.demo import members_seed
    from members.models import Member

    platform_migrate(verbosity=0)
    leader = Leader.objects.filter(slug=SLUG).first() or leader_create(
        slug=SLUG, name="Bench Console", phone_number=leader_number_free(NUMBER)
    )
    with schema_context(leader.schema_name):
        existing = Member.objects.count()
        if existing < args.members:
            started = time.perf_counter()
            members_seed(count=args.members - existing, start_index=existing)
            print(f"seeded {args.members - existing} members in {time.perf_counter() - started:.1f}s")
        total = Member.objects.count()
        print(f"leader {SLUG}: {total:,} members")

        def dashboard():
            stats = selectors.dashboard_stats_compute(leader=leader)
            return f"total={stats.total}, cities={len(stats.cities)}, days={len(stats.daily_joins)}"

        time_median("dashboard aggregates (one pass + 90-day chart + unread)", dashboard, args.runs)

        def page(after=None, filters=None):
            queryset = member_selectors.members_filter(Member.objects.all(), filters or {})
            return member_selectors.members_page(queryset, after=after)

        first = page()
        time_median("members page 1", lambda: len(page().members), args.runs)
        # A cursor deep in the list: the 500,000th newest member.
        deep_member = Member.objects.order_by("-joined_at", "-id")[min(total - 1, total // 2)]
        deep_cursor = member_selectors.cursor_encode(deep_member)
        time_median(
            "members page after the middle member (keyset)", lambda: len(page(deep_cursor).members), args.runs
        )
        time_median(
            "filter: women 18-34 in CA, page 1",
            lambda: len(
                page(
                    filters={"genders": ["female"], "age_min": 18, "age_max": 34, "countries": ["CA"]}
                ).members
            ),
            args.runs,
        )
        time_median(
            "filter: tag vip, page 1", lambda: len(page(filters={"tags": ["vip"]}).members), args.runs
        )
        time_median(
            "search: last digits of a phone",
            lambda: len(page(filters={"q": first.members[0].phone[-6:]}).members),
            args.runs,
        )
        time_median(
            "search: first name prefix 'Chlo'", lambda: len(page(filters={"q": "Chlo"}).members), args.runs
        )
        time_median("search: 'maya gar'", lambda: len(page(filters={"q": "maya gar"}).members), args.runs)
        time_median(
            "search: email prefix", lambda: len(page(filters={"q": "emma.martin"}).members), args.runs
        )

        def export_count():
            count = 0
            for _row in member_selectors.members_export_rows(Member.objects.all()):
                count += 1
            return f"{count} rows"

        time_median("export: every row through the server-side cursor", export_count, 1)

        with connection.cursor() as cursor:
            queryset = member_selectors.members_filter(Member.objects.all(), {"q": "Chlo"}).order_by(
                "-joined_at", "-id"
            )[:51]
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            print("plan of the name search:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))
            queryset = member_selectors.members_filter(Member.objects.all(), {"q": "0142"}).order_by(
                "-joined_at", "-id"
            )[:51]
            sql, params = queryset.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            print("plan of the phone search:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
