"""Limits on guessing passwords, for every login form there is: the console's and the staff admin's.

Failed logins and password-reset requests are counted in the shared cache (settings.CACHES: Redis, or the
`community_cache` table), so every web process on every machine sees the same counts. Keys are hashed with
the schema name: a leader's team and the platform's staff (the public schema) are counted apart, as their
accounts are, and neither usernames, emails nor addresses are stored in clear.

Failed logins, in windows of 15 minutes (a window starts at the first failure it counts):

- per username and address, 5: the lockout. Five wrong passwords for "mark" from one address refuse "mark"
  from that address only. Mark at home, and his teammates in the same office, still log in.
- per address, 20 across usernames: one source trying many usernames (credential stuffing). It is more
  than twice the per-pair limit, because the two windows need not start together, so one username can add
  up to 10 failures to one window of its address: one locked-out username never refuses its teammates on
  that address. A refused attempt checks no password and counts nothing, so hammering a locked pair adds
  nothing either.
- per username, 50 across addresses: the ceiling on a distributed guess, however many addresses the
  attacker has (50 guesses a quarter of an hour, whatever the password). A ceiling is also a way to lock
  the owner out: one attacker's address adds at most 10 failures to it (the pair limit), so it takes five
  addresses or more; and it never refuses the addresses the user logged in from in the last 30 days (kept
  per username and address after each success). There only the per-pair and per-address limits apply,
  which an attacker can reach only from behind that same address. So a botnet reaching the ceiling shuts
  out other botnet addresses, and new places, not the owner at the office or at home.

An attempt is counted before its password is checked, and forgiven when the password was right: checked
after, many requests sent at once would all pass the check before any failure was counted. Counters are
incremented atomically (a script in Redis; the database cache under an advisory lock per key), and a window
ends when it should, however often it is counted in.

IPv6 addresses are counted per /64, the block one subscriber gets: anyone can change the last 64 bits.

Password-reset requests, in windows of an hour, for the same reasons: per email and address 3, per email
10 (the most mail one inbox can be sent, so the form cannot be used to flood it), per address 10. Limited
requests answer the same neutral page as any other and send nothing, so the form tells nobody whether an
account exists or how often it was asked for.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction

LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_FAILURES_PER_USER_ADDRESS = 5
LOGIN_FAILURES_PER_ADDRESS = 20
LOGIN_FAILURES_PER_USER = 50
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600

PASSWORD_RESET_WINDOW_SECONDS = 60 * 60
PASSWORD_RESETS_PER_ACCOUNT_ADDRESS = 3
PASSWORD_RESETS_PER_ACCOUNT = 10
PASSWORD_RESETS_PER_ADDRESS = 10


def _address_bucket(ip: str | None) -> str:
    """The address as limits count it: an IPv4 address, an IPv6 /64, or "unknown" (all together)."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _key(kind: str, *parts: str) -> str:
    # Hashed: usernames, emails and addresses stay out of the cache in clear, and keys stay short.
    value = "\n".join((connection.schema_name, *parts))
    return f"logins:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _name(value: str | None) -> str:
    # "Mark" and "mark " are one username to count: a case or a space must not buy five more guesses.
    return (value or "").strip().lower()


# Redis: one atomic step. A counter that expired since the last count starts a new window; taking back from
# a counter that is gone leaves it gone. (Django's incr() checks the key exists, then INCRs: a key expiring
# in between would come back without an expiry, a lockout for ever.)
_REDIS_ADD = """
if tonumber(ARGV[1]) < 0 and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""


def _count(key: str) -> int:
    value = cache.get(key)
    if isinstance(value, tuple):  # (count, end of the window): see _add
        count, end = value
        return count if end > time.time() else 0
    return value or 0


def _add(key: str, delta: int, window: int) -> int:
    """Add `delta` to a counter whose window starts with its first count; the count after."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(key, write=True)
        return int(client.eval(_REDIS_ADD, 1, backend.make_and_validate_key(key), delta, window))
    # Other caches: Django's incr() is a read then a write, and the write resets the expiry to the cache's
    # default (5 minutes, not the window). So the value carries the end of its window, and the read and the
    # write are one step under a lock: PostgreSQL's, for the database cache every process shares.
    with transaction.atomic():
        if isinstance(backend, DatabaseCache):
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"community.logins.{key}"])
        now = time.time()
        value = cache.get(key)
        count, end = value if isinstance(value, tuple) and value[1] > now else (0, now + window)
        if delta < 0 and not count:
            return 0
        count += delta
        cache.set(key, (count, end), timeout=max(1, math.ceil(end - now)))
        return count


def _admit(counters: list[tuple[str, int]], window: int, *, exempt: frozenset[str] = frozenset()) -> bool:
    """Count one attempt on every counter; True when all stay within their limits (those in `exempt` are
    counted but refuse nothing). When one is over, the attempt is taken back from all of them: refused, it
    was never tried. A cache that fails raises: the callers refuse rather than let guesses through."""
    if any(_count(key) >= limit for key, limit in counters if key not in exempt):
        return False
    counted = []
    for key, limit in counters:
        counted.append(key)
        if _add(key, 1, window) > limit and key not in exempt:
            for done in counted:
                _add(done, -1, window)
            return False
    return True


# --- logins ----------------------------------------------------------------------------------------------


def _login_counters(*, username: str, ip: str | None) -> list[tuple[str, int]]:
    address = _address_bucket(ip)
    return [
        (_key("user-address", _name(username), address), LOGIN_FAILURES_PER_USER_ADDRESS),
        (_key("address", address), LOGIN_FAILURES_PER_ADDRESS),
        (_key("user", _name(username)), LOGIN_FAILURES_PER_USER),
    ]


def _known_key(*, username: str, ip: str | None) -> str:
    return _key("known", _name(username), _address_bucket(ip))


def login_attempt_admit(*, username: str, ip: str | None) -> bool:
    """Count a login attempt as a failure in advance; False (nothing counted) when a limit refuses it.

    Call it before checking the password, and `login_success_record` when the password was right."""
    counters = _login_counters(username=username, ip=ip)
    exempt = frozenset()
    if cache.get(_known_key(username=username, ip=ip)):
        exempt = frozenset({counters[2][0]})  # the per-username ceiling: see the module's docstring
    return _admit(counters, LOGIN_WINDOW_SECONDS, exempt=exempt)


def login_success_record(*, username: str, ip: str | None) -> None:
    """The password was right: the attempt counted in advance was no failure. That username's failures from
    this address are forgiven (whoever typed them knew the password after all), and the address is one the
    user logs in from. The address's failures with other usernames, and the username's from elsewhere, stay."""
    pair, address, user = (key for key, _limit in _login_counters(username=username, ip=ip))
    cache.delete(pair)
    _add(address, -1, LOGIN_WINDOW_SECONDS)
    _add(user, -1, LOGIN_WINDOW_SECONDS)
    cache.set(_known_key(username=username, ip=ip), 1, KNOWN_ADDRESS_SECONDS)


# --- password resets -------------------------------------------------------------------------------------


def password_reset_admit(*, email: str, ip: str | None) -> bool:
    """Count a password-reset request; True when its email may be sent. Answered the same either way."""
    email, address = _name(email), _address_bucket(ip)
    counters = [
        (_key("reset-email-address", email, address), PASSWORD_RESETS_PER_ACCOUNT_ADDRESS),
        (_key("reset-address", address), PASSWORD_RESETS_PER_ADDRESS),
        (_key("reset-email", email), PASSWORD_RESETS_PER_ACCOUNT),
    ]
    return _admit(counters, PASSWORD_RESET_WINDOW_SECONDS)
