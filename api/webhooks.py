"""Outbound webhooks: events, signatures, and the one HTTP call per attempt.

An event is stored once, with one delivery per subscribed endpoint, and each delivery is sent by the queue
(`api.tasks.webhook_deliver`), never inside a request. Every attempt is signed afresh:

    X-Community-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Receivers recompute the HMAC over the raw body and refuse old timestamps (replays). docs/api.md shows how.

SSRF: a webhook URL is chosen by a leader's owner, and our workers call it. Unless
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES is on (development, tests), URLs whose host is or resolves to a loopback,
private, link-local, multicast or reserved address are refused, at registration and again before each
attempt (DNS can change); redirects are never followed. A check then connect still leaves a short DNS
rebinding window; an egress proxy is the complete answer (docs/api.md).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django_q.tasks import async_task

from api.models import WEBHOOK_SECRET_PREFIX, WebhookDelivery, WebhookEndpoint, WebhookEvent

SIGNATURE_HEADER = "X-Community-Signature"
EVENT_HEADER = "X-Community-Event"
EVENT_ID_HEADER = "X-Community-Event-Id"
ATTEMPT_HEADER = "X-Community-Delivery-Attempt"
USER_AGENT = "community-webhooks/1"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
MAX_RESPONSE_EXCERPT = 500


class WebhookUrlError(ValueError):
    pass


def webhook_secret_new() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The value of X-Community-Signature for this body at this time."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def webhook_url_check(url: str, *, resolve: bool) -> None:
    """Refuse URLs our workers must not call; WebhookUrlError says why.

    `resolve=False` (registration) checks the scheme and literal addresses; `resolve=True` (each attempt)
    also resolves the host name and checks every address it has.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise WebhookUrlError("Webhook URLs start with http:// or https://.")
    if not parts.hostname:
        raise WebhookUrlError("This URL has no host.")
    if parts.username or parts.password:
        raise WebhookUrlError("Put no user name or password in the URL; check the signature instead.")
    if settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        return
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise WebhookUrlError("Webhooks cannot target this platform's internal addresses.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not _address_is_public(host):
        raise WebhookUrlError("Webhooks cannot target private, loopback or reserved addresses.")
    if resolve and literal is None:
        try:
            infos = socket.getaddrinfo(host, parts.port or None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise WebhookUrlError(f"The host name does not resolve ({exc}).") from None
        if not infos or not all(_address_is_public(info[4][0]) for info in infos):
            raise WebhookUrlError("Webhooks cannot target private, loopback or reserved addresses.")


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


def _enqueue(delivery_ids: list[int], schema_name: str) -> None:
    for delivery_id in delivery_ids:
        async_task(
            "api.tasks.webhook_deliver",
            delivery_id,
            schema_name,
            task_name=f"webhook-{schema_name}-{delivery_id}-1",
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


def webhook_post(*, url: str, secret: str, event: WebhookEvent, body: bytes, attempt: int) -> AttemptResult:
    """One signed POST; never raises for the receiver's failures, they come back in the result."""
    started = time.monotonic()

    def result(status_code: int | None, error: str = "", excerpt: str = "") -> AttemptResult:
        return AttemptResult(status_code, error[:200], excerpt, int((time.monotonic() - started) * 1000))

    try:
        webhook_url_check(url, resolve=True)
    except WebhookUrlError as exc:
        return result(None, f"refused: {exc}")
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: webhook_signature(secret=secret, timestamp=timestamp, body=body),
        EVENT_HEADER: event.name,
        EVENT_ID_HEADER: event.event_id,
        ATTEMPT_HEADER: str(attempt),
    }
    try:
        with requests.post(
            url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        ) as response:
            excerpt = response.raw.read(MAX_RESPONSE_EXCERPT, decode_content=True) or b""
            return result(response.status_code, "", excerpt.decode("utf-8", "replace"))
    except requests.RequestException as exc:
        return result(None, f"{type(exc).__name__}: {exc}")
