"""Triage of inbound texts: throughput, a million-text replay, arrival-to-label latency, and the inbound webhook
while triage runs. Figures are printed, never asserted.

    python -m bench.triage [--quick] [--texts 30000] [--replay 1000000] [--replay-sample 0]
                           [--rate 60] [--rate-seconds 60] [--requests 60000] [--seconds 15]

What it does, all on loopback, in the bench database (bench/__init__.py):

1. A bench leader, ``bench-triage``, with five topics of ten English examples each, members with places and
   their conversations. Texts are inserted with SQL (generate_series): a multilingual mix (English, French,
   Spanish, Arabic, German; short, misspelled, emoji, places named), a tenth of them copies of three campaign
   texts, a third from members, the rest from newcomers' phones of Mexico, the US, Canada, France, Germany,
   Spain and Morocco, spread over the last 48 hours.
2. Throughput: a real triage cluster (``Q_CLUSTER_NAME=triage manage.py qcluster``, Q_TRIAGE_WORKERS = 2) is
   started and warmed up; --texts texts are inserted and one run is queued; texts/s from the queueing to the
   last label, end to end (language, topic, place, duplicates, labels, counters, members' topics written).
   One leader's texts are triaged by one run at a time, so its second worker is free for other leaders.
3. Replay: --replay texts inserted at once (timed), then triaged by the same cluster: the whole of them, or
   with --replay-sample N (the --quick default) the first N labelled, and the whole projected from that rate.
4. Latency: gunicorn serves the platform (bench.inbound's tenant and machinery); fans text at --rate texts/s
   for --rate-seconds through the real signed webhook, each text kicking the triage cluster; p50/p95/max
   from a text's arrival (its stored created_at) to its label (triaged_at).
5. The inbound webhook while triage runs: bench.inbound's load generator posts member texts as fast as the
   server takes them, with the triage cluster at work on what they store, next to the bare Django baseline
   of the same run (a signature check and one INSERT, bench/inbound_wsgi.py).

Targets (issue 13): ≥ 500 texts/s; a million stored texts replayed in ≤ 30 min; p95 ≤ 10 s at 60 texts/s;
the inbound webhook ≥ 120 % of the bare Django baseline while triage runs.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_SLUG = "bench-triage"
BENCH_NUMBER = "+13125550177"
MEMBERS = 5_000

TOPICS = (
    (
        "Health",
        "Hospitals, doctors, medicine, clinics",
        (
            "The hospital in our town has no doctors",
            "We waited 9 hours at the emergency room",
            "My mother cannot get her medicine anymore",
            "Please build a clinic in our neighbourhood",
            "Nurses are exhausted and underpaid",
            "There are no beds left at the hospital",
            "Health care is too expensive for families",
            "We need more ambulances in the countryside",
            "The waiting list for surgery is a year long",
            "Vaccines should be free for children",
        ),
    ),
    (
        "Water",
        "Drinking water, shortages, floods, pipes",
        (
            "We have had no water for three days",
            "The tap water is brown and smells bad",
            "Our street floods every time it rains",
            "Please fix the broken water pipes",
            "Water trucks never come to our colony",
            "The river is polluted by the factory",
            "We pay for water we do not receive",
            "The well in our village is dry",
            "Clean drinking water for our schools please",
            "The drought is killing our crops",
        ),
    ),
    (
        "Security",
        "Crime, police, violence, safety in the streets",
        (
            "There are robberies on our street every night",
            "The police never come when we call",
            "Women are afraid to walk home after dark",
            "Gangs control our neighbourhood",
            "My shop was robbed twice this month",
            "We need street lights, it is dangerous",
            "Kidnappings are rising in our state",
            "Please send more police patrols",
            "Drug dealers sell in front of the school",
            "I do not feel safe in my own home",
        ),
    ),
    (
        "Cost of living",
        "Prices, rent, wages, fuel, food",
        (
            "Food prices have doubled this year",
            "Rent takes all of my salary",
            "Gas is too expensive to drive to work",
            "The minimum wage is not enough to live",
            "Electricity bills are impossible to pay",
            "We cannot afford tortillas and milk anymore",
            "Pensions must follow inflation",
            "Young people cannot buy a home",
            "Lower the taxes on basic goods",
            "My family skips meals to pay the bills",
        ),
    ),
    (
        "Education",
        "Schools, teachers, universities, scholarships",
        (
            "Our school has no roof and no books",
            "Teachers have not been paid for months",
            "University should be free for everyone",
            "Please give scholarships to poor students",
            "Classes have fifty children in one room",
            "The school bus stopped coming to our village",
            "We need computers in public schools",
            "My children's school has no running water for the toilets",
            "Teachers need better training",
            "Build a high school in our town",
        ),
    ),
)

# What fans write, in the five languages, short and long, misspelled, with emoji and places.
PHRASES = {
    "en": (
        "no doctors at the hospital again",
        "we need water in our street",
        "the police do nothing about the robberies",
        "prices are crazy, cant buy food",
        "our school needs teachers",
        "my mom waited all day at the clinic",
        "the tap water is dirty",
        "thieves broke into my car",
        "rent is too high for us",
        "kids have no books at school",
        "thank you for everything",
        "when is the next rally?",
        "we love you, keep going",
    ),
    "fr": (
        "il n'y a plus de médecins à l'hôpital",
        "pas d'eau au robinet depuis lundi",
        "la police ne vient jamais chez nous",
        "tout est trop cher, le loyer, l'essence",
        "l'école de mes enfants n'a pas de profs",
        "les urgences sont saturées",
        "l'eau du robinet est sale",
        "on s'est fait cambrioler deux fois",
        "les salaires ne suivent pas les prix",
        "merci pour tout, bon courage",
    ),
    "es": (
        "no hay médicos en el hospital",
        "no tenemos agua desde hace tres dias",
        "la policia no hace nada contra los robos",
        "todo esta muy caro, las tortillas, la gasolina",
        "la escuela no tiene maestros",
        "mi mamá no consigue sus medicinas",
        "el agua sale sucia",
        "hay asaltos cada noche en mi colonia",
        "la renta es imposible",
        "necesitamos becas para estudiantes",
        "gracias por todo, lo queremos",
    ),
    "ar": (
        "لا يوجد أطباء في المستشفى",
        "ليس لدينا ماء منذ ثلاثة أيام",
        "الشرطة لا تفعل شيئا ضد السرقات",
        "الأسعار مرتفعة جدا",
        "المدرسة بدون معلمين",
        "الماء ملوث في حينا",
        "شكرا جزيلا",
    ),
    "de": (
        "im Krankenhaus gibt es keine Ärzte mehr",
        "wir haben seit Tagen kein Wasser",
        "die Polizei kommt nie, wenn wir anrufen",
        "die Mieten sind viel zu hoch",
        "unsere Schule hat keine Lehrer",
        "das Leitungswasser ist schmutzig",
        "danke für alles",
    ),
}
SUFFIXES = (
    "", "!!", " please", " 🙏", " por favor", " svp", " bitte", " now", " ya!", " 😡😡", " urgent",
    " in Guadalajara", " en Monterrey", " in Vancouver", " à Lyon", " in Berlin", " en Jalisco", " a Toronto",
    " since 3 days", " depuis 2 semaines", " desde hace un mes", " seit Wochen", " ...", " 🙏🙏 gracias",
)  # fmt: skip
# What fans add about themselves: with the phrases and tails above, nearly every text is one of its own, as
# fans' texts are (a text the classifier has seen is not classified again: repeats would flatter the figures).
TAILS = (
    "", "I am a nurse", "soy maestra", "je suis retraité", "ich bin Student", "I vote for you",
    "my kids are 5 and 8", "mis hijos no pueden estudiar", "on habite en banlieue", "wir wohnen am Stadtrand",
    "since last year", "desde 2019", "depuis l'an dernier", "seit 2020", "help us", "ayúdenos",
    "aidez-nous", "helft uns", "please answer", "conteste por favor", "répondez svp", "bitte antworten",
    "my name is Ana", "me llamo José", "je m'appelle Karim", "ich heiße Jonas", "we are tired", "estamos cansados",
    "on en a marre", "wir sind müde", "God bless", "Dios los bendiga", "vote 2027", "our barrio", "mi colonia",
    "notre quartier", "unser Viertel", "every day", "todos los días", "tous les jours", "jeden Tag",
    "my grandmother", "mi abuela", "ma grand-mère", "meine Oma", "in the north", "en el sur", "dans l'est",
)  # fmt: skip
CAMPAIGN = (
    "STOP the new highway through our park!!! 🌳 Save our water",
    "Fund our hospitals NOW. No more waiting lists. #HealthForAll",
    "Más seguridad para Jalisco, ¡ya basta de violencia!",
)
PREFIXES = (
    "+52331", "+52811", "+52999", "+52551", "+1604", "+1212", "+1514", "+1416", "+3361", "+49151", "+3461",
    "+21261",
)  # fmt: skip


def _bodies() -> list[str]:
    """Every phrase with a varying tail and a counter where a fan might put one: mostly distinct texts."""
    bodies = []
    for phrases in PHRASES.values():
        for phrase in phrases:
            for suffix in SUFFIXES:
                bodies.append(phrase + suffix)
                bodies.append(phrase.capitalize() + suffix)
    return bodies


# -- the bench leader and its texts --------------------------------------------------------------------------


def leader_prepare():
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from bench import leader_number_free
    from leaders.models import Leader
    from leaders.services import leader_create

    call_command("platform_migrate", verbosity=0)
    leader = Leader.objects.filter(slug=BENCH_SLUG).first()
    if leader is None:
        leader = leader_create(
            slug=BENCH_SLUG, name="Bench Triage", phone_number=leader_number_free(BENCH_NUMBER)
        )
    topics_ensure(leader.schema_name)
    with schema_context(leader.schema_name):
        members_ensure()
    connection.set_schema_to_public()
    texts_clear(leader.schema_name)
    return leader


def topics_ensure(schema_name: str) -> None:
    from django_tenants.utils import schema_context

    from topics.models import Topic

    with schema_context(schema_name):
        for position, (name, description, examples) in enumerate(TOPICS):
            Topic.objects.update_or_create(
                name=name,
                defaults={"description": description, "examples": list(examples), "position": position},
            )


def members_ensure() -> None:
    from django.db import connection

    from members.demo import FICTIONAL_LINES, fictional_number
    from members.models import Member

    if Member.objects.count() >= MEMBERS:
        return
    places = (
        ("Montréal", "Quebec", "CA"),
        ("Guadalajara", "Jalisco", "MX"),
        ("", "", ""),
        ("Lyon", "", "FR"),
    )
    Member.objects.bulk_create(
        [
            Member(
                phone=fictional_number(FICTIONAL_LINES + 6_000_000 + i),
                city=places[i % 4][0],
                region=places[i % 4][1],
                country=places[i % 4][2],
            )
            for i in range(MEMBERS)
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO messaging_conversation (phone, member_id, status, unread_count, last_message_at,
                last_message_preview, created_at)
            SELECT phone, id, 'open', 0, now(), '', now() FROM signup_member
            ON CONFLICT (phone) DO NOTHING
            """
        )


def texts_clear(schema_name: str) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute("TRUNCATE messaging_message, triage_count, members_membertopic CASCADE")
        cursor.execute("UPDATE triage_state SET pending = false, cursor = 0, requested_at = NULL")
        cursor.execute("UPDATE messaging_conversation SET status = 'open'")
    connection.set_schema_to_public()


def texts_insert(schema_name: str, count: int, *, hours: float = 48.0) -> float:
    """`count` inbound texts in one INSERT … SELECT over generate_series; the seconds it took."""
    from django.db import connection
    from django_tenants.utils import schema_context

    bodies = _bodies()
    started = time.perf_counter()
    with schema_context(schema_name), connection.cursor() as cursor:
        cursor.execute(
            """
            WITH fans AS (
                SELECT (row_number() OVER (ORDER BY m.id)) - 1 AS idx, m.id, m.phone, c.id AS conversation_id
                FROM signup_member AS m JOIN messaging_conversation AS c ON c.member_id = m.id
            ),
            fan_count AS (SELECT GREATEST(count(*), 1) AS total FROM fans)
            INSERT INTO messaging_message (member_id, conversation_id, phone, direction, kind, body, status,
                failure_reason, attempts, created_at, updated_at)
            SELECT f.id, f.conversation_id,
                COALESCE(f.phone, (%(prefixes)s::text[])[1 + (n * 7) %% cardinality(%(prefixes)s::text[])]
                    || lpad(((n * 7919) %% 10000000)::text, 7, '0')),
                'in', 'conversation',
                CASE WHEN n %% 10 = 0 THEN (%(campaign)s::text[])[1 + (n / 10) %% cardinality(%(campaign)s::text[])]
                    ELSE (%(bodies)s::text[])[1 + (hashint8(n) & 1073741823) %% cardinality(%(bodies)s::text[])]
                        || ' ' || (%(tails)s::text[])[1 + (hashint8(n + 7) & 1073741823) %% cardinality(%(tails)s::text[])]
                        || ' ' || (%(tails)s::text[])[1 + (hashint8(n + 13) & 1073741823) %% cardinality(%(tails)s::text[])]
                        || CASE WHEN n %% 4 = 1 THEN ' ' || (n %% 997)::text ELSE '' END
                END,
                'received', '', 0,
                now() - %(hours)s * interval '1 hour' + (n::float8 / %(count)s) * %(hours)s * interval '1 hour'
                    - interval '1 minute',
                now()
            FROM generate_series(1::bigint, %(count)s::bigint) AS s(n)
            CROSS JOIN fan_count
            LEFT JOIN fans AS f ON n %% 3 = 0 AND f.idx = (n / 3) %% fan_count.total
            """,
            {
                "prefixes": list(PREFIXES),
                "campaign": list(CAMPAIGN),
                "bodies": bodies,
                "tails": list(TAILS),
                "count": count,
                "hours": hours,
            },
        )
    connection.set_schema_to_public()
    return time.perf_counter() - started


def texts_distinct(schema_name: str) -> tuple[int, int]:
    """(inbound texts, distinct bodies among them): what the classifier had to read at least once."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*), count(DISTINCT lower(body)) FROM "{schema_name}".messaging_message '
            "WHERE direction = 'in'"
        )
        return cursor.fetchone()


def labels_count(schema_name: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{schema_name}".triage_label')
        return cursor.fetchone()[0]


def run_queue(schema_name: str) -> None:
    from triage.services import triage_enqueue

    triage_enqueue(schema_name)


def labels_wait(
    schema_name: str, target: int, *, timeout: float, kick_every: float = 30.0
) -> tuple[float, int]:
    """Seconds until `target` labels exist (or the timeout), and how many there are then."""
    started = time.perf_counter()
    last_kick = started
    while True:
        done = labels_count(schema_name)
        now = time.perf_counter()
        if done >= target or now - started > timeout:
            return now - started, done
        if now - last_kick > kick_every:  # a run that ended between two inserts: the sweep's job, sooner
            run_queue(schema_name)
            last_kick = now
        time.sleep(0.2)


# -- processes -----------------------------------------------------------------------------------------------


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    from django.conf import settings

    from bench import PRODUCTION_ON_LOOPBACK
    from bench.inbound import database_url

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "community.settings",
        "DATABASE_URL": database_url(),
        **PRODUCTION_ON_LOOPBACK,
        # The bench's own key (main() sets it): queued tasks are signed with it, by this process and gunicorn
        # alike, and the triage cluster must read them.
        "SECRET_KEY": settings.SECRET_KEY,
        "CONSENT_HASH_KEY": settings.CONSENT_HASH_KEY,
        "LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


def cluster_start(env: dict[str, str], workers: int, name: str = "triage") -> subprocess.Popen:
    """The `name` cluster (one of settings.Q_CLUSTER's ALT_CLUSTERS) with `workers` workers, as
    `Q_CLUSTER_NAME=<name> manage.py qcluster` starts it."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        cwd=ROOT,
        env={**env, "Q_CLUSTER_NAME": name, "Q_TRIAGE_WORKERS": str(workers)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )


def process_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def warm_up(schema_name: str) -> None:
    """Each worker loads the encoder, the language model and the gazetteer once: not the figures' part."""
    for _ in range(2):
        before = labels_count(schema_name)
        texts_insert(schema_name, 300)
        run_queue(schema_name)
        labels_wait(schema_name, before + 300, timeout=180)
        time.sleep(1.5)


# -- 4. latency at a sustained rate, through the webhook ----------------------------------------------------


def latency_run(
    *, base_url: str, auth_token: str, schema_name: str, phones: list[str], rate: float, seconds: float
):
    import requests
    from twilio.request_validator import RequestValidator

    from bench.inbound import SMS_PATH, _form

    validator = RequestValidator(auth_token)
    url = base_url + SMS_PATH
    bodies = _bodies()
    run = uuid.uuid4().hex[:8]
    total = int(rate * seconds)
    local = threading.local()
    failures = []

    def post(i: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        form = _form(
            sid=f"SM{run}{i:024x}", from_=phones[i % len(phones)], body=bodies[(i * 7919) % len(bodies)]
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, form),
        }
        response = session.post(url, data=urlencode(form), headers=headers, timeout=15)
        if response.status_code != 200:
            failures.append(response.status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for i in range(total):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(post, i)
    sent_seconds = time.perf_counter() - started
    from django.db import connection

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT count(*) FROM "{schema_name}".triage_label l JOIN "{schema_name}".messaging_message m '
                "ON m.id = l.message_id WHERE m.twilio_sid LIKE %s",
                [f"SM{run}%"],
            )
            if cursor.fetchone()[0] >= total - len(failures):
                break
        time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT count(*),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.triaged_at - m.created_at)),
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM l.triaged_at - m.created_at)),
                max(extract(epoch FROM l.triaged_at - m.created_at))
            FROM "{schema_name}".messaging_message m
            LEFT JOIN "{schema_name}".triage_label l ON l.message_id = m.id
            WHERE m.twilio_sid LIKE %s AND l.message_id IS NOT NULL
            """,
            [f"SM{run}%"],
        )
        labelled, p50, p95, worst = cursor.fetchone()
    return {
        "sent": total,
        "rate": total / sent_seconds,
        "failures": len(failures),
        "labelled": labelled,
        "p50": p50 or 0.0,
        "p95": p95 or 0.0,
        "max": worst or 0.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller sets, a projected replay: under 3 minutes"
    )
    parser.add_argument("--texts", type=int, default=None, help="texts of the throughput run")
    parser.add_argument("--replay", type=int, default=1_000_000, help="stored texts to replay")
    parser.add_argument("--replay-sample", type=int, default=None, help="time only this many (0: all)")
    parser.add_argument("--rate", type=float, default=60.0, help="texts/s of the latency run")
    parser.add_argument("--rate-seconds", type=float, default=None)
    parser.add_argument("--requests", type=int, default=60_000, help="pre-signed requests per inbound run")
    parser.add_argument("--seconds", type=float, default=None, help="time limit per inbound run")
    parser.add_argument("--workers", type=int, default=2, help="triage cluster workers")
    parser.add_argument("--rounds", type=int, default=3, help="baseline/webhook pairs while triage runs")
    args = parser.parse_args(argv)
    quick = args.quick
    texts = args.texts or (4_000 if quick else 30_000)
    sample = args.replay_sample if args.replay_sample is not None else (6_000 if quick else 0)
    replay = args.replay if not quick or args.replay != 1_000_000 else 100_000
    rate_seconds = args.rate_seconds or (12.0 if quick else 60.0)
    inbound_seconds = args.seconds or (5.0 if quick else 15.0)

    from bench import BENCH_DATABASE, django_setup

    os.environ["SECRET_KEY"] = "bench-triage-" + secrets.token_urlsafe(32)
    django_setup(os.environ.get("TRIAGE_BENCH_DATABASE", BENCH_DATABASE))
    print("preparing the bench leader…", flush=True)
    leader = leader_prepare()
    schema = leader.schema_name
    env = server_env()
    cluster = cluster_start(env, args.workers)
    try:
        print(
            f"triage cluster: {args.workers} workers; warming up (encoder, language model, gazetteer)…",
            flush=True,
        )
        warm_up(schema)

        # 2. throughput
        texts_clear(schema)
        texts_insert(schema, texts)
        run_queue(schema)
        elapsed, done = labels_wait(schema, int(texts * 0.999), timeout=1800)
        total, distinct = texts_distinct(schema)
        print(
            f"throughput: {done:,} texts ({distinct:,} distinct) triaged end to end in {elapsed:.1f} s = "
            f"{done / elapsed:,.0f} texts/s"
            f"   target ≥ 500 texts/s [{'met' if done / elapsed >= 500 else 'NOT met'}]",
            flush=True,
        )

        # 3. replay
        texts_clear(schema)
        insert_seconds = texts_insert(schema, replay)
        total, distinct = texts_distinct(schema)
        print(
            f"replay: {replay:,} texts ({distinct:,} distinct) inserted with SQL in {insert_seconds:.1f} s",
            flush=True,
        )
        run_queue(schema)
        goal = sample if sample and sample < replay else int(replay * 0.999)
        elapsed, done = labels_wait(schema, goal, timeout=7200)
        per_second = done / elapsed if elapsed else 0.0
        if goal < replay:
            projected = replay / per_second / 60 if per_second else float("inf")
            print(
                f"replay: first {done:,} of {replay:,} labelled in {elapsed:.1f} s ({per_second:,.0f} texts/s); "
                f"the whole projected at {projected:.1f} min ({1_000_000 / per_second / 60:.1f} min for a million)"
                f"   target ≤ 30 min [{'met' if 1_000_000 / per_second / 60 <= 30 else 'NOT met'}]",
                flush=True,
            )
        else:
            print(
                f"replay: all {done:,} labelled in {elapsed / 60:.1f} min ({per_second:,.0f} texts/s)"
                f"   target ≤ 30 min for a million [{'met' if elapsed / 60 * 1_000_000 / replay <= 30 else 'NOT met'}]",
                flush=True,
            )
        texts_clear(schema)
    finally:
        process_stop(cluster)

    # 4 and 5: through gunicorn, on bench.inbound's tenant, with a triage cluster at work.
    from bench import inbound

    members = inbound.prepare()
    topics_ensure(inbound.BENCH_SCHEMA)
    inbound_texts_clear()
    port = inbound._free_port()
    auth_token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    server = inbound.gunicorn_start(
        port=port, auth_token=auth_token, workers=2, worker_class="gthread", threads=4
    )
    cluster = cluster_start(env, args.workers)
    try:
        warm_up_inbound(base, auth_token, members)
        figures = latency_run(
            base_url=base,
            auth_token=auth_token,
            schema_name=inbound.BENCH_SCHEMA,
            phones=members,
            rate=args.rate,
            seconds=rate_seconds,
        )
        print(
            f"latency at {figures['rate']:.0f} texts/s for {rate_seconds:.0f} s through the webhook: "
            f"{figures['labelled']:,} of {figures['sent']:,} labelled; arrival → label p50 {figures['p50']:.2f} s, "
            f"p95 {figures['p95']:.2f} s, max {figures['max']:.2f} s   target p95 ≤ 10 s "
            f"[{'met' if figures['p95'] <= 10 and figures['labelled'] else 'NOT met'}]",
            flush=True,
        )
        generator = inbound.wrk_run if inbound.shutil.which("wrk") else inbound.load_run
        common = {
            "auth_token": auth_token,
            "base_url": base,
            "concurrency": 16,
            "phones": members,
            "mode": "members",
        }

        def measure(path: str) -> dict:
            return generator({**common, "path": path, "count": args.requests, "seconds": inbound_seconds})

        # Baseline and webhook alternate, so the machine's other load falls on both alike: each round's
        # ratio is the webhook over the baseline measured just before it, and the median round is reported.
        shares = []
        for round_ in range(args.rounds):
            baseline = measure(inbound.BASELINE_PATH)
            busy = measure(inbound.SMS_PATH)
            shares.append(busy["rate"] / baseline["rate"] if baseline["rate"] else 0.0)
            print(inbound._line(f"{round_ + 1}: baseline (signature + INSERT)", baseline))
            print(inbound._line(f"{round_ + 1}: webhook, triage at work", busy), flush=True)
        backlog = labels_backlog(inbound.BENCH_SCHEMA)
        # The same without triage (its cluster stopped): what triage costs the webhook, on this machine.
        process_stop(cluster)
        baseline_again = measure(inbound.BASELINE_PATH)
        idle = measure(inbound.SMS_PATH)
        print(inbound._line("baseline, triage stopped", baseline_again))
        print(inbound._line("inbound webhook, no triage", idle))
        share = sorted(shares)[len(shares) // 2]
        print(
            f"inbound while triage runs / baseline, per round: {', '.join(f'{s:.0%}' for s in shares)}; "
            f"median {share:.0%}   target ≥ 120 % [{'met' if share >= 1.2 else 'NOT met'}]; without triage: "
            f"{idle['rate'] / baseline_again['rate'] if baseline_again['rate'] else 0.0:.0%}"
            f"   (triage had {backlog['labelled']:,} of {backlog['stored']:,} stored texts labelled by the end of"
            " its runs)",
            flush=True,
        )
    finally:
        process_stop(cluster)
        inbound.gunicorn_stop(server)
    inbound_texts_clear()


def inbound_texts_clear() -> None:
    from bench import inbound

    texts_clear(inbound.BENCH_SCHEMA)


def warm_up_inbound(base: str, auth_token: str, phones: list[str]) -> None:
    from bench import inbound

    generator = inbound.wrk_run if inbound.shutil.which("wrk") else inbound.load_run
    common = {
        "auth_token": auth_token,
        "base_url": base,
        "concurrency": 16,
        "phones": phones,
        "mode": "members",
    }
    for path in (inbound.BASELINE_PATH, inbound.SMS_PATH):
        generator({**common, "path": path, "count": 2000, "seconds": 3})
    labels_wait(inbound.BENCH_SCHEMA, 1500, timeout=120)


def labels_backlog(schema_name: str) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT (SELECT count(*) FROM "{schema_name}".messaging_message WHERE direction = 'in'),
                (SELECT count(*) FROM "{schema_name}".triage_label)"""
        )
        stored, labelled = cursor.fetchone()
    return {"stored": stored, "labelled": labelled}


if __name__ == "__main__":
    main()
