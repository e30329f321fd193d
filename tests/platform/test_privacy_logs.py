"""Nothing personal in the platform's logs: a fan's whole journey, then every line the server wrote.

The platform runs as it does for real, in processes of its own on the test database: the web server
(gunicorn as in production, with its access log turned on; `runserver` as in development, whose access
log is Django's `django.server`) and a queue worker. A fan texts the leader's number (a signed Twilio
webhook), gets the welcome with a personal link, opens it, fills the form in and is confirmed (the
confirmation text goes out through the worker); a teammate logs into the console and searches the members by
the fan's number the way the page's search form submits it, opens the member's page, and an API client
looks the member up by phone. Then the whole of what each process wrote (stdout and stderr, the access log
included) must hold neither the fan's number, in E.164 or as its national digits, nor their email.
"""

from __future__ import annotations

import html
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import phonenumbers
import pytest
import requests
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context
from twilio.request_validator import RequestValidator

from accounts.models import User
from api.services import api_token_create
from leaders.services import leader_create, leader_user_create
from messaging.models import Message, SmsStatus
from messaging.twilio.transport import local_auth_token
from tests.conftest import TEAM_PASSWORD
from tests.leaders.test_commands import test_database_url
from tests.messaging.webhooks import SMS_PATH, sms_params
from tests.phones import unique_phone
from tests.test_setup_run import free_port

ROOT = Path(__file__).resolve().parents[2]
FAN_EMAIL = "maya.privacy-test@example.org"
SENT = [SmsStatus.WIRED, SmsStatus.SENT, SmsStatus.DELIVERED]  # the worker handed it over


def platform_env(port: int) -> dict[str, str]:
    """What a deployment's processes would get, on the test database; the most talkative log level."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "TWILIO_"))}
    env.update(
        DATABASE_URL=test_database_url(),
        DEBUG="true",
        SECRET_KEY=settings.SECRET_KEY,
        CONSENT_HASH_KEY=settings.CONSENT_HASH_KEY,
        PUBLIC_BASE_URL=f"http://localhost:{port}",
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
        Q_WORKERS="1",
    )
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


SERVERS = {
    # Production's command (README), with the access log an operator would turn on.
    "gunicorn": [
        "-m",
        "gunicorn",
        "community.wsgi",
        "--workers",
        "1",
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--log-level",
        "debug",
        "--bind",
    ],
    # Development's (make run): Django's own server, whose request lines are the django.server logger's.
    "runserver": ["manage.py", "runserver", "--noreload"],
}


class Platform:
    """The web server and a queue worker as subprocesses, each writing everything to a log file."""

    def __init__(self, kind: str, tmp_path: Path):
        self.port = free_port()
        self.env = platform_env(self.port)
        self.logs: list[Path] = []
        self.processes: list[subprocess.Popen] = []
        address = f"127.0.0.1:{self.port}"
        self._start("web", [sys.executable, *SERVERS[kind], address], tmp_path)
        self._start("worker", [sys.executable, "manage.py", "qcluster"], tmp_path)

    def _start(self, name: str, command: list[str], tmp_path: Path) -> None:
        log = tmp_path / f"{name}.log"
        self.logs.append(log)
        with log.open("w") as out:
            self.processes.append(
                subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
            )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5).ok:
                    return
            except requests.ConnectionError:
                pass
            assert all(p.poll() is None for p in self.processes), self.log_text()
            assert time.monotonic() < deadline, self.log_text()
            time.sleep(0.3)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def log_text(self) -> str:
        return "".join(log.read_text(errors="replace") for log in self.logs if log.exists())

    def session(self, host: str) -> requests.Session:
        session = requests.Session()
        session.headers["Host"] = f"{host}:{self.port}"
        session.base = f"http://127.0.0.1:{self.port}"  # type: ignore[attr-defined]
        return session


def _get(session: requests.Session, path: str, **kwargs) -> requests.Response:
    return session.get(session.base + path, timeout=30, allow_redirects=False, **kwargs)  # type: ignore[attr-defined]


def _post(session: requests.Session, path: str, data: dict, **kwargs) -> requests.Response:
    return session.post(session.base + path, data=data, timeout=30, allow_redirects=False, **kwargs)  # type: ignore[attr-defined]


def _follow(session: requests.Session, response: requests.Response) -> requests.Response:
    while response.is_redirect:
        response = _get(session, urlsplit(response.headers["Location"]).path + _query(response))
    return response


def _query(response: requests.Response) -> str:
    query = urlsplit(response.headers["Location"]).query
    return f"?{query}" if query else ""


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _search_form(page: str) -> tuple[str, str]:
    """(method, action) of the members page's search form, as a browser would submit it."""
    tag = re.search(r"<form[^>]*role=\"search\"[^>]*>", page).group(0)
    method = re.search(r'method="(\w+)"', tag).group(1).upper()
    action = re.search(r'action="([^"]*)"', tag)
    return method, html.unescape(action.group(1)) if action and action.group(1) else ""


@pytest.fixture
def leader_with_team(live_db):
    leader = leader_create(
        slug="priv" + os.urandom(3).hex(),
        name="Privacy Leader",
        phone_number=unique_phone(),
        countries=["US", "CA"],
    )
    owner = leader_user_create(leader=leader, username="owner", role=User.Role.OWNER, password=TEAM_PASSWORD)
    with schema_context(leader.schema_name):
        _token, raw = api_token_create(user=User.objects.get(pk=owner.pk), name="privacy test")
    yield leader, raw
    connection.set_schema_to_public()
    leader.delete(force_drop=True)


@pytest.mark.parametrize("kind", sorted(SERVERS))
def test_a_fans_journey_leaves_neither_their_number_nor_their_email_in_the_platforms_logs(
    leader_with_team, tmp_path, kind
):
    leader, api_token = leader_with_team
    fan = unique_phone()
    national = str(phonenumbers.parse(fan).national_number)
    platform = Platform(kind, tmp_path)
    try:
        platform.wait_until_up()
        leader_host = leader.get_primary_domain().domain

        # 1. The fan texts the leader's number: Twilio's signed webhook, answered with the welcome and a link.
        public = platform.session("localhost")
        params = sms_params(from_=fan, to=str(leader.phone_number), body="Hello!")
        signature = RequestValidator(local_auth_token()).compute_signature(
            platform.env["PUBLIC_BASE_URL"] + SMS_PATH, params
        )
        welcome = _post(public, SMS_PATH, params, headers={"X-Twilio-Signature": signature})
        assert welcome.status_code == 200 and "/j/" in welcome.text, welcome.text
        link = urlsplit(re.search(r"https?://\S+/j/[\w-]+", welcome.text).group(0))

        # 2. The fan opens the link and fills the form in.
        fan_browser = platform.session(leader_host)
        page = _get(fan_browser, link.path)
        assert page.status_code == 200
        thanks = _post(
            fan_browser,
            link.path,
            {
                "csrfmiddlewaretoken": _csrf(page.text),
                "first_name": "Maya",
                "last_name": "Privacy",
                "gender": "female",
                "birth_date": "1990-07-14",
                "city": "Montréal",
                "email": FAN_EMAIL,
                "consent": "on",
                "website": "",
            },
            headers={"Referer": f"http://{leader_host}:{platform.port}{link.path}"},
        )
        assert thanks.status_code == 200 and "Maya" in thanks.text, thanks.text[:2000]

        # 3. The confirmation text goes out through the worker.
        with schema_context(leader.schema_name):
            deadline = time.monotonic() + 60
            while not Message.objects.filter(
                phone=fan, kind=Message.Kind.CONFIRMATION, status__in=SENT
            ).exists():
                assert time.monotonic() < deadline, platform.log_text()
                time.sleep(0.3)
            member_id = (
                Message.objects.filter(phone=fan).exclude(member=None).values_list("member_id", flat=True)[0]
            )

        # 4. A teammate logs in, searches the members by the fan's number as the page's form submits it, and
        #    opens the member's page.
        teammate = platform.session(leader_host)
        login = _get(teammate, "/login/")
        logged_in = _post(
            teammate,
            "/login/",
            {"csrfmiddlewaretoken": _csrf(login.text), "username": "owner", "password": TEAM_PASSWORD},
            headers={"Referer": f"http://{leader_host}:{platform.port}/login/"},
        )
        assert logged_in.status_code == 302, logged_in.text[:2000]
        members = _get(teammate, "/members/")
        method, action = _search_form(members.text)
        search = {"q": fan}
        if method == "POST":
            found = _post(
                teammate,
                action or "/members/",
                {**search, "csrfmiddlewaretoken": _csrf(members.text)},
                headers={"Referer": f"http://{leader_host}:{platform.port}/members/"},
            )
        else:
            found = _get(teammate, action or "/members/", params=search)
        found = _follow(teammate, found)
        assert found.status_code == 200 and f"/members/{member_id}/" in found.text, found.text[:3000]
        assert _get(teammate, f"/members/{member_id}/").status_code == 200

        # 5. An API client looks the member up by phone (documented: q takes an E.164 number).
        api = platform.session(leader_host)
        answer = _get(
            api, "/api/v1/members/", params={"q": fan}, headers={"Authorization": f"Bearer {api_token}"}
        )
        assert answer.status_code == 200 and [m["id"] for m in answer.json()["results"]] == [member_id]
        # The server writes a request's access line after the client has its answer: wait for the last
        # one before stopping it, or a stop under load can cut it off (seen once in CI).
        deadline = time.monotonic() + 10
        while "/api/v1/members/" not in platform.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        platform.stop()

    log = platform.log_text()
    # The access log was on and caught the journey: a silent server would prove nothing.
    assert "/api/v1/members/" in log and "/members/" in log and "/j/" in log, log
    for secret in (fan, quote(fan), national, FAN_EMAIL, quote(FAN_EMAIL)):
        assert secret not in log, f"{secret!r} is in the {kind} platform's log:\n{log}"
