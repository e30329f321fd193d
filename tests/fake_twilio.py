"""A fake of Twilio's REST API for messages, served over real HTTP on loopback.

The real ``twilio`` client talks to it (``TWILIO_API_BASE_URL = fake.base_url``), so tests exercise the same
code path as production, and it is cheap enough for benchmarks (a small HTTP/1.1 server of its own on
asyncio, ~100 µs of CPU per message, so that it is not what a benchmark measures; see "HTTP/1.1 on
loopback" below).

Two ways to run it:

* ``with FakeTwilio() as fake:`` serves from a background thread with its own event loop (tests);
* ``python -m tests.fake_twilio --port N`` serves from its own process (benchmarks, so that the fake does
  not share a GIL with the code measured); ``FakeTwilioProcess`` starts one and drives it over HTTP with
  the same methods as ``FakeTwilio``.

What it implements:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: basic auth, To/From/Body checks, Twilio's magic
  test numbers (+15005550001 invalid, +15005550004 unsubscribed...; ``magic_numbers=False`` turns them off),
  a 201 with a message resource shaped like Twilio's (status "queued", or "accepted" with a Messaging
  Service). Every accepted message is recorded with a monotonic (``t``) and wall (``wall``) timestamp.
* ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json``.
* Error injection: ``fail_recipient(number, code)``, ``fail_sender(number, code)``,
  ``fail_next(n, status[, code, html=])``,
  ``set_latency(seconds)``, ``reset_rules()`` (over HTTP: ``POST /_fake/rules``).
* Inspection: ``messages``, ``stats()``, ``clear()`` (over HTTP: ``GET /_fake/messages``,
  ``GET /_fake/stats``, ``POST /_fake/clear``).
* ``send_status_callbacks(...)``: Twilio-like, signed status callbacks to each message's StatusCallback URL
  (over HTTP: ``POST /_fake/status_callbacks``).

Control endpoints under ``/_fake/`` need no credentials: the fake only ever listens on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import hmac
import http
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from email.utils import formatdate
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import aiohttp
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fedcba9876543210" * 2

# Twilio error code -> (HTTP status, message template). Real codes; wording close to Twilio's.
# 30001 is really reported in a status callback (the message fails after being queued: use
# send_status_callbacks(status="failed", error_code=30001)); refusing at creation with it is allowed too,
# because the platform handles it like 21611.
ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21212: (
        400,
        "The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID.",
    ),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (
        400,
        "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio phone number.",
    ),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21611: (400, "This 'From' number has exceeded the maximum number of queued messages"),
    21612: (
        400,
        "The 'To' phone number: {to}, is not currently reachable using the 'From' number: {from_} via SMS.",
    ),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    30001: (400, "Queue overflow"),
}
_DEFAULT_CODE_FOR_STATUS = {401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}

# Twilio's magic numbers for test credentials (https://www.twilio.com/docs/iam/test-credentials).
MAGIC_RECIPIENTS = {
    "+15005550001": 21211,  # invalid
    "+15005550002": 21612,  # cannot route
    "+15005550003": 21408,  # no international permission
    "+15005550004": 21610,  # blocked (unsubscribed)
    "+15005550009": 21614,  # not SMS-capable
}
MAGIC_SENDERS = {
    "+15005550001": 21212,  # invalid
    "+15005550007": 21606,  # not owned by the account
    "+15005550008": 21611,  # queue full
}
MAX_BODY_LENGTH = 1600


@functools.lru_cache(maxsize=1024)
def _num_segments(body: str) -> int:
    # A broadcast sends one body to many people: the cache makes the count nearly free. Imported here so
    # the fake stays importable on its own if the module moves.
    from messaging.segments import segment_info

    return max(1, segment_info(body).segments)


def _error_body(code: int, status: int | None = None, **values: str) -> tuple[int, dict[str, Any]]:
    default_status, template = ERRORS.get(code, (status or 400, "Error {code}"))
    status = status or default_status
    try:
        message = template.format(code=code, **values)
    except KeyError:
        message = template
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Now:
    """RFC 2822 dates as Twilio writes them ("Thu, 30 Jul 2015 20:12:31 +0000"), formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def rfc2822(self, wall: float) -> str:
        second = int(wall)
        if second != self._second:
            self._second, self._text = second, formatdate(second, usegmt=False).replace("-0000", "+0000")
        return self._text


class FakeTwilioServer:
    """The state and aiohttp application of one fake, independent of where its event loop runs."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        magic_numbers: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._expected_auth = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._lock = threading.Lock()  # handlers run on the loop thread, tests read from theirs
        self._now = _Now()
        self._messages: list[dict[str, Any]] = []
        self._by_sid: dict[str, dict[str, Any]] = {}
        self._callbacks: list[dict[str, Any]] = []
        self._requests = 0
        self._by_status: Counter[int] = Counter()
        self._in_flight = 0
        self._in_flight_peak = 0
        self.magic_numbers = magic_numbers
        self.reset_rules()

    # -- rules -------------------------------------------------------------------------------------------

    def reset_rules(self) -> None:
        with self._lock:
            self._recipient_errors: dict[str, int] = {}
            self._sender_errors: dict[str, int] = {}
            # (HTTP status, Twilio code or None for a non-JSON answer), consumed from the front
            self._fail_next: list[tuple[int, int | None]] = []
            self._latency = 0.0

    def fail_recipient(self, number: str, code: int) -> None:
        """Refuse every message to ``number`` with Twilio error ``code`` (its usual HTTP status)."""
        with self._lock:
            self._recipient_errors[number] = code

    def fail_sender(self, number: str, code: int) -> None:
        with self._lock:
            self._sender_errors[number] = code

    def fail_next(
        self, count: int, status: int = 429, code: int | None = None, *, html: bool = False
    ) -> None:
        """Answer the next ``count`` authenticated message requests with ``status`` and Twilio's JSON error
        (``code``, by default the usual one for the status), or with an HTML page, as a proxy in front of
        Twilio would (``html=True``)."""
        if not html:
            code = code or _DEFAULT_CODE_FOR_STATUS.get(status, 20500 if status >= 500 else 20429)
        with self._lock:
            self._fail_next.extend([(status, None if html else code)] * count)

    def set_latency(self, seconds: float) -> None:
        """Delay every API answer by ``seconds`` (without blocking other requests)."""
        with self._lock:
            self._latency = max(0.0, float(seconds))

    def apply_rules(self, rules: dict[str, Any]) -> None:
        """The JSON form of the rule methods, for ``POST /_fake/rules``."""
        if rules.get("reset"):
            self.reset_rules()
        for number, code in (rules.get("recipients") or {}).items():
            self.fail_recipient(number, int(code))
        for number, code in (rules.get("senders") or {}).items():
            self.fail_sender(number, int(code))
        if rules.get("fail_next"):
            spec = rules["fail_next"]
            self.fail_next(
                int(spec.get("count", 1)),
                int(spec.get("status", 429)),
                spec.get("code"),
                html=bool(spec.get("html")),
            )
        if "latency" in rules:
            self.set_latency(float(rules["latency"]))
        if "magic_numbers" in rules:
            self.magic_numbers = bool(rules["magic_numbers"])

    # -- inspection --------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Accepted messages in arrival order: dicts with sid, t, wall, to, from, body, status_callback..."""
        with self._lock:
            return [dict(message) for message in self._messages]

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Status callbacks sent so far: sid, url, params, http_status (None if unreachable), error."""
        with self._lock:
            return list(self._callbacks)

    def stats(self) -> dict[str, Any]:
        """Counts of API requests, including refused ones: requests, accepted, rejected, by_status, and
        in_flight_peak, the most message requests that were in progress at once."""
        with self._lock:
            accepted = len(self._messages)
            return {
                "requests": self._requests,
                "accepted": accepted,
                "rejected": sum(n for status, n in self._by_status.items() if status >= 400),
                "by_status": {str(status): n for status, n in sorted(self._by_status.items())},
                "in_flight_peak": self._in_flight_peak,
            }

    def clear(self) -> None:
        """Forget messages, callbacks and counts (not the rules)."""
        with self._lock:
            self._messages.clear()
            self._by_sid.clear()
            self._callbacks.clear()
            self._requests = 0
            self._by_status.clear()
            self._in_flight_peak = self._in_flight

    # -- the API -----------------------------------------------------------------------------------------

    def route(self, request: _Request) -> _Response | None:
        """Answer a request that needs no waiting (the message API), or None for ``handle`` to await."""
        parts = request.path.split("/")
        # ["", "2010-04-01", "Accounts", sid, "Messages.json"] or [..., "Messages", "SM….json"]
        if len(parts) in (5, 6) and parts[1] == API_VERSION and parts[2] == "Accounts":
            request.match_info["account_sid"] = parts[3]
            if len(parts) == 5 and parts[4] == "Messages.json":
                if request.method != "POST":
                    return _Response(405, b"", "text/plain")
                return self._create_message(request)
            if len(parts) == 6 and parts[4] == "Messages" and parts[5].endswith(".json"):
                if request.method != "GET":
                    return _Response(405, b"", "text/plain")
                request.match_info["sid"] = parts[5][: -len(".json")]
                return self._fetch_message(request)
        return None

    async def handle(self, request: _Request) -> _Response:
        """Every other request: the control endpoints under /_fake/."""
        handlers = {
            ("GET", "/_fake/messages"): self._get_messages,
            ("GET", "/_fake/stats"): self._get_stats,
            ("POST", "/_fake/clear"): self._post_clear,
            ("POST", "/_fake/rules"): self._post_rules,
            ("POST", "/_fake/status_callbacks"): self._post_status_callbacks,
        }
        handler = handlers.get((request.method, request.path))
        if handler is None:
            return _Response(404, b"404: Not Found", "text/plain")
        return await handler(request)

    def _answer(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> _Response:
        with self._lock:
            self._by_status[status] += 1
        return _Response(status, json.dumps(body).encode(), "application/json", headers)

    def _error(self, code: int, status: int | None = None, **values: str) -> _Response:
        status, body = _error_body(code, status, **values)
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
        return self._answer(status, body, headers)

    def _authenticate(self, request: _Request) -> tuple[_Response | None, float]:
        """Counts the request; returns the refusal to send (None if authenticated) and the latency to add."""
        with self._lock:
            self._requests += 1
            latency = self._latency
        supplied = request.headers.get("authorization", "")
        if not hmac.compare_digest(supplied.encode(), self._expected_auth.encode()):
            return self._error(20003), latency
        if request.match_info["account_sid"] != self.account_sid:
            return self._error(20003), latency
        return None, latency

    def _create_message(self, request: _Request) -> _Response:
        # Only the loop thread changes these; the peak shows how many requests a client had in flight
        # (a request counts from its arrival until its answer is written, latency included).
        self._in_flight += 1
        self._in_flight_peak = max(self._in_flight_peak, self._in_flight)
        refusal, latency = self._authenticate(request)
        response = refusal or self._create(request)
        response.delay = latency
        response.written = self._create_answered
        return response

    def _create_answered(self) -> None:
        self._in_flight -= 1

    def _create(self, request: _Request) -> _Response:
        form = request.form()
        to = str(form.get("To") or "")
        from_ = str(form.get("From") or "")
        service = str(form.get("MessagingServiceSid") or "")
        body = str(form.get("Body") or "")
        with self._lock:
            injected = self._fail_next.pop(0) if self._fail_next else None
            code = self._recipient_errors.get(to) or self._sender_errors.get(from_)
        if injected is not None:
            status, injected_code = injected
            if injected_code is None:
                with self._lock:
                    self._by_status[status] += 1
                return _Response(status, b"<html><body>Bad Gateway</body></html>", "text/html")
            return self._error(injected_code, status)
        if not to:
            return self._error(21604)
        if not from_ and not service:
            return self._error(21603)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return self._error(21602)
        if len(body) > MAX_BODY_LENGTH:
            return self._error(21617)
        if code is None and self.magic_numbers:
            code = MAGIC_RECIPIENTS.get(to) or MAGIC_SENDERS.get(from_)
        if code is not None:
            return self._error(code, to=to, from_=from_)

        wall = time.time()
        sid = "SM" + os.urandom(16).hex()  # uuid4's randomness without building a UUID
        message = {
            "sid": sid,
            "t": time.monotonic(),
            "wall": wall,
            "account_sid": self.account_sid,
            "to": to,
            "from": from_ or None,
            "body": body,
            "status_callback": str(form.get("StatusCallback") or "") or None,
            "messaging_service_sid": service or None,
            # Twilio answers "accepted" when a Messaging Service will pick the sender, else "queued".
            "status": "accepted" if service and not from_ else "queued",
            "error_code": None,
            "num_segments": _num_segments(body) if body else 1,
            "date_created": self._now.rfc2822(wall),
        }
        with self._lock:
            self._messages.append(message)
            self._by_sid[sid] = message
            self._by_status[201] += 1
        # The same JSON as _resource() would give, written from a template: json.dumps of the whole
        # resource was a tenth of the fake's CPU per message, and benchmarks need the fake not to be
        # the bottleneck (tests/messaging/test_transport.py checks that both give the same document).
        return _Response(201, self._created_json(message), "application/json")

    def _fetch_message(self, request: _Request) -> _Response:
        refusal, latency = self._authenticate(request)
        if refusal is None:
            with self._lock:
                message = self._by_sid.get(request.match_info["sid"])
                resource = self._resource(message) if message is not None else None
            refusal = self._error(20404, path=request.path) if resource is None else None
        response = refusal or self._answer(200, resource)  # type: ignore[arg-type]
        response.delay = latency
        return response

    def _created_json(self, message: dict[str, Any]) -> bytes:
        """``json.dumps(self._resource(message))`` for a message just created, at a fraction of the cost."""
        sid, account_sid = message["sid"], message["account_sid"]
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
        date = _json_str(message["date_created"])
        service = message["messaging_service_sid"]
        return (
            f'{{"account_sid": "{account_sid}", "api_version": "{API_VERSION}", '
            f'"body": {_json_str(message["body"])}, "date_created": {date}, "date_sent": null, '
            f'"date_updated": {date}, "direction": "outbound-api", "error_code": null, '
            f'"error_message": null, "from": {_json_str(message["from"])}, '
            f'"messaging_service_sid": {_json_str(service)}, "num_media": "0", '
            f'"num_segments": "{message["num_segments"]}", "price": null, "price_unit": "USD", '
            f'"sid": "{sid}", "status": "{message["status"]}", '
            f'"subresource_uris": {{"media": "{uri}/Media.json"}}, "to": {_json_str(message["to"])}, '
            f'"uri": "{uri}.json"}}'
        ).encode()

    def _resource(self, message: dict[str, Any]) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{message['account_sid']}/Messages/{message['sid']}"
        return {
            "account_sid": message["account_sid"],
            "api_version": API_VERSION,
            "body": message["body"],
            "date_created": message["date_created"],
            "date_sent": None,
            "date_updated": message["date_created"],
            "direction": "outbound-api",
            "error_code": message["error_code"],
            "error_message": None,
            "from": message["from"],
            "messaging_service_sid": message["messaging_service_sid"],
            "num_media": "0",
            "num_segments": str(message["num_segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": message["sid"],
            "status": message["status"],
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": message["to"],
            "uri": f"{uri}.json",
        }

    # -- control endpoints ---------------------------------------------------------------------------------

    async def _get_messages(self, request: _Request) -> _Response:
        return _json_response(self.messages)

    async def _get_stats(self, request: _Request) -> _Response:
        return _json_response(self.stats())

    async def _post_clear(self, request: _Request) -> _Response:
        self.clear()
        return _json_response({"ok": True})

    async def _post_rules(self, request: _Request) -> _Response:
        self.apply_rules(request.json())
        return _json_response({"ok": True})

    async def _post_status_callbacks(self, request: _Request) -> _Response:
        options = request.json() if request.body else {}
        results = await self.deliver_status_callbacks(**options)
        return _json_response(results)

    # -- status callbacks --------------------------------------------------------------------------------

    async def deliver_status_callbacks(
        self,
        status: str = "delivered",
        error_code: int | None = None,
        sids: Iterable[str] | None = None,
        host: str | None = None,
        connect_to: str | None = None,
        concurrency: int = 20,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Post a status callback for each recorded message that has a StatusCallback URL (or only ``sids``).

        The form is Twilio's (MessageSid, MessageStatus, SmsSid, SmsStatus, AccountSid, From, To, ApiVersion,
        MessagingServiceSid if any, ErrorCode when ``error_code`` is given, as Twilio only sends it for
        failures), signed in ``X-Twilio-Signature`` over the StatusCallback URL exactly as recorded.

        Where the request goes: the URL's host, except that ``*.localhost`` is reached on 127.0.0.1 (Python's
        resolver does not resolve it) and ``connect_to`` ("http://127.0.0.1:8001") replaces the scheme, host
        and port. The Host header is the URL's host and port unless ``host`` overrides it. Neither changes
        the signed URL, since Twilio signs the URL it was given.
        """
        wanted = set(sids) if sids is not None else None
        with self._lock:
            targets = [
                message
                for message in self._messages
                if message["status_callback"] and (wanted is None or message["sid"] in wanted)
            ]
            for message in targets:
                message["status"] = status
                message["error_code"] = error_code
        validator = RequestValidator(self.auth_token)
        limit = asyncio.Semaphore(max(1, concurrency))
        client_timeout = aiohttp.ClientTimeout(total=timeout)

        async def post(session: aiohttp.ClientSession, message: dict[str, Any]) -> dict[str, Any]:
            url = message["status_callback"]
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": message["from"] or "",
                "MessageSid": message["sid"],
                "MessageStatus": status,
                "SmsSid": message["sid"],
                "SmsStatus": status,
                "To": message["to"],
            }
            if message["messaging_service_sid"]:
                params["MessagingServiceSid"] = message["messaging_service_sid"]
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
            headers = {
                "X-Twilio-Signature": validator.compute_signature(url, params),
                "Host": host or urlsplit(url).netloc,
                "User-Agent": "TwilioProxy/1.1",
            }
            result: dict[str, Any] = {"sid": message["sid"], "url": url, "params": params}
            async with limit:
                try:
                    async with session.post(
                        _connect_url(url, connect_to), data=params, headers=headers
                    ) as resp:
                        await resp.read()
                        result.update(http_status=resp.status, error=None)
                except (aiohttp.ClientError, OSError) as exc:
                    result.update(http_status=None, error=f"{type(exc).__name__}: {exc}")
            return result

        async with aiohttp.ClientSession(timeout=client_timeout, trust_env=False) as session:
            results = await asyncio.gather(*(post(session, message) for message in targets))
        with self._lock:
            self._callbacks.extend(results)
        return list(results)


_json_str = json.JSONEncoder(ensure_ascii=True).encode  # one JSON value: "text" or null, as json.dumps


def _connect_url(url: str, connect_to: str | None) -> str:
    parts = urlsplit(url)
    if connect_to:
        target = urlsplit(connect_to)
        return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, ""))
    hostname = parts.hostname or ""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return url


# --------------------------------------------------------------------------------------------------------
# HTTP/1.1 on loopback
#
# A small server of our own rather than aiohttp.web: the fake answers the benchmarks' tens of thousands of
# messages per second, and aiohttp's request machinery cost ~250 µs of CPU per message on the benchmark
# machine, more than the clients it measures (both clients, ours and the bare twilio one, talk to the same
# fake, so its cost weighs on both). What it speaks is plain HTTP/1.1 as Twilio's clients use it: one
# request at a time per connection (keep-alive), bodies with a Content-Length (chunked request bodies get
# a 411), answers with a Content-Length.

_REASONS = {status.value: status.phrase for status in http.HTTPStatus}
_MAX_HEAD = 64 * 1024
_MAX_BODY = 1024 * 1024


@functools.lru_cache(maxsize=4096)
def _unquoted(text: str) -> str:
    # parse_qsl's unquoting, once per distinct value: a broadcast repeats the sender, body and callback.
    return unquote_plus(text, encoding="utf-8", errors="replace")


class _Request:
    __slots__ = ("method", "path", "query", "headers", "body", "match_info")

    def __init__(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.match_info: dict[str, str] = {}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def form(self) -> dict[str, str]:
        """Form fields (the first value of each): urlencoded, as Twilio's clients send them."""
        form: dict[str, str] = {}
        if self.content_type == "application/x-www-form-urlencoded":
            for pair in self.body.decode("latin-1").split("&"):
                if pair:
                    key, _, value = pair.partition("=")
                    form.setdefault(_unquoted(key), _unquoted(value))
        return form

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class _Response:
    __slots__ = ("status", "body", "content_type", "headers", "delay", "written")

    def __init__(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers
        self.delay = 0.0  # seconds to wait before answering (set_latency)
        self.written: Any = None  # called once the answer is written

    def encode(self, keep_alive: bool) -> bytes:
        head = (
            f"HTTP/1.1 {self.status} {_REASONS.get(self.status, 'Unknown')}\r\n"
            f"Content-Type: {self.content_type}; charset=utf-8\r\nContent-Length: {len(self.body)}\r\n"
        )
        if not keep_alive:
            head += "Connection: close\r\n"
        for name, value in (self.headers or {}).items():
            head += f"{name}: {value}\r\n"
        return head.encode("latin-1") + b"\r\n" + self.body


def _json_response(value: Any) -> _Response:
    return _Response(200, json.dumps(value).encode(), "application/json")


class _HttpProtocol(asyncio.Protocol):
    """One client connection: parses requests in turn, answers each before reading the next."""

    def __init__(self, server: FakeTwilioServer, connections: set[_HttpProtocol]) -> None:
        self.server = server
        self.connections = connections
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.busy = False  # an answer is pending (latency, a control endpoint): wait before parsing more

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._serve()

    def _serve(self) -> None:
        while self.transport is not None and not self.busy:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    self._reply(_Response(431, b"", "text/plain"), keep_alive=False)
                return
            lines = bytes(self.buffer[:head_end]).decode("latin-1").split("\r\n")
            try:
                method, target, version = lines[0].split(" ")
            except ValueError:
                self._reply(_Response(400, b"", "text/plain"), keep_alive=False)
                return
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            keep_alive = version == "HTTP/1.1"
            connection = headers.get("connection", "").lower()
            if connection == "close":
                keep_alive = False
            elif connection == "keep-alive":
                keep_alive = True
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._reply(_Response(411, b"", "text/plain"), keep_alive=False)
                return
            try:
                length = int(headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= _MAX_BODY:
                self._reply(_Response(400 if length < 0 else 413, b"", "text/plain"), keep_alive=False)
                return
            body_start = head_end + 4
            if len(self.buffer) < body_start + length:
                return  # the rest of the body is still on its way
            body = bytes(self.buffer[body_start : body_start + length])
            del self.buffer[: body_start + length]
            path, _, query = target.partition("?")
            request = _Request(method, path, query, headers, body)
            try:
                response = self.server.route(request)
            except Exception:
                response = _Response(500, b"fake twilio: internal error", "text/plain")
            if response is None:
                self.busy = True
                asyncio.ensure_future(self._handle(request, keep_alive))
            elif response.delay:
                self.busy = True
                asyncio.get_running_loop().call_later(response.delay, self._reply_later, response, keep_alive)
            else:
                self._reply(response, keep_alive)

    async def _handle(self, request: _Request, keep_alive: bool) -> None:
        try:
            response = await self.server.handle(request)
        except Exception:
            response = _Response(500, b"fake twilio: internal error", "text/plain")
        self._reply_later(response, keep_alive)

    def _reply_later(self, response: _Response, keep_alive: bool) -> None:
        self.busy = False
        self._reply(response, keep_alive)
        if self.transport is not None and self.buffer:
            self._serve()

    def _reply(self, response: _Response, keep_alive: bool) -> None:
        if response.written is not None:
            response.written()
        if self.transport is None:
            return
        self.transport.write(response.encode(keep_alive))
        if not keep_alive:
            self.transport.close()


class _Site:
    """The listening socket of one fake and its open connections."""

    def __init__(self, server: asyncio.Server, connections: set[_HttpProtocol]) -> None:
        self.server = server
        self.connections = connections

    async def cleanup(self) -> None:
        self.server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        await self.server.wait_closed()


async def _start_site(server: FakeTwilioServer, host: str, port: int) -> tuple[_Site, int]:
    connections: set[_HttpProtocol] = set()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: _HttpProtocol(server, connections), host, port, backlog=1024, reuse_address=True
    )
    return _Site(listener, connections), listener.sockets[0].getsockname()[1]


class FakeTwilio(FakeTwilioServer):
    """The fake served from a background thread with its own event loop: ``with FakeTwilio() as fake:``."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        magic_numbers: bool = True,
    ) -> None:
        super().__init__(account_sid=account_sid, auth_token=auth_token, magic_numbers=magic_numbers)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: _Site | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        self._runner, self.port = asyncio.run_coroutine_threadsafe(
            _start_site(self, self.host, self.port), loop
        ).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def send_status_callbacks(
        self,
        status: str = "delivered",
        error_code: int | None = None,
        sids: Iterable[str] | None = None,
        *,
        host: str | None = None,
        connect_to: str | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """See ``deliver_status_callbacks``. Blocks until every callback has an answer; the receiving server
        must therefore not run in the calling thread."""
        assert self._loop is not None, "start the fake first"
        coro = self.deliver_status_callbacks(
            status, error_code, list(sids) if sids is not None else None, host, connect_to, timeout=timeout
        )
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


class FakeTwilioProcess:
    """The fake in its own process (``python -m tests.fake_twilio``), driven over HTTP: for benchmarks."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        port: int = 0,
        magic_numbers: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.port = port
        self.magic_numbers = magic_numbers
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> Self:
        command = [sys.executable, "-m", "tests.fake_twilio", "--port", str(self.port)]
        command += ["--account-sid", self.account_sid, "--auth-token", self.auth_token]
        if not self.magic_numbers:
            command.append("--no-magic-numbers")
        root = Path(__file__).resolve().parents[1]
        self._process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()  # the only line it prints: "... listening on URL"
        if not line:
            self.stop()
            raise RuntimeError("the fake Twilio process did not start")
        self.base_url = line.rsplit(" ", 1)[-1]
        self.port = int(self.base_url.rsplit(":", 1)[-1])
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, method: str, path: str, payload: Any = None, timeout: float = 60.0) -> Any:
        import requests  # only needed in this mode

        response = requests.request(method, self.base_url + path, json=payload, timeout=timeout)
        response.raise_for_status()
        return response.json()

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_fake/messages")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_fake/stats")

    def clear(self) -> None:
        self._call("POST", "/_fake/clear")

    def reset_rules(self) -> None:
        self._call("POST", "/_fake/rules", {"reset": True})

    def fail_recipient(self, number: str, code: int) -> None:
        self._call("POST", "/_fake/rules", {"recipients": {number: code}})

    def fail_sender(self, number: str, code: int) -> None:
        self._call("POST", "/_fake/rules", {"senders": {number: code}})

    def fail_next(
        self, count: int, status: int = 429, code: int | None = None, *, html: bool = False
    ) -> None:
        spec = {"count": count, "status": status, "code": code, "html": html}
        self._call("POST", "/_fake/rules", {"fail_next": spec})

    def set_latency(self, seconds: float) -> None:
        self._call("POST", "/_fake/rules", {"latency": seconds})

    def send_status_callbacks(
        self,
        status: str = "delivered",
        error_code: int | None = None,
        sids: Iterable[str] | None = None,
        *,
        host: str | None = None,
        connect_to: str | None = None,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        options = {"status": status, "error_code": error_code, "host": host, "connect_to": connect_to}
        options["sids"] = list(sids) if sids is not None else None
        options["timeout"] = timeout
        return self._call("POST", "/_fake/status_callbacks", options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Twilio REST API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed on stdout)")
    parser.add_argument(
        "--account-sid", default=os.environ.get("FAKE_TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT_SID)
    )
    parser.add_argument("--auth-token", default=os.environ.get("FAKE_TWILIO_AUTH_TOKEN", DEFAULT_AUTH_TOKEN))
    parser.add_argument("--no-magic-numbers", action="store_true", help="treat +1500555000x like any number")
    args = parser.parse_args(argv)
    server = FakeTwilioServer(
        account_sid=args.account_sid, auth_token=args.auth_token, magic_numbers=not args.no_magic_numbers
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    runner, port = loop.run_until_complete(_start_site(server, args.host, args.port))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, loop.stop)
    # The one line on stdout: FakeTwilioProcess reads the URL from it, then nobody reads the pipe again.
    print(f"fake twilio listening on http://{args.host}:{port}", flush=True)
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(runner.cleanup())
        loop.close()


if __name__ == "__main__":
    main()
