"""The HTTP under twilio-python's ``Client``: every request to Twilio's REST API goes through here.

One endpoint, ``TWILIO_API_BASE_URL`` (``_Rebaser`` moves twilio-python's absolute URLs onto it: Twilio
itself in production, a fake on loopback in tests and benchmarks), no proxies, one debug line per request.
Two clients under the one ``Client``, both kept on purpose:

* ``_SyncHttpClient``: twilio's own requests-based client, for ``TwilioTransport.send`` (one blocking
  request) and for ``TwilioTransport.client`` (any other API call, synchronous);
* ``_AsyncHttpClient``: HTTP/1.1 keep-alive connections of our own under ``create_async``, for
  ``send_many``. It exists for the CPU per message of a broadcast (``python -m bench transport_rate``
  measures it against the stock aiohttp client).

``_Connections`` holds both, and the event loop thread of the async one, for one transport in one process.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import os
import ssl
import threading
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote_plus, urlencode, urlsplit, urlunsplit

from requests.adapters import HTTPAdapter
from twilio.http import AsyncHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

logger = logging.getLogger(__name__)
_http_logger = logger

DEFAULT_API_BASE_URL = "https://api.twilio.com"

# twilio-python falls back to os.environ when ``environment`` is falsy (``environment or os.environ``), so
# ``environment={}`` would still let a stray TWILIO_EDGE or TWILIO_REGION reroute our requests. A mapping
# that is not empty but holds no TWILIO_* key really isolates the client from the process environment.
_ISOLATED_ENVIRONMENT = {"COMMUNITY_TWILIO_ENVIRONMENT": "isolated"}

_T = TypeVar("_T")


class _Rebaser:
    """Moves twilio-python's absolute URLs (https://api.twilio.com/..., https://*.twilio.com/...) onto the
    configured base URL, so one setting points every request at a fake on loopback."""

    def __init__(self, base_url: str | None) -> None:
        base = (base_url or DEFAULT_API_BASE_URL).rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"TWILIO_API_BASE_URL must look like https://host[:port][/path], not {base!r}")
        self.base = base
        self.is_default = base == DEFAULT_API_BASE_URL

    def __call__(self, url: str) -> str:
        if self.is_default:
            return url
        if url.startswith(DEFAULT_API_BASE_URL + "/"):  # nearly every request: skip parsing
            return self.base + url[len(DEFAULT_API_BASE_URL) :]
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            return self.base + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
        return url


# --------------------------------------------------------------------------------------------------------
# twilio-python HTTP clients


class _SyncHttpClient(TwilioHttpClient):
    """twilio's requests-based client, with the base URL rewrite, a pool for plain http too (the fake), and
    one debug line per request instead of twilio's eight INFO lines (the project logs INFO by default)."""

    def __init__(self, *, rebase: _Rebaser, timeout: float, pool_size: int = 10) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        assert self.session is not None
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # The endpoint is TWILIO_API_BASE_URL and nothing else: no HTTP(S)_PROXY or .netrc from the
        # environment (they would also hijack requests to a fake on loopback), same as the aiohttp client.
        self.session.trust_env = False
        self._rebase = rebase

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            self._rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        _http_logger.debug("%s %s", kwargs["method"], kwargs["url"])

    def log_response(self, status_code: int, response: Any) -> None:
        _http_logger.debug("-> HTTP %s", status_code)


class _HttpError(ConnectionError):
    """The connection broke, or the server's answer was not HTTP we understand (an OSError, like every
    other connection failure: the message may be tried again)."""


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time; parses the answer as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes, bool]] | None = None
        self._status: int | None = None
        self._headers: dict[str, str] = {}
        self._lower: dict[str, str] = {}
        self._length: int | None = None  # None: chunked, or until the server closes
        self._chunked = False
        self._keep_alive = True
        self._pos = 0  # where the body (or the next chunk) starts in the buffer
        self._chunks = bytearray()
        self._head = False
        self.deadline: float | None = None  # loop time by which the answer must be in (see _watch)
        self.seconds = 0.0

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._status is not None and self._length is None and not self._chunked:
            self._finish(bytes(self._buffer[self._pos :]), keep_alive=False)  # a body ended by closing
        else:
            waiter.set_exception(_HttpError(f"the server closed the connection ({exc or 'no answer'})"))

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.abort()  # bytes nobody asked for: this connection cannot be trusted with a request
            return
        self._buffer += data
        try:
            self._parse()
        except (ValueError, IndexError) as exc:
            self._waiter.set_exception(_HttpError(f"not an HTTP answer: {exc}"))
            self.abort()

    # -- requests

    def send(
        self, payload: bytes, *, head: bool = False
    ) -> asyncio.Future[tuple[int, dict[str, str], bytes, bool]]:
        """Write one request; the future gets (status, headers, body, whether the connection is reusable).
        ``head``: the answer to a HEAD request has no body, whatever its Content-Length says."""
        assert self.transport is not None
        self._head = head
        self._buffer.clear()
        self._status, self._length, self._chunked, self._pos = None, None, False, 0
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self._waiter

    def time_out(self, seconds: float) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(TimeoutError(f"no answer from Twilio within {seconds:g} s"))
        self.abort()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _parse(self) -> None:
        buffer = self._buffer
        while self._status is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > 65536:
                    raise ValueError("headers too long")
                return
            lines = bytes(buffer[:end]).decode("latin-1").split("\r\n")
            version, code = lines[0].split(" ", 2)[:2]
            status = int(code)
            if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
                del buffer[: end + 4]
                continue
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
            lower = {name.lower(): value for name, value in headers.items()}
            self._status, self._headers, self._pos = status, headers, end + 4
            connection = lower.get("connection", "").lower()
            self._keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
            if self._head or status in (204, 304):
                self._length = 0
            elif "chunked" in lower.get("transfer-encoding", "").lower():
                self._chunked, self._chunks = True, bytearray()
            elif "content-length" in lower:
                self._length = int(lower["content-length"])
            else:
                self._keep_alive = False  # the body ends when the server closes the connection
        if self._chunked:
            self._parse_chunks()
        elif self._length is not None and len(buffer) - self._pos >= self._length:
            self._finish(bytes(buffer[self._pos : self._pos + self._length]), self._keep_alive)

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n", self._pos)
            if line_end < 0:
                return
            size = int(bytes(buffer[self._pos : line_end]).split(b";", 1)[0], 16)
            if size == 0:
                if buffer.find(b"\r\n\r\n", line_end) < 0:  # the last chunk, then trailers, then a blank line
                    return
                self._finish(bytes(self._chunks), self._keep_alive)
                return
            if len(buffer) < line_end + 2 + size + 2:
                return
            self._chunks += buffer[line_end + 2 : line_end + 2 + size]
            self._pos = line_end + 2 + size + 2

    def _finish(self, body: bytes, keep_alive: bool) -> None:
        assert self._waiter is not None and self._status is not None
        self._waiter.set_result((self._status, self._headers, body, keep_alive))


_WATCH_EVERY = 0.05  # seconds between two checks of the requests in flight for a timeout


@functools.lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    # A broadcast sends the same sender, callback URL and (unless personalised) body thousands of times:
    # quoting each once, not per message, was a tenth of the client's CPU (quote_plus is pure Python).
    return quote_plus(value, safe="")


def _form_encode(data: dict[str, object]) -> str:
    """``urlencode(data, doseq=True)``, with the quoting of repeated values cached."""
    pairs = []
    for key, value in data.items():
        name = _quoted(str(key))
        if isinstance(value, str):
            pairs.append(f"{name}={_quoted(value)}")
        elif isinstance(value, (list, tuple)):
            pairs.extend(f"{name}={_quoted(str(item))}" for item in value)
        elif isinstance(value, bytes):
            pairs.append(f"{name}={quote_plus(value, safe='')}")
        else:
            pairs.append(f"{name}={_quoted(str(value))}")
    return "&".join(pairs)


@dataclass(frozen=True)
class _Target:
    key: tuple[str, str, int]  # scheme, host, port: which pooled connections fit
    host_header: str
    path: str  # with its query string, if the URL had one


class _AsyncHttpClient(AsyncHttpClient):
    """The HTTP client under twilio's ``create_async``: HTTP/1.1 keep-alive connections of our own.

    twilio-python builds the request (parameters, headers, credentials) and reads the answer (errors,
    ``MessageInstance``); this class only moves the bytes, as its stock aiohttp client would. It exists for
    the CPU: aiohttp's general-purpose request machinery (cookies, redirects, tracing, multidicts, payload
    registry, a task per request) was most of our CPU per message, and a broadcast sends millions of the
    same small POST. What it does: one request at a time per connection, a pool of idle connections per
    host reused LIFO, TLS with the system's certificates (or certifi's, as requests does) for https, a
    timeout per request (connect included), bodies by Content-Length, chunked or until close. What it does
    not: redirects (twilio asks for none), proxies or .netrc (never: the endpoint is TWILIO_API_BASE_URL),
    compression (it asks for none), retries (a POST is never resent here; the caller decides). Any failure
    is an OSError (refused, reset, closed early, a garbled answer) or TimeoutError, so the caller sees a
    retryable connection error; a connection that failed or timed out is dropped, never reused.

    Built and used on the transport's event loop thread only (no locks).
    """

    def __init__(self, *, rebase: _Rebaser, timeout: float) -> None:
        super().__init__(_http_logger, True, timeout)
        self._rebase = rebase
        self._targets: dict[str, _Target] = {}
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._auth_header: tuple[tuple[str, str], str] | None = None
        self._ssl: ssl.SSLContext | None = None
        self._watchdog: asyncio.TimerHandle | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        target = self._targets.get(url) or self._target(url)
        path = target.path
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        body = _form_encode(data).encode() if data else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        for name, value in (headers or {}).items():
            line = f"{name}: {value}"
            if "\n" in line or "\r" in line:  # a line break would smuggle in a header of its own
                raise ValueError(f"the {name!r} header holds a line break")
            head += line + "\r\n"
        if auth is not None:
            head += f"Authorization: {self._authorization(auth)}\r\n"
        if body or method in ("POST", "PUT", "PATCH"):
            head += f"Content-Length: {len(body)}\r\n"
        payload = head.encode("latin-1") + b"\r\n" + body
        seconds = self.timeout if timeout is None else timeout
        if _http_logger.isEnabledFor(logging.DEBUG):
            _http_logger.debug("%s %s", method, path)
        connection = await self._connection(target, seconds)
        if seconds:
            connection.deadline, connection.seconds = asyncio.get_running_loop().time() + seconds, seconds
            if self._watchdog is None:
                self._watchdog = asyncio.get_running_loop().call_later(_WATCH_EVERY, self._watch)
        else:
            connection.deadline = None
        self._busy.add(connection)
        waiter = connection.send(payload, head=method == "HEAD")
        try:
            status, response_headers, response_body, keep_alive = await waiter
        except BaseException:
            connection.abort()  # failed, timed out or cancelled mid-request: never reused
            raise
        finally:
            self._busy.discard(connection)
        if keep_alive and not connection.closed:
            self._idle.setdefault(target.key, []).append(connection)
        else:
            connection.abort()
        if _http_logger.isEnabledFor(logging.DEBUG):
            _http_logger.debug("-> HTTP %s", status)
        return Response(status, response_body.decode("utf-8", "replace"), response_headers)

    def _watch(self) -> None:
        # One timer for all requests in flight, rather than a TimerHandle created and cancelled per request
        # (a few percent of the CPU per message): a request times out within _WATCH_EVERY of its deadline.
        now = asyncio.get_running_loop().time()
        for connection in list(self._busy):
            if connection.deadline is not None and connection.deadline <= now:
                connection.time_out(connection.seconds)
        self._watchdog = (
            asyncio.get_running_loop().call_later(_WATCH_EVERY, self._watch) if self._busy else None
        )

    async def _connection(self, target: _Target, seconds: float | None) -> _Connection:
        idle = self._idle.get(target.key)
        while idle:
            connection = idle.pop()
            transport = connection.transport
            if not connection.closed and transport is not None and not transport.is_closing():
                return connection
        scheme, host, port = target.key
        loop = asyncio.get_running_loop()
        context = self._ssl_context() if scheme == "https" else None
        connect = loop.create_connection(
            _Connection, host, port, ssl=context, server_hostname=host if context else None
        )
        try:
            _, connection = await asyncio.wait_for(connect, seconds)
        except TimeoutError as exc:
            raise TimeoutError(f"could not connect to {host}:{port} within {seconds:g} s") from exc
        return connection

    def _target(self, url: str) -> _Target:
        parts = urlsplit(self._rebase(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        default_port = 443 if parts.scheme == "https" else 80
        port = parts.port or default_port
        host = parts.hostname
        host_header = host if port == default_port else f"{host}:{port}"
        if ":" in host:  # an IPv6 address
            host_header = f"[{host}]" if port == default_port else f"[{host}]:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        target = _Target((parts.scheme, host, port), host_header, path)
        if len(self._targets) > 1024:  # only a handful of URLs in practice (one per account and resource)
            self._targets.clear()
        self._targets[url] = target
        return target

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            try:
                import certifi

                self._ssl = ssl.create_default_context(cafile=certifi.where())
            except ImportError:  # pragma: no cover - requests depends on certifi
                self._ssl = ssl.create_default_context()
        return self._ssl

    def _authorization(self, auth: tuple[str, str]) -> str:
        if self._auth_header is None or self._auth_header[0] != auth:
            credentials = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self._auth_header = (auth, f"Basic {credentials}")
        return self._auth_header[1]

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()
        self._idle.clear()
        for connection in list(self._busy):
            connection.abort()
        self._busy.clear()


_INHERITED_AT_FORK: list[object] = []  # see _Connections.after_fork_in_child


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


class _Connections:
    """The clients, pooled connections and event loop thread of one TwilioTransport in one process.

    Kept apart from TwilioTransport so that a weakref finalizer can close them without keeping the
    transport alive. Everything is built on first use and rebuilt after ``close()`` or a fork.
    """

    live: ClassVar[weakref.WeakSet[_Connections]] = weakref.WeakSet()

    def __init__(self, *, account_sid: str, auth_token: str, rebase: _Rebaser, timeout: float) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.rebase = rebase
        self.timeout = timeout
        self._lock = threading.Lock()
        self._sync_client: Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._async_client: Client | None = None  # only touched from the loop thread
        _Connections.live.add(self)

    def _make_client(self, http_client: TwilioHttpClient | AsyncHttpClient) -> Client:
        return Client(
            self.account_sid, self.auth_token, environment=_ISOLATED_ENVIRONMENT, http_client=http_client
        )

    def after_fork_in_child(self) -> None:
        """A forked child (a worker pool, gunicorn) starts afresh, without touching what it inherited.

        Its copy of the lock may have been held by another thread at the fork. The sockets it inherited are
        the parent's too, and so is the event loop's epoll instance: closing, or merely garbage-collecting,
        the inherited aiohttp objects would unregister the parent's sockets from under it. They are kept,
        untouched, for the child's whole life (a few objects per transport).
        """
        self._lock = threading.Lock()
        _INHERITED_AT_FORK.append((self._sync_client, self._loop, self._thread, self._async_client))
        self._sync_client = self._loop = self._thread = self._async_client = None

    def sync_client(self) -> Client:
        with self._lock:
            if self._sync_client is None:
                self._sync_client = self._make_client(
                    _SyncHttpClient(rebase=self.rebase, timeout=self.timeout)
                )
            return self._sync_client

    async def async_client(self) -> Client:
        # Runs on the loop thread only, so no lock: nothing else touches _async_client there.
        if self._async_client is None:
            self._async_client = self._make_client(_AsyncHttpClient(rebase=self.rebase, timeout=self.timeout))
        return self._async_client

    def run(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on this transport's event loop thread and wait for its result.

        One long-lived loop, rather than ``asyncio.run`` per call, keeps the pooled connections and their
        keep-alive connections (a TLS handshake each, against Twilio) from one batch to the next, and works
        even when the caller itself runs inside an event loop.
        """
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_run_loop, args=(self._loop,), name="twilio-transport", daemon=True
                )
                self._thread.start()
            loop = self._loop
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt in the caller: stop starting new requests
            raise

    def close(self) -> None:
        with self._lock:
            sync_client, loop, thread, async_client = (
                self._sync_client,
                self._loop,
                self._thread,
                self._async_client,
            )
            self._sync_client = self._loop = self._thread = self._async_client = None
        if sync_client is not None:
            sync_client.http_client.session.close()  # type: ignore[attr-defined]
        if loop is None or thread is None:
            return
        if threading.current_thread() is thread:  # dropped by the loop itself: it cannot wait for itself
            loop.stop()
            return
        if loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(_shutdown(async_client), loop).result(timeout=5)
            except Exception:  # closing is best effort: the process may be exiting
                logger.debug("closing the Twilio connections failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()


async def _shutdown(async_client: Client | None) -> None:
    # A batch still running when its transport is closed is cancelled (its send_many raises CancelledError)
    # rather than left waiting forever on a stopped loop.
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    if tasks:
        # Let them finish being cancelled (a few loop turns) before the loop stops: a task still pending
        # then would leave its send_many caller waiting forever.
        await asyncio.wait(tasks, timeout=2)
    if async_client is not None:
        await async_client.http_client.close()  # type: ignore[attr-defined]


def _after_fork_in_child() -> None:
    for connections in list(_Connections.live):
        connections.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
