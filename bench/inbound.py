"""The inbound SMS webhook under gunicorn: requests per second, latency, and a burst stored exactly once.

    python -m bench.inbound [--requests 20000] [--seconds 30] [--workers 2] [--worker-class gthread]
                            [--threads 4] [--concurrency 16] [--burst 100000] [--burst-phones 50000]

What it does, all on loopback:

1. Prepares a dedicated tenant, ``bench-inbound`` (created once, its texts emptied at each run) with 2,000
   members, in the bench database (``community_bench`` on DATABASE_URL's server or the embedded one).
2. Starts gunicorn on ``bench.inbound_wsgi`` (the platform's app, plus a baseline view) with
   PUBLIC_BASE_URL pointing at it and a Twilio auth token to sign with.
3. Throughput: a load generator posts Twilio-signed inbound texts, with Twilio's realistic parameters, from
   the members: the common case of a busy number (fans answering a broadcast), routed to the tenant, stored
   and filed in the inbox. The load generator is Debian's ``wrk`` (C, keep-alive, a bounded number of
   pre-signed requests and seconds; ``make bench`` installs it), so that it takes as little as possible of
   the two cores it shares with gunicorn and PostgreSQL; without it, a Python one (asyncio + aiohttp, in its
   own process), which costs the server side about a third of a core. The same run measures the baseline,
   a bare Django view (no middleware) that checks the signature and does one INSERT
   (bench/inbound_wsgi.py), and prints both with p50/p99 latency.
4. Burst: ``--burst`` texts from ``--burst-phones`` phones that are not members (each phone texts twice:
   the first text gets the welcome and a link, the second is only stored), plus 1% of them posted a
   second time as Twilio retries do; then counts the rows: every text stored exactly once, none lost.

Targets (docs/architecture.md, "Inbound texts"): ≥ 1,500 texts/s, p99 < 50 ms, ≥ 50% of the baseline.
The load generator shares the machine's cores with gunicorn and PostgreSQL, so on a small machine the
figures are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_SLUG = "bench-inbound"
BENCH_SCHEMA = "leader_bench_inbound"
BENCH_NUMBER = "+13125550188"  # fictional: 555-01XX behind Chicago's area code
BENCH_ACCOUNT_SID = "AC" + "b" * 32
MEMBERS = 2_000
SMS_PATH = "/webhooks/twilio/sms/"
BASELINE_PATH = "/bench/baseline/"


# -- the load generator (its own process) --------------------------------------------------------------------


def _form(*, sid: str, from_: str, body: str, to: str = BENCH_NUMBER) -> dict[str, str]:
    """An inbound text as Twilio posts it (to the bench tenant's number unless `to` says otherwise)."""
    return {
        "ToCountry": "US",
        "ToState": "IL",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "CHICAGO",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "60601",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": BENCH_ACCOUNT_SID,
        "From": from_,
        "ApiVersion": "2010-04-01",
    }


BODIES = ("Yes, I'll be there!", "What time does it start?", "Merci !", "Count me in 💪", "¿Dónde es?", "ok")


def _requests(config: dict[str, Any]) -> list[tuple[bytes, str]]:
    """(urlencoded form, signature) for every request, built before the clock starts."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(config["auth_token"])
    url = config["base_url"] + config["path"]
    rng = random.Random(config.get("seed", 1))
    phones: list[str] = config["phones"]
    if config["mode"] == "burst":
        # Each phone texts twice, the second text long after the first (the whole first round in between).
        order = [(i % len(phones), i) for i in range(config["count"])]
    else:
        order = [(rng.randrange(len(phones)), i) for i in range(config["count"])]
    texts = [(phones[phone_index], BODIES[i % len(BODIES)]) for phone_index, i in order]
    return signed_requests(
        validator=validator, url=url, texts=texts, duplicates=config.get("duplicates", 0.0), rng=rng
    )


def signed_requests(
    *, validator, url: str, texts: list[tuple[str, str]], to: str = BENCH_NUMBER, duplicates: float, rng
) -> list[tuple[bytes, str]]:
    """(urlencoded form, signature) of each (phone, body) texted to `to`, each with its own MessageSid, in
    order; then a share `duplicates` of them posted a second time a little later, as Twilio retries."""
    run = uuid.uuid4().hex[:8]
    out = []
    for i, (phone, body) in enumerate(texts):
        form = _form(sid=f"SM{run}{i:024x}", from_=phone, body=body, to=to)
        out.append((urlencode(form).encode(), validator.compute_signature(url, form)))
    # Twilio's retries: the same text posted again, a little later.
    for _ in range(int(len(out) * duplicates)):
        index = rng.randrange(len(out))
        out.insert(min(len(out), index + rng.randrange(50, 500)), out[index])
    return out


async def _load(config: dict[str, Any]) -> dict[str, Any]:
    import aiohttp

    requests = _requests(config)
    url = config["base_url"] + config["path"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    pending = iter(requests)
    deadline = time.perf_counter() + config["seconds"]

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for body, signature in pending:
            if time.perf_counter() > deadline:
                return
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            }
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
            except (TimeoutError, aiohttp.ClientError, OSError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=config["concurrency"], force_close=False)
    timeout = aiohttp.ClientTimeout(total=15)  # Twilio's own limit
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(config["concurrency"])))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return {
        "sent": len(latencies) + errors,
        "planned": len(requests),
        "ok": statuses.get(200, 0),
        "statuses": statuses,
        "errors": errors,
        "seconds": elapsed,
        "rate": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": quantile(0.50),
        "p99_ms": quantile(0.99),
    }


def client_main() -> None:
    config = json.loads(Path(sys.argv[2]).read_text())
    print(json.dumps(asyncio.run(_load(config))), flush=True)


def load_run(config: dict[str, Any]) -> dict[str, Any]:
    """Run the load generator in its own process (its own core and GIL) and return its figures."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    try:
        output = subprocess.run(
            [sys.executable, "-m", "bench.inbound", "--client", handle.name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=config["seconds"] + 600,
        ).stdout
    finally:
        os.unlink(handle.name)
    return json.loads(output.strip().splitlines()[-1])


def wrk_run(config: dict[str, Any]) -> dict[str, Any]:
    """The same figures as `load_run`, from Debian's wrk posting the same pre-signed requests."""
    return wrk_post(
        _requests(config),
        base_url=config["base_url"],
        path=config["path"],
        concurrency=config["concurrency"],
        seconds=config["seconds"],
    )


def wrk_post(
    requests: list[tuple[bytes, str]],
    *,
    base_url: str,
    path: str,
    concurrency: int,
    seconds: float,
    until_done: bool = False,
) -> dict[str, Any]:
    """wrk posting `requests` (each once, in order within each of its threads) for `seconds` at most.

    `until_done`: every request is posted, and the rate is theirs: each thread says on its output when it
    posts its first request and its last, the rate is the requests over the time between the first and the
    last line as read here, and wrk is interrupted only once the last ones have had time to be answered (a
    burst). Otherwise wrk runs for `seconds`, or until the requests are used up, and its own rate counts."""
    threads = 2
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for body, signature in requests:
            handle.write(f"{signature}\t{body.decode()}\n")
    env = {
        **os.environ,
        "INBOUND_REQUESTS": handle.name,
        "INBOUND_PATH": path,
        "INBOUND_HOST": base_url.split("://", 1)[1],
        "INBOUND_THREADS": str(threads),
        "INBOUND_ANNOUNCE": "1" if until_done else "",
    }
    command = [
        "wrk", f"-t{threads}", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency",
        "--timeout", "15s", "-s", str(ROOT / "bench" / "inbound_wrk.lua"), base_url,
    ]  # fmt: skip
    posting = None  # until_done: seconds from the first request posted to the last, on this side's clock
    try:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        lines = []
        if until_done:
            first = last = None
            finished = 0
            assert process.stdout is not None
            for line in process.stdout:  # until each thread posted its share (or wrk's own time is up)
                lines.append(line)
                if line.startswith("started thread"):
                    first = first or time.perf_counter()
                elif line.startswith("posted all of thread"):
                    finished += 1
                    last = time.perf_counter()
                    if finished == threads:
                        break
            if first is not None and last is not None:
                posting = last - first
            # The last requests are still being answered: closing their connections now could lose them.
            time.sleep(2.0)
            process.send_signal(signal.SIGINT)  # wrk prints its figures (its own clock includes the wait)
        output = "".join(lines) + process.communicate(timeout=seconds + 120)[0]
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, command, output)
    finally:
        os.unlink(handle.name)

    def number(pattern: str, default: float = 0.0) -> float:
        found = re.search(pattern, output)
        return float(found.group(1)) if found else default

    def millis(quantile: str) -> float:
        found = re.search(rf"^\s+{quantile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not found:
            return 0.0
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    sent = int(number(r"(\d+) requests in"))
    took = re.search(r"requests in ([\d.]+)(us|ms|s|m|h)\b", output)  # wrk writes 950.00ms, 12.00s, 1.50m
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    seconds = float(took.group(1)) * scale[took.group(2)] if took else 0.0
    not_ok = int(number(r"Non-2xx or 3xx responses: (\d+)"))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return {
        "sent": sent,
        "planned": len(requests),
        "ok": sent - not_ok,
        "statuses": {200: sent - not_ok, **({"other": not_ok} if not_ok else {})},
        "errors": errors,
        "seconds": seconds,
        "rate": len(requests) / posting if posting else number(r"Requests/sec:\s+([\d.]+)"),
        "generator": "wrk",
        "whole": until_done,  # every request posted: running out of them is the point
        "p50_ms": millis("50"),
        "p99_ms": millis("99"),
    }


# -- the server side -----------------------------------------------------------------------------------------


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    host = db["HOST"] or "localhost"
    socket_dir = host.startswith("/")
    query = f"?host={quote(host, safe='')}" if socket_dir else ""
    port = f":{db['PORT']}" if db["PORT"] else ""
    auth = quote(db["USER"], safe="") + (":" + quote(db["PASSWORD"], safe="") if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{'localhost' if socket_dir else host}{port}/{quote(db['NAME'])}{query}"


def texts_clear() -> None:
    """Empty the bench tenant's texts, conversations, links and consent rows (the bench tenant only)."""
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(BENCH_SCHEMA), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE messaging_message, messaging_conversation, signup_signuptoken, signup_consentrecord CASCADE"
        )
    connection.set_schema_to_public()


def prepare() -> list[str]:
    """The bench tenant with its members, its texts emptied; returns the members' phones."""
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from bench import leader_number_free
    from leaders.models import Leader
    from leaders.services import leader_create
    from members.demo import FICTIONAL_LINES, fictional_number
    from members.models import Member

    call_command("platform_migrate", verbosity=0)
    leader = Leader.objects.filter(slug=BENCH_SLUG).first()
    if leader is None:
        leader = leader_create(
            slug=BENCH_SLUG, name="Bench Inbound", phone_number=leader_number_free(BENCH_NUMBER)
        )
    if not leader.is_active:
        leader.reactivate()
    assert leader.schema_name == BENCH_SCHEMA
    phones = [fictional_number(FICTIONAL_LINES + 5_000_000 + i) for i in range(MEMBERS)]
    with schema_context(leader.schema_name):
        Member.objects.bulk_create([Member(phone=phone) for phone in phones], ignore_conflicts=True)
        Member.objects.filter(phone__in=phones).update(status=Member.Status.SUBSCRIBED)
    connection.set_schema_to_public()
    texts_clear()  # each run starts from no texts, no conversations, no links
    return phones


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(
    *,
    port: int,
    auth_token: str,
    workers: int,
    worker_class: str,
    threads: int,
    secret_key: str | None = None,
):
    from django.conf import settings

    from bench import PRODUCTION_ON_LOOPBACK

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "community.settings",
        "DATABASE_URL": database_url(),
        **PRODUCTION_ON_LOOPBACK,
        # `secret_key`: the one of queue workers that must read the tasks the server queues (bench/triage.py).
        "SECRET_KEY": secret_key
        or (settings.SECRET_KEY if not settings.DEBUG else secrets.token_urlsafe(32)),
        "CONSENT_HASH_KEY": settings.CONSENT_HASH_KEY,  # the ledger the server reads is this process's
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_ACCOUNT_SID": BENCH_ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",  # the inbound path sends nothing through the API
        "LOG_LEVEL": "WARNING",
        "BENCH_SCHEMA": BENCH_SCHEMA,
    }
    command = [
        sys.executable, "-m", "gunicorn", "bench.inbound_wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--worker-class", worker_class,
        "--threads", str(threads), "--backlog", "2048", "--keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    import requests

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited at start")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                _settled(process)
                return process
        except requests.RequestException:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _settled(process, *, timeout: float = 120.0) -> None:
    """Wait until gunicorn's workers are idle: each builds the gazetteer's city index in the background at
    start-up (community/wsgi.py), seconds of CPU that would otherwise be measured as the webhook's."""
    from bench import server_cpu_seconds

    deadline = time.monotonic() + timeout
    before = server_cpu_seconds(process)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = server_cpu_seconds(process)
        if now - before < 0.05:
            return
        before = now


def gunicorn_stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def burst_counts(phones_count: int) -> dict[str, int]:
    from django.db import connection
    from django_tenants.utils import schema_context

    with schema_context(BENCH_SCHEMA), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT twilio_sid) FROM messaging_message WHERE direction = 'in'"
        )
        stored, distinct = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM messaging_message WHERE direction = 'out' AND kind = 'welcome'")
        (welcomes,) = cursor.fetchone()
        cursor.execute("SELECT count(*), count(DISTINCT phone) FROM signup_signuptoken")
        tokens, token_phones = cursor.fetchone()
    connection.set_schema_to_public()
    return {
        "stored": stored,
        "distinct": distinct,
        "welcomes": welcomes,
        "tokens": tokens,
        "token_phones": token_phones,
        "phones": phones_count,
    }


def _line(label: str, figures: dict[str, Any]) -> str:
    other = {k: v for k, v in figures["statuses"].items() if str(k) != "200"}
    ran_out = (
        figures["sent"] >= 0.99 * figures["planned"]
        and figures.get("generator") == "wrk"
        and not figures.get("whole")
    )
    return (
        f"{label:<34} {figures['rate']:>8,.0f} req/s   p50 {figures['p50_ms']:6.1f} ms   "
        f"p99 {figures['p99_ms']:6.1f} ms   ({figures['ok']:,} ok of {figures['sent']:,} in "
        f"{figures['seconds']:.1f} s{', other: ' + str(other) if other else ''}"
        f"{', errors: ' + str(figures['errors']) if figures['errors'] else ''})"
        + ("  [ran out of pre-signed requests: the rate is a floor; raise --requests]" if ran_out else "")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # wrk runs for --seconds; each of its threads stops when its share of the --requests pre-signed texts is
    # used up, so there must be more than the run can post (4,000 a second here): otherwise the rate is
    # understated, and the line says so.
    parser.add_argument("--requests", type=int, default=60_000, help="pre-signed requests per throughput run")
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per throughput run")
    # One worker process per core, with threads to overlap the database round trips: the best of the
    # configurations tried on 2 cores (2×4, 4×2, 3×2, 2×2).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"])
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--burst", type=int, default=100_000, help="texts in the burst (0: skip it)")
    parser.add_argument("--burst-phones", type=int, default=50_000)
    parser.add_argument("--burst-seconds", type=float, default=1800.0, help="time limit for the burst")
    parser.add_argument(
        "--python-load", action="store_true", help="the Python load generator even when wrk is installed"
    )
    args = parser.parse_args(argv)
    generator = "wrk" if shutil.which("wrk") and not args.python_load else "python"
    throughput_run = wrk_run if generator == "wrk" else load_run

    from bench import django_setup

    django_setup()  # the bench database, never the development one
    from members.demo import fictional_number

    print("preparing the bench tenant…", flush=True)
    members = prepare()
    port = _free_port()
    auth_token = secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    server = gunicorn_start(
        port=port,
        auth_token=auth_token,
        workers=args.workers,
        worker_class=args.worker_class,
        threads=args.threads,
    )
    try:
        common = {
            "auth_token": auth_token,
            "base_url": base,
            "concurrency": args.concurrency,
            "phones": members,
        }
        for path in (BASELINE_PATH, SMS_PATH):  # warm up: connections, imports, caches
            throughput_run({**common, "path": path, "mode": "members", "count": 2000, "seconds": 5})
        baseline = throughput_run(
            {
                **common,
                "path": BASELINE_PATH,
                "mode": "members",
                "count": args.requests,
                "seconds": args.seconds,
            }
        )
        inbound = throughput_run(
            {**common, "path": SMS_PATH, "mode": "members", "count": args.requests, "seconds": args.seconds}
        )
        print(
            f"gunicorn {args.worker_class}, {args.workers} workers"
            + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
            + f", {args.concurrency} requests in flight, {os.cpu_count()} CPUs shared with the load generator"
            + f" ({'wrk' if generator == 'wrk' else 'Python, aiohttp'})"
        )
        print(_line("baseline (signature + 1 INSERT)", baseline))
        print(_line("inbound webhook (member texts)", inbound))
        share = inbound["rate"] / baseline["rate"] if baseline["rate"] else 0.0
        print(
            f"inbound / baseline: {share:.0%}   targets: ≥ 1,500 req/s "
            f"[{'met' if inbound['rate'] >= 1500 else 'NOT met'}], p99 < 50 ms "
            f"[{'met' if inbound['p99_ms'] < 50 else 'NOT met'}], ≥ 50% of baseline "
            f"[{'met' if share >= 0.5 else 'NOT met'}]"
        )

        if args.burst:
            texts_clear()  # so that the rows counted after the burst are the burst's
            phones = [fictional_number(i) for i in range(args.burst_phones)]
            burst = load_run(
                {
                    **common,
                    "path": SMS_PATH,
                    "mode": "burst",
                    "phones": phones,
                    "count": args.burst,
                    "seconds": args.burst_seconds,
                    "duplicates": 0.01,
                    "concurrency": max(args.concurrency, 32),
                }
            )
            counts = burst_counts(len(phones))
            print(_line(f"burst: {args.burst:,} texts, {len(phones):,} phones", burst))
            complete = burst["sent"] == burst["planned"]
            exact = counts["stored"] == counts["distinct"] == args.burst if complete else None
            print(
                f"burst rows: {counts['stored']:,} inbound texts stored ({counts['distinct']:,} distinct sids) "
                f"for {args.burst:,} texts + {burst['planned'] - args.burst:,} retries posted; "
                f"{counts['welcomes']:,} welcomes, {counts['tokens']:,} links for {counts['token_phones']:,} phones "
                + (
                    "→ every text stored exactly once, none lost"
                    if exact
                    else "→ MISMATCH"
                    if complete
                    else "→ stopped by the time limit"
                )
            )
    finally:
        gunicorn_stop(server)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--client":
        client_main()
    else:
        main()
