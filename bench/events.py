"""Events (issue 15): an alert's audience previewed and queued over a million members, and a burst of RSVPs by
text through the real webhook; each figure next to a baseline measured in the same run. Printed, never asserted.

    python -m bench events [--members 1000000] [--km 25] [--runs 5] [--queue-runs 3] [--rsvps 100000]
                           [--baseline-requests 20000] [--concurrency 16] [--capacity N]

What it does, in the bench database (bench/__init__.py; ``EVENTS_BENCH_DATABASE`` names another one):

1. Preview. The bench leader ``bench-events`` with --members members seeded once over the demo's cities, each
   at their city's coordinates as a member's place is stored (members.demo); an event in Montréal, the
   densest of them. The alert's audience is the members within --km of the venue, the ``near`` filter as the
   console's alert form builds it (``{"near": {"lat", "lon", "km"}}``), previewed by the broadcasts' own
   ``broadcast_preview`` (the audience count, segments and cost of the longest copy) as the alert page does.
   Median of --runs, next to a bare ``SELECT count(*)`` of the member table, interleaved. Target ≤ 150 ms.
2. Queueing. The alert (``events.services.event_alert_create``: a broadcast with the RSVP instruction in each
   language, linked to the event) queued by ``broadcast_queue``, next to the broadcasts' queueing baseline
   (bench/broadcast.py: a bare ``INSERT … SELECT`` into a two-column table without indexes, here of the same
   members, selected by the same SQL) and a plain broadcast to the same audience; --queue-runs rounds,
   interleaved, medians. Target: within 3× the bare insert, the broadcasts' target.
3. RSVP burst. The first --rsvps members the alert went to are marked delivered (their alert reached them);
   each then texts their answer in their own language (mostly yes: "YES", "Oui", "Sí", "Ja", "نعم"…, some
   no: "No thanks", "Non", "Nein", "لا"…), in random order, 1 % of them posted a second time a little later
   as Twilio retries, signed as Twilio signs, through the real receiver under gunicorn (bench.inbound's
   server and wrk). The answers are read off the webhook's path (events.services.answers_read) by the
   answers' cluster, started for the burst as production runs it (``Q_CLUSTER_NAME=triage manage.py
   qcluster``, niced), and texted back through the fake Twilio in its own process; the bench waits until
   every answer is read and says how long after the burst that was. Then the rows are counted: every RSVP
   recorded exactly once (one Rsvp and one history row per member, the answers as texted, one inbound text
   and one reply per member, none for a retry).
   The webhook's requests/s over the burst is compared with the bare Django baseline view of bench/inbound.py
   (a signature check and one INSERT), posted the same way just before and just after: inbound webhook /
   baseline, as docs/architecture.md ("Inbound texts") and bench/triage.py state it. Target ≥ 120 %.
   While it runs, what the database's active sessions wait on is sampled (pg_stat_activity), and the server's
   CPU per request is read from its workers: what limits the rate when it falls short.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLUG = "bench-events"
NUMBER = "+13125550166"  # fictional: 555-01XX behind Chicago's area code
VENUE = ("Montréal", "CA")  # the demo's densest city (members.demo.DEMO_CITIES)

# What members text back, in their language (members.demo gives en, fr, es, de, ar): every one a yes or a no
# for events.replies; "YES" is also Twilio's START word, so that path is exercised too.
YES_WORDS = {
    "en": ("YES", "Yes!", "yes", "Y", "Count me in", "sure"),
    "fr": ("Oui", "OUI !", "oui merci", "Je viens"),
    "es": ("Sí", "si", "Claro", "Voy"),
    "de": ("Ja", "ja gerne", "Ich komme"),
    "ar": ("نعم", "ايوه", "سأحضر"),
}
NO_WORDS = {
    "en": ("No", "no thanks", "Can't make it"),
    "fr": ("Non", "non merci"),
    "es": ("No puedo", "No gracias"),
    "de": ("Nein", "nein danke"),
    "ar": ("لا", "لا شكرا"),
}
NO_SHARE = 0.15
# The bench number's sending rate (segments/s) while the answers are texted back: high, so that the figure is
# the reader's speed, not a carrier's rate (a long code's is one text a second).
SENDING_RATE = 2000


def setup_django() -> None:
    from bench import BENCH_DATABASE, django_setup

    django_setup(os.environ.get("EVENTS_BENCH_DATABASE", BENCH_DATABASE))


def leader_prepare(members: int):
    """The bench leader with its members (seeded once), active, with nothing left from an earlier run: no
    event, alert, broadcast, delivery, text or conversation."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from bench import bench_leader_with_members
    from bench.broadcast import partitions_drop

    leader = bench_leader_with_members(slug=SLUG, name="Events Bench", number=NUMBER, members=members)
    if not leader.is_active:
        leader.reactivate()
    with schema_context(leader.schema_name):
        partitions_drop()
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE events_event, messaging_broadcast, messaging_message, messaging_conversation CASCADE"
            )
    connection.set_schema_to_public()
    return leader


def event_make(leader, *, capacity: int | None):
    from django.utils import timezone

    from events.services import event_create
    from places.gazetteer import resolve_city

    place = resolve_city(VENUE[0], country=VENUE[1])
    starts = timezone.now() + datetime.timedelta(days=3)
    return event_create(
        leader=leader,
        data={
            "title": "Town hall on housing",
            "place_id": place.geoname_id,
            "address": "Place des Arts",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + datetime.timedelta(hours=3)).isoformat(),
            "capacity": capacity,
            "code_word": "HOUSING",
            "languages": ["fr", "en", "es", "de", "ar"],
            "reminder_offsets": [],
        },
    )


def alert_filters(event, km: float) -> dict:
    """The audience as the console's alert form builds it for "members near the venue"."""
    return {"near": {"lat": event.latitude, "lon": event.longitude, "km": km}}


def alert_body(leader, event) -> tuple[str, str]:
    """(the alert's body, its costliest copy with the RSVP instruction): what the alert page previews."""
    from events.texts import event_text, rsvp_instructions
    from messaging.models import Broadcast

    body = event_text("alert", language=event.languages[0], leader=leader, event=event)
    longest = max((Broadcast.with_suffix(body, text) for text in rsvp_instructions(event).values()), key=len)
    return body, longest


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


# -- 1. the preview -------------------------------------------------------------------------------------------


def bench_preview(leader, event, *, km: float, runs: int) -> int:
    from django.db import connection

    from messaging.broadcasts.compose import broadcast_preview

    filters = alert_filters(event, km)
    _body, longest = alert_body(leader, event)
    count = broadcast_preview(leader=leader, filters=filters, body=longest)["count"]  # warm: plans, caches

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM signup_member")
            cursor.fetchone()

    previews, bares = [], []
    for _ in range(runs):
        previews.append(timed(lambda: broadcast_preview(leader=leader, filters=filters, body=longest)))
        bares.append(timed(bare))
    median, bare_median = statistics.median(previews), statistics.median(bares)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM signup_member")
        (members,) = cursor.fetchone()
    print(
        f"preview of the alert to members within {km:g} km of {event.place_name} ({count:,} of {members:,} "
        f"members): median {median * 1000:.1f} ms, best {min(previews) * 1000:.1f} ms of {runs} "
        f"(target ≤ 150 ms: {'OK' if median <= 0.150 else 'OVER TARGET'}); bare count(*) of all members "
        f"median {bare_median * 1000:.1f} ms, ratio {median / bare_median:.2f}",
        flush=True,
    )
    return count


# -- 2. queueing ----------------------------------------------------------------------------------------------


def bench_queue(leader, event, *, km: float, runs: int):
    """Rounds of: the bare insert of the audience's members, a plain broadcast to them, the alert; each from
    no delivery partition. Returns the last round's alert (its deliveries kept for the burst)."""
    from django.db import connection
    from django.utils import timezone

    from bench.broadcast import bare_queue_seconds, partitions_drop
    from events.services import event_alert_create
    from members.audience import AudienceFilter, audience_members
    from messaging.broadcasts.compose import broadcast_create
    from messaging.broadcasts.queueing import broadcast_queue

    filters = alert_filters(event, km)
    body, _longest = alert_body(leader, event)
    local_day = timezone.now().astimezone(leader.zone).date()
    members_sql, members_params = (
        audience_members(AudienceFilter.from_dict(filters), on=local_day).values("id").query.sql_with_params()
    )
    bares, plains, alerts = [], [], []
    alert = None
    for _ in range(runs):
        partitions_drop()
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE messaging_broadcast CASCADE")  # and the alerts linked to them
        seconds, rows = bare_queue_seconds(members_sql, members_params)
        bares.append(seconds)
        plain = broadcast_create(leader=leader, body=body, filters=filters)
        started = time.perf_counter()
        plain_count = broadcast_queue(leader=leader, broadcast=plain)
        plains.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        alert = event_alert_create(leader=leader, event=event, filters=filters, body=body)
        started = time.perf_counter()
        alert_count = broadcast_queue(leader=leader, broadcast=alert)
        alerts.append(time.perf_counter() - started)
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    bare, plain_median, alert_median = (statistics.median(x) for x in (bares, plains, alerts))
    print(
        f"queueing the alert to {alert_count:,} members (quiet hours on): median {alert_median:.2f} s of {runs}; "
        f"bare two-column INSERT … SELECT of the same {rows:,} members {bare:.2f} s, ratio "
        f"{alert_median / bare:.2f} (target ≤ 3: {'OK' if alert_median <= 3 * bare else 'OVER TARGET'}); "
        f"a plain broadcast to them ({plain_count:,}) {plain_median:.2f} s, alert / plain "
        f"{alert_median / plain_median:.2f}",
        flush=True,
    )
    return alert


# -- 3. the RSVP burst ----------------------------------------------------------------------------------------


def alerted_members(broadcast, count: int) -> list[tuple[int, str, str]]:
    """The first `count` members the alert was queued for, marked delivered (their alert reached their
    phone); (member id, phone, language) of each."""
    from django.db import connection
    from django.utils import timezone

    from messaging.models import DeliveryStatus

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.member_id, m.phone, m.language FROM messaging_delivery d "
            "JOIN signup_member m ON m.id = d.member_id WHERE d.broadcast_id = %s ORDER BY d.member_id LIMIT %s",
            [broadcast.pk, count],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "UPDATE messaging_delivery SET status = %s, sent_at = %s "
            "WHERE broadcast_id = %s AND member_id = ANY(%s)",
            [int(DeliveryStatus.DELIVERED), timezone.now(), broadcast.pk, [row[0] for row in rows]],
        )
        cursor.execute(f"VACUUM ANALYZE messaging_delivery_{int(broadcast.pk)}")
    return rows


def answers(members: list[tuple[int, str, str]], rng: random.Random) -> tuple[list[tuple[str, str]], Counter]:
    """Each member's (phone, text) in random order, and how many yes and no were texted."""
    from events.replies import rsvp_answer

    texts, expected = [], Counter()
    for _member_id, phone, language in members:
        answer = "no" if rng.random() < NO_SHARE else "yes"
        words = (NO_WORDS if answer == "no" else YES_WORDS).get(language) or YES_WORDS["en"]
        word = rng.choice(words)
        assert rsvp_answer(word) == answer, f"{word!r} does not read as {answer}"
        texts.append((phone, word))
        expected[answer] += 1
    rng.shuffle(texts)
    return texts, expected


class WaitSampler:
    """What the bench database's active sessions wait on, sampled every 50 ms from another connection."""

    def __init__(self, database_url: str):
        self.url, self.samples = database_url, Counter()
        self.stop, self.thread = threading.Event(), None

    def __enter__(self):
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.05):
                for kind, event, query, n in conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, 'running'), "
                    "CASE WHEN wait_event_type = 'Lock' THEN regexp_replace(left(query, 48), '\\s+', ' ', 'g') "
                    "ELSE '' END, count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1, 2, 3"
                ):
                    self.samples[f"{kind}:{event}" + (f" [{query.strip()}…]" if query else "")] += n
                self.samples["(samples)"] += 1

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()

    def summary(self) -> str:
        taken = self.samples.pop("(samples)", 0) or 1
        top = self.samples.most_common(5)
        return ", ".join(f"{name} {n / taken:.1f}" for name, n in top) + " (sessions on average)"


def repost_missing(requests: list[tuple[bytes, str]], *, base_url: str, schema: str) -> int:
    """Post again, one at a time, the requests whose text is not stored; returns how many there were."""
    from urllib.parse import parse_qs

    import requests as http
    from django.db import connection

    from bench import inbound

    by_sid = {parse_qs(body.decode())["MessageSid"][0]: (body, signature) for body, signature in requests}
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT twilio_sid FROM "{schema}".messaging_message WHERE twilio_sid = ANY(%s)', [list(by_sid)]
        )
        stored = {row[0] for row in cursor.fetchall()}
    missing = [by_sid[sid] for sid in by_sid if sid not in stored]
    for body, signature in missing:
        http.post(
            base_url + inbound.SMS_PATH,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
            timeout=15,
        )
    return len(missing)


def burst_counts(schema: str, event, alert) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              (SELECT count(*) FROM "{schema}".messaging_message WHERE direction = 'in'),
              (SELECT count(DISTINCT twilio_sid) FROM "{schema}".messaging_message WHERE direction = 'in'),
              (SELECT count(*) FROM "{schema}".messaging_message WHERE direction = 'out' AND kind = 'notice'),
              (SELECT count(DISTINCT member_id) FROM "{schema}".messaging_message
               WHERE direction = 'out' AND kind = 'notice'),
              (SELECT count(*) FROM "{schema}".events_rsvp WHERE event_id = %(event)s),
              (SELECT count(DISTINCT member_id) FROM "{schema}".events_rsvp WHERE event_id = %(event)s),
              (SELECT count(*) FROM "{schema}".events_rsvp WHERE event_id = %(event)s
               AND status IN ('confirmed', 'waitlisted')),
              (SELECT count(*) FROM "{schema}".events_rsvp WHERE event_id = %(event)s AND status = 'declined'),
              (SELECT count(*) FROM "{schema}".events_rsvp WHERE event_id = %(event)s AND status = 'waitlisted'),
              (SELECT count(*) FROM "{schema}".events_rsvpchange c JOIN "{schema}".events_rsvp r ON r.id = c.rsvp_id
               WHERE r.event_id = %(event)s),
              (SELECT count(DISTINCT c.rsvp_id) FROM "{schema}".events_rsvpchange c
               JOIN "{schema}".events_rsvp r ON r.id = c.rsvp_id WHERE r.event_id = %(event)s),
              (SELECT reply_count FROM "{schema}".messaging_broadcast WHERE id = %(alert)s),
              (SELECT count(*) FROM "{schema}".messaging_delivery WHERE broadcast_id = %(alert)s
               AND replied_at IS NOT NULL)
            """,
            {"event": event.pk, "alert": alert.pk},
        )
        names = (
            "texts", "distinct_sids", "replies", "replied_members", "rsvps", "rsvp_members", "yes", "no",
            "waitlisted", "changes", "changed_rsvps", "alert_replies", "replied_deliveries",
        )  # fmt: skip
        return dict(zip(names, cursor.fetchone(), strict=True))


def answers_waiting(schema: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema}".events_pendinganswer')
        return cursor.fetchone()[0]


def answers_drain(schema: str, *, timeout: float) -> tuple[int, float]:
    """Wait until the reader has read every answer (or `timeout`): (answers still waiting, when it was seen)."""
    deadline = time.perf_counter() + timeout
    while (waiting := answers_waiting(schema)) and time.perf_counter() < deadline:
        time.sleep(0.5)
    return waiting, time.perf_counter()


def bench_burst(
    leader, event, alert, *, rsvps: int, baseline_requests: int, concurrency: int, seconds: float
):
    import psutil
    from django.conf import settings
    from django.db import connection
    from django_tenants.utils import schema_context
    from twilio.request_validator import RequestValidator

    from bench import database_cpu_seconds, inbound, machine_busy_share, server_cpu_seconds
    from bench.triage import cluster_start, process_stop, server_env
    from tests.fake_twilio import FakeTwilioProcess

    rng = random.Random(15)
    with schema_context(leader.schema_name):
        members = alerted_members(alert, rsvps)
    connection.set_schema_to_public()
    if len(members) < rsvps:
        print(f"(the alert went to {len(members):,} members only: the burst is theirs)")
    texts, expected = answers(members, rng)

    inbound_phones = inbound.prepare()  # the baseline view writes into bench.inbound's tenant
    port = inbound._free_port()
    auth_token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    validator = RequestValidator(auth_token)
    burst = inbound.signed_requests(
        validator=validator, url=base + inbound.SMS_PATH, texts=texts, to=str(leader.phone_number),
        duplicates=0.01, rng=rng,
    )  # fmt: skip
    common = {
        "auth_token": auth_token,
        "base_url": base,
        "concurrency": concurrency,
        "phones": inbound_phones,
    }

    def baseline_requests_made() -> list[tuple[bytes, str]]:
        return inbound._requests(
            {**common, "path": inbound.BASELINE_PATH, "mode": "members", "count": baseline_requests}
        )

    # The answers are read off the webhook's path by the answers' cluster (settings.ANSWERS_CLUSTER, triage's
    # by default, at its lower CPU priority), running through the burst as in production, and texted back
    # through the fake Twilio in its own process. The leader's number is allowed SENDING_RATE segments a
    # second, so the reader's own speed is measured, not a long code's one text a second.
    leader.segments_per_second = SENDING_RATE
    leader.save(update_fields=["segments_per_second"])
    fake = FakeTwilioProcess(magic_numbers=False).start()
    server = inbound.gunicorn_start(
        port=port, auth_token=auth_token, workers=2, worker_class="gthread", threads=4,
        secret_key=settings.SECRET_KEY,
    )  # fmt: skip
    reader = cluster_start(
        server_env(
            {
                "TWILIO_ACCOUNT_SID": fake.account_sid,
                "TWILIO_AUTH_TOKEN": fake.auth_token,
                "TWILIO_API_BASE_URL": fake.base_url,
                "PUBLIC_BASE_URL": base,
            }
        ),
        workers=2,
        name=settings.ANSWERS_CLUSTER,
    )
    try:
        for path in (inbound.BASELINE_PATH, inbound.SMS_PATH):  # warm up: connections, imports, caches
            inbound.wrk_run({**common, "path": path, "mode": "members", "count": 2000, "seconds": 3})

        def post(requests, path: str, limit: float) -> tuple[dict, float]:
            cpu, database_cpu, machine = (
                server_cpu_seconds(server),
                database_cpu_seconds(),
                psutil.cpu_times(),
            )
            figures = inbound.wrk_post(
                requests, base_url=base, path=path, concurrency=concurrency, seconds=limit, until_done=True
            )
            figures["database_cpu"] = database_cpu_seconds() - database_cpu
            figures["machine_busy"] = machine_busy_share(machine, psutil.cpu_times())
            return figures, server_cpu_seconds(server) - cpu

        before, before_cpu = post(baseline_requests_made(), inbound.BASELINE_PATH, 600)
        print(inbound._line("baseline (signature + INSERT)", before), flush=True)
        burst_started = time.perf_counter()
        with WaitSampler(inbound.database_url()) as waits:
            figures, burst_cpu = post(burst, inbound.SMS_PATH, seconds)
        burst_ended = time.perf_counter()
        print(inbound._line(f"RSVP burst: {len(texts):,} answers", figures), flush=True)
        print(
            f"answers still to read when the burst ended: {answers_waiting(leader.schema_name):,}", flush=True
        )
        after, after_cpu = post(baseline_requests_made(), inbound.BASELINE_PATH, 600)
        print(inbound._line("baseline again, after the burst", after), flush=True)
        # A request wrk lost to a connection error (it reconnects and goes on to the next) is posted again,
        # as Twilio retries a webhook it could not deliver: the counts below then speak of every answer.
        time.sleep(1.0)
        lost = repost_missing(burst, base_url=base, schema=leader.schema_name)
        waiting, drained = answers_drain(leader.schema_name, timeout=seconds)
        print(
            f"every answer read {drained - burst_ended:,.1f} s after the burst ended "
            f"({drained - burst_started:,.1f} s after it began; {waiting:,} still waiting)",
            flush=True,
        )
    finally:
        process_stop(reader)
        inbound.gunicorn_stop(server)
        fake.stop()
    inbound.texts_clear()

    counts = burst_counts(leader.schema_name, event, alert)
    n = len(texts)
    exact = (
        counts["texts"] == counts["distinct_sids"] == n
        and counts["rsvps"] == counts["rsvp_members"] == counts["changes"] == counts["changed_rsvps"] == n
        and counts["replies"] == counts["replied_members"] == n
        and counts["alert_replies"] == counts["replied_deliveries"] == n
        and counts["yes"] == expected["yes"]
        and counts["no"] == expected["no"]
    )
    if lost:
        print(
            f"({lost} answer(s) lost by wrk's connection errors during the burst were posted again after it)"
        )
    print(
        f"burst rows: {counts['texts']:,} answers stored ({counts['distinct_sids']:,} distinct sids) for {n:,} "
        f"texted + {len(burst) - n:,} retries posted; {counts['rsvps']:,} RSVPs for {counts['rsvp_members']:,} "
        f"members (yes {counts['yes']:,} of {expected['yes']:,} texted, {counts['waitlisted']:,} of them "
        f"waitlisted; no {counts['no']:,} of {expected['no']:,}), {counts['changes']:,} history rows, "
        f"{counts['replies']:,} replies to {counts['replied_members']:,} members; the alert counts "
        f"{counts['alert_replies']:,} replies ({counts['replied_deliveries']:,} deliveries replied to) "
        + ("→ every RSVP recorded exactly once" if exact else "→ MISMATCH"),
        flush=True,
    )
    baseline = (before["rate"] + after["rate"]) / 2
    share = figures["rate"] / baseline if baseline else 0.0
    print(
        f"RSVP burst / baseline: {share:.0%} (baseline {before['rate']:,.0f} before, {after['rate']:,.0f} after, "
        f"mean {baseline:,.0f} req/s)   target ≥ 120 % [{'met' if share >= 1.2 else 'NOT met'}]",
        flush=True,
    )

    def per_request(cpu: float, run: dict) -> float:
        return cpu / run["sent"] * 1000 if run["sent"] else 0.0

    print(
        f"server CPU per request: burst {per_request(burst_cpu, figures):.2f} ms, baseline "
        f"{per_request(before_cpu + after_cpu, {'sent': before['sent'] + after['sent']}):.2f} ms; database CPU "
        f"per request: burst {per_request(figures['database_cpu'], figures):.2f} ms, baseline "
        f"{per_request(before['database_cpu'] + after['database_cpu'], {'sent': before['sent'] + after['sent']}):.2f}"
        f" ms; the machine's CPU busy: burst {figures['machine_busy']:.0%}, baseline "
        f"{(before['machine_busy'] + after['machine_busy']) / 2:.0%}; "
        f"database sessions during the burst: {waits.summary()}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000, help="members of the bench leader")
    parser.add_argument("--km", type=float, default=25.0, help="the alert's radius around the venue")
    parser.add_argument("--runs", type=int, default=7, help="preview runs (the median is reported)")
    parser.add_argument("--queue-runs", type=int, default=3, help="queueing rounds (medians reported)")
    parser.add_argument("--rsvps", type=int, default=100_000, help="members answering in the burst (0: skip)")
    parser.add_argument("--baseline-requests", type=int, default=20_000, help="baseline requests, each time")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--capacity", type=int, default=None, help="the event's seats (default: no limit)")
    parser.add_argument("--burst-seconds", type=float, default=1800.0, help="time limit for the burst")
    args = parser.parse_args(argv)

    # One key for this process, gunicorn and the answers' cluster: the tasks the server queues are signed with
    # it, and the cluster must read them.
    os.environ.setdefault("SECRET_KEY", "bench-events-" + secrets.token_urlsafe(32))
    setup_django()
    from django_tenants.utils import schema_context

    print("preparing the bench leader…", flush=True)
    leader = leader_prepare(args.members)
    with schema_context(leader.schema_name):
        event = event_make(leader, capacity=args.capacity)
        bench_preview(leader, event, km=args.km, runs=args.runs)
        alert = bench_queue(leader, event, km=args.km, runs=args.queue_runs)
    if args.rsvps:
        bench_burst(
            leader,
            event,
            alert,
            rsvps=args.rsvps,
            baseline_requests=args.baseline_requests,
            concurrency=args.concurrency,
            seconds=args.burst_seconds,
        )


if __name__ == "__main__":
    main()
