"""One leader's stalled webhook receiver against another leader's queued texts, next to a same-run baseline.

    python -m bench webhook_stall [--samples 8]

Two bench leaders, made afresh for the run and dropped after it. The platform's own queue processes run as
production runs them: the default cluster (``Q_WORKERS`` = 2, replies and confirmations) and the webhooks
cluster (``Q_CLUSTER_NAME=webhooks``, ``Q_WEBHOOK_WORKERS`` = 4), with the default deadline per attempt
(``WEBHOOK_ATTEMPT_SECONDS`` = 10) and per-leader limit (``WEBHOOK_LEADER_CONCURRENCY`` = 2). Texts go to the
fake Twilio API on loopback; the stalled receiver is a socket server on loopback that answers a byte a
second and never finishes.

Figures: how long the second leader's texts take from the request that queues them (a team reply through
the API; a signup form whose confirmation is queued) to the fake Twilio, measured one at a time,

* baseline: no webhook anywhere;
* stalled: the first leader has a dozen deliveries queued to its stalled receiver, its attempts holding
  webhook workers (cut at the deadline, retried, the rest waiting their turn) the whole time.

The stalled run goes on past one deadline (attempts cut, retried later, waiting ones taking their slots).
Target: every text of the stalled run leaves within 2 s. Not a test: it prints figures (under a minute).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 2.0
STALLED_DELIVERIES = 12


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    host = db["HOST"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    if host.startswith("/"):
        url = f"postgresql://{auth}@/{db['NAME']}?host={host}"
        return url + (f"&port={db['PORT']}" if db["PORT"] else "")
    return f"postgresql://{auth}@{host}:{db['PORT']}/{db['NAME']}"


def _cluster(name: str | None, env: dict[str, str]) -> subprocess.Popen:
    if name:
        env = {**env, "Q_CLUSTER_NAME": name}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting: {what}")
        time.sleep(0.01)
    return value


class Quick:
    """The second leader: a fan in conversation with the team (replies), and fresh fans joining."""

    def __init__(self, leader, fake):
        from django.test import Client
        from django_tenants.utils import schema_context

        from accounts.models import User
        from api.services import api_token_create
        from leaders.services import leader_user_create
        from members.models import Member
        from messaging.models import Conversation

        self.leader, self.fake = leader, fake
        self.client = Client(HTTP_HOST=leader.get_primary_domain().domain)
        self.phones = iter(_phones())
        with schema_context(leader.schema_name):
            owner = leader_user_create(leader=leader, username="owner", role=User.Role.OWNER, password=None)
            self.token = api_token_create(user=owner, name="bench")[1]
            self.fan = next(self.phones)
            member = Member.objects.create(phone=self.fan, first_name="Ana")
            self.conversation = Conversation.objects.create(phone=self.fan, member=member).pk
        self.sent = self.joined = 0

    def _arrival(self, matches) -> float:
        found = _wait(lambda: [m for m in self.fake.messages if matches(m)], 60, "a text to reach Twilio")
        return found[0]["t"]

    def reply(self) -> float:
        """Seconds from the team's reply (API) to the fake Twilio."""
        self.sent += 1
        body = f"Thanks for writing! ({self.sent})"
        started = time.monotonic()
        response = self.client.post(
            f"/api/v1/conversations/{self.conversation}/messages/",
            {"body": body},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        assert response.status_code == 201, response.content
        return self._arrival(lambda m: m["body"] == body) - started

    def confirmation(self) -> float:
        """Seconds from a fan's signup form to their confirmation at the fake Twilio."""
        from django_tenants.utils import schema_context

        from signup.services import signup_link_issue

        phone = next(self.phones)
        with schema_context(self.leader.schema_name):
            url = signup_link_issue(leader=self.leader, phone=phone, language="en")
        form = {
            "first_name": "Sam",
            "last_name": "Lee",
            "gender": "female",
            "birth_date": "1990-07-14",
            "city": "Montréal",
            "email": "sam@example.org",
            "consent": "on",
            "website": "",
        }
        self.joined += 1
        started = time.monotonic()
        # Fans join from their own phones: one address each (the form is limited per leader and address).
        address = f"198.51.100.{self.joined % 250 + 1}"
        response = self.client.post(url[url.index("/j/") :], form, REMOTE_ADDR=address)
        assert response.status_code == 200, response.status_code
        return self._arrival(lambda m: m["to"] == phone) - started


def _phones():
    from members.demo import FICTIONAL_LINES, fictional_number

    start = FICTIONAL_LINES // 2 + 7
    for index in range(start, FICTIONAL_LINES):
        yield fictional_number(index)


def _measure(quick: Quick, samples: int, *, at_least: float = 0.0) -> dict[str, list[float]]:
    """`samples` texts of each kind, one at a time, and more until `at_least` seconds have passed."""
    figures: dict[str, list[float]] = {"reply": [], "confirmation": []}
    started = time.monotonic()
    while len(figures["reply"]) < samples or time.monotonic() - started < at_least:
        figures["reply"].append(quick.reply())
        figures["confirmation"].append(quick.confirmation())
        time.sleep(0.3)  # a team and fans at a human pace: texts one after another, not a flood
    return figures


def _line(label: str, seconds: list[float]) -> str:
    return (
        f"{label:<44} median {statistics.median(seconds) * 1000:7.0f} ms   "
        f"worst {max(seconds) * 1000:7.0f} ms   ({len(seconds)} texts)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=8, help="texts of each kind per run")
    args = parser.parse_args()

    from bench import django_setup

    django_setup()
    import logging

    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from api.models import WebhookAttempt
    from api.services import webhook_endpoint_create
    from api.webhooks import webhook_event_emit
    from bench import leader_number_free
    from leaders.services import leader_create
    from tests.api.helpers import TricklingReceiver
    from tests.fake_twilio import FakeTwilio

    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("django-q").setLevel(logging.WARNING)
    call_command("platform_migrate", verbosity=0)
    run = uuid.uuid4().hex[:6]
    slow = leader_create(
        slug=f"bench-hooks-slow-{run}",
        name="Stalled Receiver",
        phone_number=leader_number_free("+12025550161"),
    )
    quick_leader = leader_create(
        slug=f"bench-hooks-quick-{run}", name="Quick Replies", phone_number=leader_number_free("+12025550162")
    )
    clusters: list[subprocess.Popen] = []
    try:
        with FakeTwilio() as fake, TricklingReceiver(interval=1.0) as stalled:
            from django.conf import settings

            settings.TWILIO_ACCOUNT_SID = fake.account_sid
            settings.TWILIO_AUTH_TOKEN = fake.auth_token
            settings.TWILIO_API_BASE_URL = fake.base_url
            env = {
                **os.environ,
                "DATABASE_URL": _database_url(),
                "TWILIO_ACCOUNT_SID": fake.account_sid,
                "TWILIO_AUTH_TOKEN": fake.auth_token,
                "TWILIO_API_BASE_URL": fake.base_url,
                "LOG_LEVEL": "WARNING",
            }
            for name in (None, "webhooks"):
                clusters.append(_cluster(name, env))
            quick = Quick(quick_leader, fake)
            quick.reply()  # the clusters are up (and warm) once one text went through
            quick.confirmation()

            baseline = _measure(quick, args.samples)

            with schema_context(slow.schema_name):
                webhook_endpoint_create(url=stalled.url, events=["member.updated"])
                for number in range(STALLED_DELIVERIES):
                    webhook_event_emit(name="member.updated", payload={"id": number})
            _wait(lambda: stalled.open >= 2, 60, "the webhooks cluster to call the stalled receiver")
            started = time.monotonic()
            # Past one deadline: attempts are cut, retried later, and the waiting ones take their slots.
            stalled_figures = _measure(quick, args.samples, at_least=settings.WEBHOOK_ATTEMPT_SECONDS + 3)
            lasted = time.monotonic() - started
            with schema_context(slow.schema_name):
                cut = WebhookAttempt.objects.filter(error__startswith="Timeout").count()
            still = stalled.open
            most = stalled.most_open
            stalled.release()
    finally:
        for process in clusters:
            _stop(process)
        connection.set_schema_to_public()
        for leader in (slow, quick_leader):
            leader.delete(force_drop=True)

    print(
        f"leader B's queued texts, one at a time, {args.samples} of each kind; leader A's receiver answers a "
        f"byte a second, {STALLED_DELIVERIES} deliveries queued to it"
    )
    for kind in ("reply", "confirmation"):
        print(_line(f"{kind}, baseline (no webhook at all)", baseline[kind]))
        print(_line(f"{kind}, A's receiver stalled", stalled_figures[kind]))
    worst = max(max(seconds) for seconds in stalled_figures.values())
    worst_baseline = max(max(seconds) for seconds in baseline.values())
    verdict = "OK" if worst <= TARGET_SECONDS else "OVER TARGET"
    print(
        f"worst stalled {worst * 1000:.0f} ms vs worst baseline {worst_baseline * 1000:.0f} ms "
        f"(target: every text within {TARGET_SECONDS:g} s: {verdict})"
    )
    print(
        f"  [during the {lasted:.1f} s stalled run: {cut} of A's attempts cut at the deadline, at most {most} "
        f"open at once (its limit), {still} open at its end]"
    )


if __name__ == "__main__":
    main()
