"""How long one page of `GET /api/v1/members/` takes, at the start and deep into a large community.

    python bench/api_pagination.py [--members 1000000] [--pages 20]

Seeds a throwaway leader with N synthetic members (COPY, members.demo), then times pages through the whole
Django stack (test client, token auth, throttle, serializers): the first page, pages deep in the list (the
cursor of a member near the end), pages with a filter, and, for scale, what an OFFSET page at the same depth
costs in SQL. Cursor pages should cost the same at any depth; the OFFSET line shows why the API does not use
them. Uses the development database (DATABASE_URL or the embedded server); drops its leader at the end.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")


def _cursor(member_id: int) -> str:
    # The same encoding as DRF's CursorPagination: base64 of a query string with the position.
    return base64.b64encode(urlencode({"p": str(member_id)}).encode()).decode()


def _timed(client, path: str, params: dict, headers: dict, pages: int) -> float:
    times = []
    for _ in range(pages):
        started = time.perf_counter()
        response = client.get(path, params, **headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from accounts.models import User
    from api.services import api_token_create
    from bench import leader_number_free
    from leaders.schemas import template_schema_migrate
    from leaders.services import leader_create, leader_user_create
    from members.demo import members_seed
    from members.models import Member

    call_command("migrate_schemas", schema_name="public", interactive=False, verbosity=0)
    template_schema_migrate()
    slug = f"bench-api-{secrets.token_hex(3)}"
    leader = leader_create(
        slug=slug,
        name="Bench API",
        phone_number=leader_number_free(f"+1202555{secrets.randbelow(100) + 100:04d}"),
    )
    try:
        leader_user_create(
            leader=leader, username="owner", role=User.Role.OWNER, password=secrets.token_hex(8)
        )
        with schema_context(leader.schema_name):
            started = time.perf_counter()
            members_seed(count=args.members)
            print(f"seeded {args.members:,} members in {time.perf_counter() - started:.1f} s")
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE signup_member")
            _token, raw = api_token_create(user=User.objects.get(username="owner"), name="bench")
            last_id = Member.objects.order_by("-id").values_list("id", flat=True).first()
        client = Client(HTTP_HOST=leader.get_primary_domain().domain)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        from django.conf import settings

        settings.API_THROTTLE_RATE = "1000000/minute"
        path = "/api/v1/members/"
        print(f"first page (50):              {_timed(client, path, {}, headers, args.pages):7.1f} ms")
        deep = {"cursor": _cursor(last_id - 200)}
        print(f"page near the end (50):       {_timed(client, path, deep, headers, args.pages):7.1f} ms")
        print(
            f"first page, limit 200:        {_timed(client, path, {'limit': 200}, headers, args.pages):7.1f} ms"
        )
        filtered = {"countries": "CA", "languages": "fr"}
        print(f"filtered first page:          {_timed(client, path, filtered, headers, args.pages):7.1f} ms")
        print(
            f"filtered page near the end:   {_timed(client, path, {**filtered, **deep}, headers, args.pages):7.1f} ms"
        )
        print(
            f"tag filter page:              {_timed(client, path, {'tags': 'volunteer'}, headers, args.pages):7.1f} ms"
        )
        with schema_context(leader.schema_name), connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(
                "SELECT * FROM signup_member ORDER BY id OFFSET %s LIMIT 50", [max(args.members - 250, 0)]
            )
            cursor.fetchall()
            print(
                f"for scale, an OFFSET page there (SQL only): {(time.perf_counter() - started) * 1000:7.1f} ms"
            )
    finally:
        leader.delete(force_drop=True)


if __name__ == "__main__":
    main()
