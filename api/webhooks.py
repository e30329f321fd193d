"""Outbound webhooks: events, signatures, and the one HTTP call per attempt.

An event is stored once, with one delivery per subscribed endpoint, and each delivery is sent by the queue
(`api.tasks.webhook_deliver`, in the webhooks cluster of its own), never inside a request. Every attempt is
signed afresh:

    X-Community-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Receivers recompute the HMAC over the raw body and refuse old timestamps (replays). docs/api.md shows how.

One attempt has one deadline (settings.WEBHOOK_ATTEMPT_SECONDS) for everything: resolving the host,
connecting, TLS, sending, the answer's status line, headers and excerpt. A receiver that trickles its answer
a byte at a time would never trip a timeout per read (each byte resets it), so before every read the socket's
timeout is set to what is left of the deadline; resolving runs in a thread waited for until the deadline.

SSRF: a webhook URL is chosen by a leader's owner, and our workers call it. Unless
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on (development, tests), URLs whose host is or resolves to a loopback,
private, link-local, multicast or reserved address are refused, at registration and again before each
attempt; the attempt then connects to the very addresses it checked (no second lookup a changed DNS answer
could slip through, so no rebinding window; proxy variables such as HTTPS_PROXY are not used). Redirects are
never followed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import http.client
import io
import ipaddress
import json
import os
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django_q.models import Schedule
from django_q.tasks import async_task
from requests.utils import requote_uri

from api.models import WEBHOOK_SECRET_PREFIX, WebhookDelivery, WebhookEndpoint, WebhookEvent

SIGNATURE_HEADER = "X-Community-Signature"
EVENT_HEADER = "X-Community-Event"
EVENT_ID_HEADER = "X-Community-Event-Id"
ATTEMPT_HEADER = "X-Community-Delivery-Attempt"
USER_AGENT = "community-webhooks/1"
MAX_RESPONSE_EXCERPT = 500
TASK = "api.tasks.webhook_deliver"  # the dotted path django-q stores


class WebhookUrlError(ValueError):
    pass


def webhook_secret_new() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-Community-Signature for this body at this time."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_cluster() -> str | None:
    """The django-q cluster whose workers make the attempts (None: the default one)."""
    return getattr(settings, "WEBHOOK_CLUSTER", "webhooks") or None


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class WebhookTarget:
    """Where one URL's attempts go: checked once, connected to as is."""

    scheme: str
    host: str  # the host name as ASCII (IDNA), or an IP address without brackets
    port: int
    path: str  # path and query, percent-encoded

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def webhook_target(url: str) -> WebhookTarget:
    """The URL's scheme, host, port and path, or WebhookUrlError for a URL we must or cannot call (without
    looking the host up: `webhook_addresses` does)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1" and the like
        raise WebhookUrlError("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlError("Webhook URLs start with http:// or https://.")
    if not parts.hostname:
        raise WebhookUrlError("This URL has no host.")
    if parts.username or parts.password:
        raise WebhookUrlError("Put no user name or password in the URL; check the signature instead.")
    try:
        port = parts.port  # ValueError past 65535 or when not digits
    except ValueError:
        port = 0
    if port == 0:
        raise WebhookUrlError("The port must be a number from 1 to 65535.")
    try:
        host = parts.hostname if parts.hostname.isascii() else parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise WebhookUrlError("This host name is not valid.") from None
    path = requote_uri((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    target = WebhookTarget(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return target
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise WebhookUrlError("Webhooks cannot target this platform's internal addresses.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return target
    if not _address_is_public(host):
        raise WebhookUrlError("Webhooks cannot target private, loopback or reserved addresses.")
    return target


def webhook_url_check(url: str, *, resolve: bool) -> None:
    """Refuse URLs our workers must not call; WebhookUrlError says why.

    `resolve=False` (registration) checks the scheme, the port and literal addresses; `resolve=True` also
    resolves the host name and checks every address it has.
    """
    target = webhook_target(url)
    if resolve:
        webhook_addresses(target, timeout=float(settings.WEBHOOK_ATTEMPT_SECONDS))


# Host lookups run here, so that an attempt can stop waiting for one at its deadline (getaddrinfo itself
# cannot be interrupted; the thread finishes when the resolver gives up). One pool per process: a django-q
# worker is a forked process, which inherits no running threads.
_resolver: tuple[int, concurrent.futures.ThreadPoolExecutor] | None = None
_resolver_lock = threading.Lock()


def _resolver_pool() -> concurrent.futures.ThreadPoolExecutor:
    global _resolver
    with _resolver_lock:
        if _resolver is None or _resolver[0] != os.getpid():
            _resolver = (os.getpid(), concurrent.futures.ThreadPoolExecutor(8, "webhook-resolve"))
        return _resolver[1]


def webhook_addresses(target: WebhookTarget, *, timeout: float) -> list[tuple]:
    """The socket addresses to connect to for `target`, every one of them checked; WebhookUrlError when the
    name does not resolve or resolves to an address we must not call, TimeoutError after `timeout`."""
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        ip = None
    if ip is not None:
        family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        return [(family, (target.host, target.port))]
    lookup = _resolver_pool().submit(
        socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    try:
        infos = lookup.result(timeout=max(timeout, 0.001))
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"the host name did not resolve within {timeout:g} s") from None
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlError(f"The host name does not resolve ({exc}).") from None
    if not infos:
        raise WebhookUrlError("The host name does not resolve.")
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and not all(
        _address_is_public(info[4][0]) for info in infos
    ):
        raise WebhookUrlError("Webhooks cannot target private, loopback or reserved addresses.")
    return [(info[0], info[4]) for info in infos]


# Which events have at least one active endpoint, per schema: most leaders have no webhooks, and every inbound
# text asks. Kept LISTENERS_CACHE_SECONDS; cleared in this process when an endpoint is saved or deleted, so
# another process may miss a brand-new endpoint's events for those few seconds. Only "nobody listens" is
# trusted: when someone may listen, the endpoints are read again, so a deactivated endpoint never gets one.
LISTENERS_CACHE_SECONDS = 5.0
_listeners_cache: dict[str, tuple[float, frozenset[str]]] = {}
_listeners_lock = threading.Lock()


def _events_listened() -> frozenset[str]:
    schema = connection.schema_name
    now = time.monotonic()
    cached = _listeners_cache.get(schema)
    if cached is not None and cached[0] > now:
        return cached[1]
    events: set[str] = set()
    for subscribed in WebhookEndpoint.objects.filter(is_active=True).values_list("events", flat=True):
        events.update(subscribed)
    with _listeners_lock:
        _listeners_cache[schema] = (now + LISTENERS_CACHE_SECONDS, frozenset(events))
    return frozenset(events)


def webhook_listeners_clear(**_signal_kwargs) -> None:
    with _listeners_lock:
        _listeners_cache.clear()


def webhook_event_emit(
    *, name: str, payload: dict[str, Any] | Callable[[], dict[str, Any]]
) -> WebhookEvent | None:
    """Record an event and queue its delivery to every active endpoint subscribed to it.

    Call inside a leader's schema, in the transaction that made the change: deliveries are queued when it
    commits, and vanish with it if it rolls back. Returns None (and stores nothing) when no endpoint listens.
    `payload` may be a function, called only when some endpoint listens, so hot paths (every inbound text)
    pay no query at all while the schema's listeners are cached and none listens to `name`.
    """
    if name not in WebhookEvent.Name.values:
        raise ValueError(f"unknown webhook event {name!r}")
    if name not in _events_listened():
        return None
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(is_active=True, events__contains=[name]).values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return None
    if callable(payload):
        payload = payload()
    # Round-trip through JSON now, so what is stored is exactly what every attempt will send.
    payload = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    event = WebhookEvent.objects.create(event_id="evt_" + secrets.token_hex(12), name=name, payload=payload)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint_id=endpoint_id) for endpoint_id in endpoint_ids
    )
    schema_name = connection.schema_name
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(delivery_ids, schema_name))
    return event


def webhook_events_emit(*, name: str, payloads: Callable[[], list[dict[str, Any]]]) -> list[WebhookEvent]:
    """`webhook_event_emit` for many events of one kind at once (a triage batch's texts): one event per
    payload, the listeners read once, the events and their deliveries written in two INSERTs, queued when
    the transaction commits. `payloads` is called only when some endpoint listens, so a batch nobody
    listens to costs no query; it should build every payload with one query, not one per event."""
    if name not in WebhookEvent.Name.values:
        raise ValueError(f"unknown webhook event {name!r}")
    if name not in _events_listened():
        return []
    endpoint_ids = list(
        WebhookEndpoint.objects.filter(is_active=True, events__contains=[name]).values_list("pk", flat=True)
    )
    if not endpoint_ids:
        return []
    # Round-trip through JSON now, so what is stored is exactly what every attempt will send.
    stored = [json.loads(json.dumps(payload, cls=DjangoJSONEncoder)) for payload in payloads()]
    if not stored:
        return []
    events = WebhookEvent.objects.bulk_create(
        WebhookEvent(event_id="evt_" + secrets.token_hex(12), name=name, payload=payload)
        for payload in stored
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint_id=endpoint_id)
        for event in events
        for endpoint_id in endpoint_ids
    )
    schema_name = connection.schema_name
    delivery_ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _enqueue(delivery_ids, schema_name))
    return events


def _enqueue(delivery_ids: list[int], schema_name: str) -> None:
    webhooks_sweep_ensure()
    webhook_deliveries_enqueue(delivery_ids, schema_name)


def webhook_deliveries_enqueue(delivery_ids: list[int], schema_name: str) -> None:
    """Queue an attempt at each delivery, in the webhooks cluster. Queuing one twice is harmless: an
    attempt starts only by claiming a pending, due delivery (api.tasks.webhook_deliver)."""
    for delivery_id in delivery_ids:
        async_task(
            TASK,
            delivery_id,
            schema_name,
            task_name=f"webhook-{schema_name}-{delivery_id}",
            cluster=webhook_cluster(),
        )


SWEEP_SCHEDULE_NAME = "webhooks-sweep"


def webhooks_sweep_ensure() -> None:
    """The minute-by-minute sweep of deliveries whose worker stopped (api.tasks.webhooks_sweep), made once
    per database, when the first delivery is queued."""
    if not Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).exists():
        Schedule.objects.create(
            name=SWEEP_SCHEDULE_NAME,
            func="api.tasks.webhooks_sweep",
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
            cluster=webhook_cluster(),
        )


def webhook_body(event: WebhookEvent, *, leader_slug: str) -> bytes:
    """The JSON each endpoint gets for this event: the same bytes on every attempt."""
    envelope = {
        "id": event.event_id,
        "type": event.name,
        "created_at": event.created_at.isoformat(),
        "leader": leader_slug,
        "data": event.payload,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class AttemptResult:
    status_code: int | None
    error: str
    response_excerpt: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _DeadlineSocket:
    """A connected socket whose every call gets what is left of one deadline as its timeout: a receiver
    that answers a byte every few seconds is cut at the deadline, not after its last byte. (An SSL socket's
    call counts its timeout as a total too, however many records or partial reads it waits for.) Only what
    http.client uses of a socket: sendall, makefile, close."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline reached")
        self.sock.settimeout(left)

    def sendall(self, data) -> None:
        self.arm()
        self.sock.sendall(data)

    def recv_into(self, buffer) -> int:
        self.arm()
        return self.sock.recv_into(buffer)

    def makefile(self, mode: str = "rb", *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        # http.client closes its socket as soon as it has the answer's headers when the answer ends with
        # the connection (a real socket stays open while its makefile() is in use): the answer's body is
        # still to be read, so the socket is closed by `shut`, once the attempt is over.
        pass

    def shut(self) -> None:
        self.sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)


_ssl_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    # certifi's certificates, as requests (and so these webhooks before) used.
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context(cafile=certifi.where())
    return _ssl_context


def _connect(target: WebhookTarget, addresses: list[tuple], deadline: float) -> _DeadlineSocket:
    """A connection to the first of `addresses` that answers (TLS for https), within the deadline."""
    error: OSError = ConnectionError("no address to connect to")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        guarded = _DeadlineSocket(sock, deadline)
        try:
            guarded.arm()
            sock.connect(sockaddr)
            if target.scheme == "https":
                sock = _tls().wrap_socket(sock, server_hostname=target.host, do_handshake_on_connect=False)
                guarded.sock = sock
                guarded.arm()
                sock.do_handshake()
            return guarded
        except TimeoutError:
            sock.close()
            raise
        except ssl.SSLError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def webhook_post(
    *,
    url: str,
    secret: str,
    event: WebhookEvent,
    body: bytes,
    attempt: int,
    seconds: float | None = None,
) -> AttemptResult:
    """One signed POST, over within `seconds` (settings.WEBHOOK_ATTEMPT_SECONDS) whatever the receiver does;
    never raises for the receiver's failures, they come back in the result."""
    seconds = float(seconds or settings.WEBHOOK_ATTEMPT_SECONDS)
    started = time.monotonic()
    deadline = started + seconds

    def result(status_code: int | None, error: str = "", excerpt: bytes = b"") -> AttemptResult:
        return AttemptResult(
            status_code,
            error[:200],
            excerpt.decode("utf-8", "replace"),
            int((time.monotonic() - started) * 1000),
        )

    timed_out = f"Timeout: no complete answer within {seconds:g} s"
    try:
        target = webhook_target(url)
        addresses = webhook_addresses(target, timeout=deadline - time.monotonic())
    except WebhookUrlError as exc:
        return result(None, f"refused: {exc}")
    except TimeoutError as exc:
        return result(None, f"{timed_out} ({exc})")
    timestamp = int(time.time())
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
        EVENT_HEADER: event.name,
        EVENT_ID_HEADER: event.event_id,
        ATTEMPT_HEADER: str(attempt),
        "Connection": "close",
    }
    status_code = None
    try:
        sock = _connect(target, addresses, deadline)
        conn = http.client.HTTPConnection(target.host, target.port)
        conn.sock = sock  # already connected (to the checked address): http.client only writes and reads
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            status_code = response.status
            excerpt = response.read(MAX_RESPONSE_EXCERPT)
        finally:
            conn.close()
            sock.shut()
        return result(status_code, "", excerpt)
    except TimeoutError:
        if status_code is not None:  # it answered in time; only the excerpt for the log was cut
            return result(status_code, f"Timeout: the answer's body was cut after {seconds:g} s")
        return result(None, timed_out)
    except ssl.SSLError as exc:
        return result(None, f"SSLError: {exc}")
    except (http.client.HTTPException, ValueError) as exc:
        if status_code is not None:
            return result(status_code, f"ProtocolError: {type(exc).__name__}")
        return result(None, f"ProtocolError: {type(exc).__name__}: {exc}")
    except OSError as exc:
        return result(status_code, f"ConnectionError: {exc}")
