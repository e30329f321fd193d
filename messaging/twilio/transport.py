"""Sending texts through Twilio: everything that sends a text goes through ``get_transport()``, which
returns either:

* ``TwilioTransport``: the official ``twilio`` client, pointed at ``TWILIO_API_BASE_URL`` (Twilio itself in
  production, a fake on loopback in tests and benchmarks, see ``tests/fake_twilio.py``), or
* ``LocalTransport``: used when no Twilio credentials are configured (development, ``make run``, the phone
  simulator). It sends nothing; the caller stores every outbound message in its own table anyway.

Both have the same API: ``send(OutboundSms) -> SendResult``, ``send_many([...]) -> [SendResult, ...]`` and
``request_validator()`` for the ``X-Twilio-Signature`` check of our webhooks. Sending never raises
``TransportError``: a refusal by Twilio or a network failure comes back in ``SendResult.error``, whose
properties (``retryable``, ``opts_out_recipient``, ``invalid_recipient``) tell the caller what to do next
(``messaging.twilio.errors``). The HTTP under the client is ``messaging.twilio.http``.

Settings are read lazily, at call time, so importing this module needs neither Django settings nor models:
``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_API_BASE_URL`` and (for ``LocalTransport``)
``SECRET_KEY``.

Phone numbers are personal data: log lines carry ``phone_mask(number)``, never the number itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import threading
import uuid
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from common.phones import phone_mask, phones_scrub
from messaging.twilio.errors import _TRANSPORT_EXCEPTIONS, TransportError, _transport_error
from messaging.twilio.http import DEFAULT_API_BASE_URL, _Connections, _Rebaser

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0  # seconds for one API request; twilio-python's default is no timeout at all
DEFAULT_CONCURRENCY = 50  # requests in flight in send_many; Twilio answers 20429 past an account's limit

# Used by LocalTransport only when no SECRET_KEY is available either (this module used without Django).
DEVELOPMENT_AUTH_TOKEN = "community-development-auth-token"  # noqa: S105 (public on purpose, see above)


@dataclass(frozen=True)
class OutboundSms:
    to: str  # E.164
    from_: str  # E.164 sender number, or a Messaging Service SID ("MG...") to let Twilio pick the sender
    body: str
    status_callback: str | None = None  # absolute URL Twilio posts delivery updates to
    reference: str | None = None  # our id, for matching results


@dataclass(frozen=True)
class SendResult:
    reference: str | None  # OutboundSms.reference, copied
    sid: str | None  # Twilio's message SID when accepted
    status: str | None  # Twilio status of the created message (queued, accepted, sent...)
    error: TransportError | None = None  # why it was not accepted; exactly one of sid / error is set

    def __post_init__(self) -> None:
        if (self.sid is None) == (self.error is None):
            raise ValueError("a SendResult has either a sid or an error")

    @property
    def ok(self) -> bool:
        return self.error is None


def _setting(name: str, default: Any = None) -> Any:
    """A Django setting read at call time (tests override settings), or ``default``.

    Also ``default`` when Django settings are not configured at all, so this module works without Django.
    """
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def _create_params(sms: OutboundSms) -> dict[str, str]:
    params = {"to": sms.to, "body": sms.body}
    if sms.from_.startswith("MG"):
        params["messaging_service_sid"] = sms.from_
    else:
        params["from_"] = sms.from_
    if sms.status_callback:
        params["status_callback"] = sms.status_callback
    return params


def _failed(sms: OutboundSms, error: TransportError) -> SendResult:
    return SendResult(reference=sms.reference, sid=None, status=None, error=error)


def _log_batch(results: Sequence[SendResult]) -> None:
    errors = Counter(
        (result.error.code, result.error.http_status) for result in results if result.error is not None
    )
    if errors:
        summary = ", ".join(
            f"{code or '-'}/HTTP {status or '-'} x{n}" for (code, status), n in errors.items()
        )
        logger.warning("Twilio refused %d of %d messages: %s", sum(errors.values()), len(results), summary)


# --------------------------------------------------------------------------------------------------------
# Transports


class TwilioTransport:
    """Sends through Twilio's REST API with the official client.

    Safe to share between threads and to keep for the life of a worker process: connections are pooled
    (requests for ``send``; our own HTTP/1.1 client on a private event loop thread for ``send_many``) and a forked child
    builds its own.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("TwilioTransport needs an account SID and an auth token")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        rebase = _Rebaser(base_url)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = rebase.base
        self._connections = _Connections(
            account_sid=account_sid, auth_token=auth_token, rebase=rebase, timeout=timeout
        )
        # Close sockets and stop the loop thread when the transport is dropped or the process exits.
        self._finalizer = weakref.finalize(self, self._connections.close)
        self._validator = RequestValidator(auth_token)

    def __repr__(self) -> str:
        return f"<TwilioTransport {self.account_sid} at {self.base_url}>"

    @property
    def client(self) -> Client:
        """The synchronous ``twilio.rest.Client``, already pointed at the base URL, for other API calls."""
        return self._connections.sync_client()

    def send(self, sms: OutboundSms) -> SendResult:
        """Send one message with one blocking request. Twilio's refusals come back in the result."""
        try:
            message = self._connections.sync_client().messages.create(**_create_params(sms))
        except _TRANSPORT_EXCEPTIONS as exc:
            error = _transport_error(exc)
            logger.info("Twilio did not accept a message to %s: %s", phone_mask(sms.to), error)
            return _failed(sms, error)
        return SendResult(reference=sms.reference, sid=message.sid, status=message.status)

    def send_many(
        self, messages: Sequence[OutboundSms], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[SendResult]:
        """Send ``messages`` with at most ``concurrency`` requests in flight; results in input order.

        Callable from synchronous code (it blocks until every message has an answer). Unlike ``send``, an
        unexpected exception for one message does not propagate: it becomes a non-retryable error in that
        message's result, because raising would hide the SIDs of the messages already sent and invite the
        caller to send them twice.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not messages:
            return []
        results = self._connections.run(self._send_all(list(messages), concurrency))
        _log_batch(results)
        return results

    async def _send_all(self, messages: list[OutboundSms], concurrency: int) -> list[SendResult]:
        client = await self._connections.async_client()
        results: list[SendResult | None] = [None] * len(messages)
        pending = iter(enumerate(messages))

        # A fixed pool of workers pulling from one iterator (safe: the loop runs one at a time) bounds the
        # requests in flight without creating a task per message for batches of hundreds of thousands.
        async def worker() -> None:
            for index, sms in pending:
                results[index] = await self._send_one(client, sms)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(messages)))))
        return results  # type: ignore[return-value]  # every slot was filled by a worker

    @staticmethod
    async def _send_one(client: Client, sms: OutboundSms) -> SendResult:
        try:
            message = await client.messages.create_async(**_create_params(sms))
        except _TRANSPORT_EXCEPTIONS as exc:
            error = _transport_error(exc)
            logger.debug("Twilio did not accept a message to %s: %s", phone_mask(sms.to), error)
            return _failed(sms, error)
        except Exception as exc:  # a bug: see send_many
            logger.exception("unexpected error sending a message to %s", phone_mask(sms.to))
            return _failed(sms, TransportError(f"unexpected {type(exc).__name__}: {phones_scrub(str(exc))}"))
        return SendResult(reference=sms.reference, sid=message.sid, status=message.status)

    def request_validator(self) -> RequestValidator:
        """Checks ``X-Twilio-Signature`` on our webhooks: Twilio signs them with the account's auth token."""
        return self._validator

    def close(self) -> None:
        """Release connections and the loop thread now. The transport stays usable (they are rebuilt)."""
        self._connections.close()


class LocalTransport:
    """The backend when no Twilio credentials are configured: development, ``make run``, the simulator.

    Sends nothing and records nothing (the caller stores every outbound message anyway); answers like
    Twilio accepting the message, with SIDs shaped like Twilio's ("SM" + 32 hex digits: the columns that store
    SIDs are that wide) and status "sent".

    Webhook signatures are still checked, with ``auth_token``: ``TWILIO_AUTH_TOKEN`` when set, else a token
    derived from ``SECRET_KEY``. The simulator signs its posts with the same validator
    (``get_transport().request_validator().compute_signature(url, params)``), so the webhook code path is the
    production one. A fixed, published development token would let anyone forge inbound texts and STOPs on
    a deployment that merely forgot its Twilio credentials; the derived one is as secret as SECRET_KEY, yet
    stable across processes and workers (and predictable in development, where SECRET_KEY has a default).
    """

    def __init__(self, *, auth_token: str | None = None) -> None:
        self.auth_token = auth_token or local_auth_token()
        self._validator = RequestValidator(self.auth_token)

    def __repr__(self) -> str:
        return "<LocalTransport>"

    def send(self, sms: OutboundSms) -> SendResult:
        logger.debug("local transport: not sending a message to %s", phone_mask(sms.to))
        return SendResult(reference=sms.reference, sid="SM" + uuid.uuid4().hex, status="sent")

    def send_many(
        self, messages: Sequence[OutboundSms], *, concurrency: int = DEFAULT_CONCURRENCY
    ) -> list[SendResult]:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        return [self.send(sms) for sms in messages]

    def request_validator(self) -> RequestValidator:
        return self._validator

    def close(self) -> None:
        pass


def local_auth_token() -> str:
    """The token LocalTransport signs and checks webhooks with when TWILIO_AUTH_TOKEN is not set."""
    secret = _setting("SECRET_KEY", "")
    if not secret:
        return DEVELOPMENT_AUTH_TOKEN
    key = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(key, b"community.messaging.LocalTransport", hashlib.sha256).hexdigest()[:32]


_cache_lock = threading.Lock()
_cached: tuple[tuple[str, ...], TwilioTransport | LocalTransport] | None = None


def get_transport() -> TwilioTransport | LocalTransport:
    """The transport for the current settings: Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set,
    else LocalTransport. One per process, rebuilt when those settings change (tests override them)."""
    global _cached
    account_sid = _setting("TWILIO_ACCOUNT_SID", "") or ""
    auth_token = _setting("TWILIO_AUTH_TOKEN", "") or ""
    if account_sid and auth_token:
        base_url = _setting("TWILIO_API_BASE_URL", DEFAULT_API_BASE_URL) or DEFAULT_API_BASE_URL
        key: tuple[str, ...] = ("twilio", account_sid, auth_token, base_url)
    else:
        key = ("local", auth_token or local_auth_token())
    with _cache_lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        transport: TwilioTransport | LocalTransport
        if key[0] == "twilio":
            transport = TwilioTransport(account_sid=key[1], auth_token=key[2], base_url=key[3])
        else:
            transport = LocalTransport(auth_token=key[1])
        # The previous transport is not closed here: another thread may still be sending with it. Its
        # finalizer closes it once nothing refers to it any more.
        _cached = (key, transport)
    return transport


def _after_fork_in_child() -> None:
    global _cache_lock
    _cache_lock = threading.Lock()  # it may have been held by another thread at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)
