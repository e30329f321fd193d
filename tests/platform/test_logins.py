"""Limits on guessing passwords (accounts.logins), through the real pages: the console's login on a leader's
host, the staff admin's login on the platform's host, the console's password reset, and the client address
behind a proxy (TRUSTED_PROXIES)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from accounts import logins
from accounts.models import User
from tests.conftest import TEAM_PASSWORD
from tests.console.conftest import host_of

LOCKED = "Too many failed attempts"
HOME, OFFICE, CAFE = "198.51.100.10", "198.51.100.20", "198.51.100.30"


@pytest.fixture(autouse=True)
def _no_counters(db):
    cache.clear()
    yield
    cache.clear()


def console(leader, address: str, **headers) -> Client:
    return Client(HTTP_HOST=host_of(leader), REMOTE_ADDR=address, **headers)


def log_in(client: Client, username: str, password: str = TEAM_PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def logged_in(response) -> bool:
    return response.status_code == 302


def locked(response) -> bool:
    return response.status_code == 200 and LOCKED in response.content.decode()


def fail(client: Client, username: str, times: int, **extra) -> None:
    for _ in range(times):
        response = log_in(client, username, "wrong", **extra)
        assert response.status_code == 200 and not locked(response)


# --- the console's login ---------------------------------------------------------------------------------


def test_five_failures_lock_that_username_from_that_address_only(world):
    office = console(world.alice, OFFICE)
    fail(office, "mark", 5)
    assert locked(log_in(office, "mark"))  # even with the right password
    for _ in range(3 * logins.LOGIN_FAILURES_PER_ADDRESS):  # refused unchecked: counted nowhere
        assert locked(log_in(office, "mark", "wrong"))
    assert logged_in(log_in(console(world.alice, HOME), "mark"))  # mark at home
    assert logged_in(log_in(console(world.alice, OFFICE), "olivia"))  # his teammate at the office


def test_failures_from_one_address_across_usernames_refuse_that_address_only(world):
    cafe = console(world.alice, CAFE)
    for number in range(logins.LOGIN_FAILURES_PER_ADDRESS):
        log_in(cafe, f"nobody{number}", "wrong")
    assert locked(log_in(cafe, "olivia"))
    assert logged_in(log_in(console(world.alice, OFFICE), "olivia"))


def test_a_guess_spread_over_many_addresses_stops_at_the_per_user_ceiling(world):
    per_address = logins.LOGIN_FAILURES_PER_USER_ADDRESS
    rounds = logins.LOGIN_FAILURES_PER_USER // per_address  # addresses an attacker needs to reach it
    attackers = [f"203.0.113.{number}" for number in range(1, rounds + 2)]
    for address in attackers[: rounds - 1]:
        fail(console(world.alice, address), "mark", per_address)
    # Below the ceiling, mark logs in from an address he never used.
    assert logged_in(log_in(console(world.alice, CAFE), "mark"))
    fail(console(world.alice, attackers[rounds - 1]), "mark", per_address)
    # At the ceiling, no new address gets another guess, even with the right password...
    assert locked(log_in(console(world.alice, attackers[-1]), "mark"))
    assert locked(log_in(console(world.alice, OFFICE), "mark"))
    # ...but where mark logged in lately he still does, and his teammates are not concerned.
    assert logged_in(log_in(console(world.alice, CAFE), "mark"))
    assert logged_in(log_in(console(world.alice, attackers[-1]), "olivia"))


def counter_lifetimes() -> list[float]:
    """Seconds each limit counter has left in the shared cache, whichever it is (settings.CACHES)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(None)
        return [float(client.ttl(key)) for key in client.scan_iter(match=":1:logins:*")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM expires - clock_timestamp()) FROM public.community_cache WHERE cache_key LIKE %s",
            [":1:logins:%"],
        )
        return [float(row[0]) for row in cursor.fetchall()]


def test_a_lockout_lasts_its_whole_window_however_often_it_is_counted_in(world):
    fail(console(world.alice, OFFICE), "mark", logins.LOGIN_FAILURES_PER_USER_ADDRESS)
    lifetimes = counter_lifetimes()
    assert len(lifetimes) == 3  # the pair, the address, the username
    # Each counter ends with the window its first failure opened (15 minutes), not with the cache's default
    # expiry (5 minutes) renewed by each count.
    assert all(logins.LOGIN_WINDOW_SECONDS - 120 < left <= logins.LOGIN_WINDOW_SECONDS for left in lifetimes)


def test_ipv6_addresses_are_counted_per_64_block(world):
    for host in range(1, logins.LOGIN_FAILURES_PER_USER_ADDRESS + 1):
        log_in(console(world.alice, f"2001:db8:1:1::{host}"), "mark", "wrong")
    # A new address in the same /64 is the same subscriber; the next /64 is someone else.
    assert locked(log_in(console(world.alice, "2001:db8:1:1::ffff"), "mark"))
    assert logged_in(log_in(console(world.alice, "2001:db8:1:2::1"), "mark"))


def test_failures_on_one_leader_do_not_lock_the_same_username_on_another(world):
    fail(console(world.alice, OFFICE), "bruno", 5)
    assert logged_in(log_in(console(world.bob, OFFICE), "bruno"))


def test_a_broken_cache_refuses_logins_with_a_clear_message(world, settings):
    # A Redis nobody listens on: the limits cannot count, so no password is checked.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = log_in(console(world.alice, OFFICE), "olivia", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert "La connexion est impossible pour le moment" in response.content.decode()


# --- the staff admin's login -----------------------------------------------------------------------------


def admin_log_in(address: str, password: str = TEAM_PASSWORD):
    client = Client(REMOTE_ADDR=address)  # the platform's host: the public schema's staff
    return client.post("/admin/login/?next=/admin/", {"username": "carol", "password": password})


def test_the_staff_admin_login_is_limited_per_user_and_address(world):
    for _ in range(logins.LOGIN_FAILURES_PER_USER_ADDRESS):
        response = admin_log_in(OFFICE, "wrong")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    response = admin_log_in(OFFICE)
    assert response.status_code == 200 and LOCKED in response.content.decode()
    response = admin_log_in(HOME)
    assert response.status_code == 302 and response["Location"] == "/admin/"


# --- the console's password reset ------------------------------------------------------------------------


def ask_reset(leader, address: str, email: str):
    response = console(leader, address).post("/password/reset/", {"email": email})
    # Always the same neutral answer: sent, limited or unknown.
    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    return response


@pytest.fixture
def olivia_email(world):
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="olivia").update(email="olivia@example.org")
    return "olivia@example.org"


def test_reset_links_for_one_account_from_one_address_are_limited(world, olivia_email):
    for _ in range(logins.PASSWORD_RESETS_PER_ACCOUNT_ADDRESS + 2):
        ask_reset(world.alice, CAFE, olivia_email)
    assert len(mail.outbox) == logins.PASSWORD_RESETS_PER_ACCOUNT_ADDRESS
    ask_reset(world.alice, HOME, olivia_email.upper())  # the same account, another address
    assert len(mail.outbox) == logins.PASSWORD_RESETS_PER_ACCOUNT_ADDRESS + 1


def test_one_address_asking_for_many_accounts_is_limited(world, olivia_email):
    for number in range(logins.PASSWORD_RESETS_PER_ADDRESS):
        ask_reset(world.alice, CAFE, f"nobody{number}@example.org")
    assert mail.outbox == []  # none of them is an account: nothing sent, and the same page
    ask_reset(world.alice, CAFE, olivia_email)
    assert mail.outbox == []
    ask_reset(world.alice, HOME, olivia_email)
    assert len(mail.outbox) == 1


def test_one_inbox_gets_at_most_the_per_account_ceiling_however_many_addresses_ask(world, olivia_email):
    for number in range(2 * logins.PASSWORD_RESETS_PER_ACCOUNT):
        ask_reset(world.alice, f"203.0.113.{number + 1}", olivia_email)
    assert len(mail.outbox) == logins.PASSWORD_RESETS_PER_ACCOUNT


def test_the_page_after_a_reset_request_is_the_same_for_every_case_and_translated(world, olivia_email):
    client = console(world.alice, CAFE)
    neutral = client.get("/password/reset/sent/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Nur wenige Links pro Stunde" in neutral
    for _ in range(logins.PASSWORD_RESETS_PER_ACCOUNT_ADDRESS + 1):
        response = client.post("/password/reset/", {"email": olivia_email}, follow=True)
        assert response.redirect_chain == [("/password/reset/sent/", 302)]
    unknown = client.post("/password/reset/", {"email": "nobody@example.org"}, follow=True)
    assert unknown.redirect_chain == [("/password/reset/sent/", 302)]


# --- the client's address behind a proxy -----------------------------------------------------------------


def test_x_forwarded_for_is_ignored_without_trusted_proxies(world, settings):
    settings.TRUSTED_PROXIES = []
    for number in range(logins.LOGIN_FAILURES_PER_USER_ADDRESS):
        log_in(console(world.alice, OFFICE, HTTP_X_FORWARDED_FOR=f"192.0.2.{number}"), "mark", "wrong")
    # Whatever the client claims, it is the office's address that failed five times.
    assert locked(log_in(console(world.alice, OFFICE, HTTP_X_FORWARDED_FOR="192.0.2.99"), "mark"))
    assert logged_in(log_in(console(world.alice, HOME), "mark"))


def test_x_forwarded_for_is_the_client_behind_a_trusted_proxy(world, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    fail(console(world.alice, "10.0.0.2", HTTP_X_FORWARDED_FOR=OFFICE), "mark", 5)
    # The proxy appends what it saw; whatever the client wrote before it changes nothing.
    spoofed = f"{HOME}, {OFFICE}"
    assert locked(log_in(console(world.alice, "10.0.0.3", HTTP_X_FORWARDED_FOR=spoofed), "mark"))
    # Mark at home, through the same proxy, is another address.
    assert logged_in(log_in(console(world.alice, "10.0.0.2", HTTP_X_FORWARDED_FOR=HOME), "mark"))
