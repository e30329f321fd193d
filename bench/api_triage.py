"""How long a page of `GET /api/v1/messages/` and `conversations/` takes with triage filters, in a leader
with a million triaged texts.

    python bench/api_triage.py [--texts 1000000] [--pages 10]

Seeds a throwaway leader with N synthetic inbound texts in N/10 conversations (one SQL statement each:
generate_series), each labelled as triage would (5 topics, one in five unsorted; 5 languages; 10 Mexican
regions; a reply due in the past for one conversation in seven), then times pages through the whole Django
stack (test client, token, throttle, serializers) for each filter. Uses the development database
(DATABASE_URL or the embedded server); drops its leader at the end.
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "community.settings")

REGIONS = (
    "'Jalisco','Nuevo León','Oaxaca','Chiapas','Yucatán','Sonora','Puebla','Veracruz','Guerrero','Sinaloa'"
)


def _seed(texts: int) -> int:
    """N texts, their conversations and labels; the first topic's id."""
    from django.db import connection

    conversations = max(texts // 10, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO topics_topic (name, description, examples, keywords, position, created_at, updated_at)"
            " SELECT 'Topic ' || i, '', '{}', '{}', i, now(), now() FROM generate_series(1, 5) i"
        )
        cursor.execute("SELECT min(id) FROM topics_topic")
        first_topic = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO messaging_conversation (phone, status, unread_count, last_message_at,"
            " last_message_preview, created_at, reply_due_at)"
            " SELECT '+1555' || lpad(i::text, 7, '0'), 'open', 0, now() - (i || ' seconds')::interval, '', now(),"
            " CASE WHEN i %% 7 = 0 THEN now() - interval '1 hour' WHEN i %% 7 = 1 THEN now() + interval '1 hour' END"
            " FROM generate_series(1, %s) i",
            [conversations],
        )
        cursor.execute("SELECT min(id) FROM messaging_conversation")
        base = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO messaging_message (conversation_id, phone, direction, kind, body, status,"
            " failure_reason, attempts, created_at, updated_at)"
            " SELECT %s + (i %% %s), '+1555' || lpad(((i %% %s) + 1)::text, 7, '0'), 'in', 'conversation',"
            " 'el agua no llega', 'received', '', 0, now() - ((%s - i) || ' seconds')::interval, now()"
            " FROM generate_series(1, %s) i",
            [base, conversations, conversations, texts, texts],
        )
        cursor.execute(
            "INSERT INTO triage_label (message_id, conversation_id, topic_id, confidence, language, country,"
            " region, city, place_source, received_at, triaged_at, open)"
            " SELECT m.id, m.conversation_id,"
            " CASE WHEN m.id %% 5 = 0 THEN NULL ELSE %s + (m.id %% 5) - 1 END, 0.8,"
            " (ARRAY['es','en','fr','de','ar'])[1 + (m.id / 3) %% 5], 'MX',"
            f" (ARRAY[{REGIONS}])[1 + (m.id / 7) %% 10], '', 'phone', m.created_at, now(), true"
            " FROM messaging_message m",
            [first_topic],
        )
        cursor.execute("ANALYZE")
    return first_topic


def _timed(client, path: str, params: dict, headers: dict, pages: int) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(pages):
        started = time.perf_counter()
        response = client.get(path, params, **headers)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.content[:300]
        rows = len(response.json()["results"])
    return statistics.median(times) * 1000, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=10)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from accounts.models import User
    from api.services import api_token_create
    from bench import leader_number_free
    from leaders.schemas import template_schema_migrate
    from leaders.services import leader_create, leader_user_create

    call_command("migrate_schemas", schema_name="public", interactive=False, verbosity=0)
    template_schema_migrate()
    leader = leader_create(
        slug=f"bench-triage-api-{secrets.token_hex(3)}",
        name="Bench triage API",
        phone_number=leader_number_free(f"+1202555{secrets.randbelow(100) + 300:04d}"),
    )
    try:
        leader_user_create(
            leader=leader, username="owner", role=User.Role.OWNER, password=secrets.token_hex(8)
        )
        with schema_context(leader.schema_name):
            started = time.perf_counter()
            topic = _seed(args.texts)
            print(f"seeded {args.texts:,} triaged texts in {time.perf_counter() - started:.1f} s")
            _token, raw = api_token_create(user=User.objects.get(username="owner"), name="bench")
        client = Client(HTTP_HOST=leader.get_primary_domain().domain)
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        settings.API_THROTTLE_RATE = "1000000/minute"
        # The texts are a second apart, the newest now: before this are the oldest ones.
        ten_days_ago = (timezone.now() - datetime.timedelta(seconds=args.texts * 9 // 10)).isoformat()
        cases = [
            ("messages/", {}),
            ("messages/", {"direction": "inbound"}),
            ("messages/", {"topic": topic}),
            ("messages/", {"topic": "unsorted"}),
            ("messages/", {"region": "oaxaca"}),
            ("messages/", {"language": "es", "country": "MX"}),
            ("messages/", {"topic": topic, "region": "jalisco", "language": "es"}),
            (
                "messages/",
                {"topic": topic, "received_before": "2000-01-01"},
            ),  # nothing: the label index says so
            ("messages/", {"topic": topic, "received_before": ten_days_ago}),  # the oldest tenth of the texts
            ("messages/", {"topic": topic, "language": "xx"}),  # nothing, which only a whole scan can tell
            ("conversations/", {}),
            ("conversations/", {"topic": topic}),
            ("conversations/", {"region": "Oaxaca"}),
            ("conversations/", {"overdue": "true"}),
            ("conversations/", {"topic": topic, "region": "Jalisco", "overdue": "true"}),
        ]
        for path, params in cases:
            ms, rows = _timed(client, f"/api/v1/{path}", params, headers, args.pages)
            query = "&".join(f"{k}={v}" for k, v in params.items())
            print(f"{path + ('?' + query if query else ''):70s} {ms:7.1f} ms ({rows} rows)")
    finally:
        leader.delete(force_drop=True)


if __name__ == "__main__":
    main()
