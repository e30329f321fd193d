"""The inbox's reads on a leader with many conversations: folders, keyset pages, filters, word search.

    python bench/console_inbox.py [--conversations 200000] [--runs 3]

Creates (or reuses) a dedicated leader "bench-inbox" in the development database, seeds synthetic members
(members.demo.members_seed, COPY) and one conversation per member with three texts (one INSERT … SELECT
each), then prints the time of each inbox read and the plans of the list and of the word search.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import django_setup, leader_number_free, time_median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLUG = "bench-inbox"
NUMBER = "+13125550143"

# One conversation per member that has none, spread over the last 120 days; about 1 in 8 unread, 1 in 4
# done; then three texts each (fan, team, fan), the last one the preview.
_CONVERSATIONS_SQL = """
INSERT INTO messaging_conversation
    (phone, member_id, status, unread_count, last_message_at, last_message_preview, created_at)
SELECT m.phone, m.id, CASE WHEN m.id %% 4 = 0 THEN 'done' ELSE 'open' END,
       CASE WHEN m.id %% 8 = 1 THEN 1 + m.id %% 3 ELSE 0 END,
       now() - (m.id %% 172800) * interval '1 minute', 'text ' || m.id, now() - interval '200 days'
FROM signup_member m
WHERE NOT EXISTS (SELECT 1 FROM messaging_conversation c WHERE c.phone = m.phone)
ORDER BY m.id LIMIT %(limit)s
"""
_MESSAGES_SQL = """
INSERT INTO messaging_message
    (conversation_id, member_id, phone, direction, kind, body, status, failure_reason, attempts,
     created_at, updated_at)
SELECT c.id, c.member_id, c.phone, t.direction, 'conversation',
       CASE WHEN t.n = 1 AND c.id %% 500 = 1 THEN 'When is the townhall meeting?'
            ELSE 'text ' || c.id || ' number ' || t.n END,
       CASE WHEN t.direction = 'in' THEN 'received' ELSE 'delivered' END, '', 0,
       c.last_message_at - (3 - t.n) * interval '1 hour', c.last_message_at
FROM messaging_conversation c
CROSS JOIN (VALUES (1, 'in'), (2, 'out'), (3, 'in')) AS t(n, direction)
WHERE NOT EXISTS (SELECT 1 FROM messaging_message x WHERE x.conversation_id = c.id)
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    # The bench database, never the development one: these seed hundreds of thousands of rows.
    django_setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django_tenants.utils import schema_context

    from console.inbox import selectors
    from leaders.migrating import platform_migrate
    from leaders.models import Leader
    from leaders.services import leader_create
    from members.demo import members_seed
    from members.models import Member
    from messaging.models import Conversation

    platform_migrate(verbosity=0)
    leader = Leader.objects.filter(slug=SLUG).first() or leader_create(
        slug=SLUG, name="Bench Inbox", phone_number=leader_number_free(NUMBER)
    )
    with schema_context(leader.schema_name):
        members = Member.objects.count()
        if members < args.conversations:
            members_seed(count=args.conversations - members, start_index=members)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(_CONVERSATIONS_SQL, {"limit": args.conversations})
            cursor.execute(_MESSAGES_SQL, {})
            cursor.execute("ANALYZE messaging_conversation; ANALYZE messaging_message; ANALYZE signup_member")
        print(f"seeded in {time.perf_counter() - started:.1f}s")
        total = Conversation.objects.count()
        print(f"leader {SLUG}: {total:,} conversations")
        user = get_user_model().objects.filter(is_active=True).first()
        city = Member.objects.exclude(city="").values_list("city", flat=True).first() or "Paris"

        def page(after=None, **filters):
            queryset = selectors.conversations_filter(selectors.InboxFilter(**filters), user=user)
            return selectors.conversations_page(queryset, after=after)

        time_median("open, page 1", lambda: len(page().conversations), args.runs)
        deep = Conversation.objects.filter(status="open").order_by("-last_message_at", "-id")[total // 3]
        deep_cursor = selectors.cursor_encode(deep)
        time_median(
            "open, page after a third of them (keyset)",
            lambda: len(page(deep_cursor).conversations),
            args.runs,
        )
        time_median("unread, page 1", lambda: len(page(folder="unread").conversations), args.runs)
        time_median("done, page 1", lambda: len(page(folder="done").conversations), args.runs)
        time_median("assigned to me, page 1", lambda: len(page(folder="mine").conversations), args.runs)
        time_median(f"city {city}, page 1", lambda: len(page(city=city).conversations), args.runs)
        time_median("tag vip, page 1", lambda: len(page(tag="vip").conversations), args.runs)
        time_median("words 'townhall', page 1", lambda: len(page(q="townhall").conversations), args.runs)
        time_median(
            "words with no match (worst case)", lambda: len(page(q="zzqx-nothing").conversations), args.runs
        )
        first = Conversation.objects.order_by("-last_message_at").first()
        time_median("a thread", lambda: len(selectors.thread_messages(first)), args.runs)

        with connection.cursor() as cursor:
            for label, filters in (("open list", {}), ("word search", {"q": "townhall"})):
                queryset = selectors.conversations_filter(selectors.InboxFilter(**filters), user=user)
                queryset = queryset.order_by("-last_message_at", "-id")[: selectors.PAGE_SIZE + 1]
                sql, params = queryset.query.sql_with_params()
                cursor.execute("EXPLAIN " + sql, params)
                print(f"plan of the {label}:\n  " + "\n  ".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
