"""Login attempts sent at the same instant, over real HTTP to a threaded server: the limits hold because an
attempt is counted before its password is checked (accounts.logins). Committed data (live_db): no wrapping
transaction, so the counters are cleared at the end."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from django.core.cache import cache

from accounts import logins
from tests.console.conftest import host_of

LOCKED = "Too many failed attempts"
AT_ONCE = 20


@pytest.mark.usefixtures("live_db")
def test_attempts_sent_at_once_are_counted_before_their_passwords_are_checked(live_app, world):
    """Twenty wrong passwords at the same instant: five are checked, the others refused unchecked."""
    host = f"{host_of(world.alice)}:{live_app.port}"
    session = requests.Session()
    page = session.get(f"http://127.0.0.1:{live_app.port}/login/", headers={"Host": host}, timeout=15)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    cookies = session.cookies.get_dict()  # the CSRF cookie, for each thread's own connection
    start = threading.Barrier(AT_ONCE)
    answers: list[str] = []

    def attempt() -> None:
        start.wait()
        response = requests.post(
            f"http://127.0.0.1:{live_app.port}/login/",
            data={"csrfmiddlewaretoken": token, "username": "concurrent-guess", "password": "wrong"},
            headers={"Host": host, "Referer": f"http://{host}/login/"},
            cookies=cookies,
            timeout=60,
        )
        answers.append(response.text)

    threads = [threading.Thread(target=attempt) for _ in range(AT_ONCE)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == AT_ONCE
        assert sum(LOCKED in answer for answer in answers) == AT_ONCE - logins.LOGIN_FAILURES_PER_USER_ADDRESS
    finally:
        cache.clear()  # committed: the other tests start without these counters
