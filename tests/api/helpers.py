"""Helpers for API tests: the queue, run by hand, and a tiny webhook receiver on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import re
import select
import socket
import ssl
import threading
import time
from pathlib import Path

from tests.queue import queued_tasks, run_queued  # noqa: F401 - the API tests' queue helpers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# A self-signed certificate for "localhost", for receivers that speak TLS (valid until 2126; no secret: it
# is trusted only by the tests that ask, see `tls_client_context`).
TLS_CERTIFICATE = Path(__file__).resolve().parent / "tls" / "localhost.pem"
TLS_KEY = Path(__file__).resolve().parent / "tls" / "localhost.key"


def tls_server_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS_CERTIFICATE, TLS_KEY)
    return context


def tls_client_context() -> ssl.SSLContext:
    """What a client trusting the test certificate (and nothing else) verifies with."""
    return ssl.create_default_context(cafile=str(TLS_CERTIFICATE))


def docs_receiver_namespace() -> dict:
    """The verification snippet of docs/api.md, executed: what a receiver written from the docs has."""
    text = DOCS.read_text()
    match = re.search(r"<!-- verification snippet[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/api.md has no verification snippet"
    namespace: dict = {}
    exec(compile(match.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs, on purpose
    return namespace


@dataclasses.dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """An HTTP server on loopback that records POSTs and answers with the given statuses in turn; `echo`:
    its answer repeats the body it got, as some receivers do (which the delivery log then holds)."""

    def __init__(self, statuses: list[int] | None = None, *, echo: bool = False, tls: bool = False):
        self.requests: list[Received] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body if echo else b"ok" if status < 300 else b"not now")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "https" if tls else "http"
        if tls:
            self.server.socket = tls_server_context().wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"  # the test certificate's name
        return f"{self.scheme}://{host}:{self.server.server_port}/hooks/community"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class TricklingReceiver:
    """A receiver on loopback that answers a byte at a time: it accepts, reads the request, then sends
    "HTTP/1.1 200 OK…" one byte every `interval` seconds, which no timeout per read ever trips. `answer`
    is what it trickles; when it has trickled it all, it closes. `release()` makes every connection, and
    every later one, answer 200 at once. A plain threaded socket server, so that nothing in it waits for a
    whole request line or answer the way an HTTP library would."""

    PREFIX = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Trickle: "
    STALL = PREFIX + b"." * 100_000  # a header line that never ends: a day at a byte a second

    def __init__(self, *, interval: float = 1.0, answer: bytes = STALL, tls: bool = False):
        self.interval = interval
        self.answer = answer
        self.accepted = 0
        self.open = 0
        self.most_open = 0
        self.bytes_sent = 0
        self.released = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.tls = tls_server_context() if tls else None
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        port = self.listener.getsockname()[1]
        return f"https://localhost:{port}/hooks/slow" if self.tls else f"http://127.0.0.1:{port}/hooks/slow"

    def release(self) -> None:
        self.released.set()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.most_open = max(self.most_open, self.open)
                self._sockets.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        sent = 0
        try:
            conn.settimeout(5)
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._sockets.append(conn)  # the one to cut at the end (the plain one is detached)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                request += chunk
            while sent < len(self.answer) and not self.released.is_set() and not self._stop.is_set():
                conn.sendall(self.answer[sent : sent + 1])
                sent += 1
                with self._lock:
                    self.bytes_sent += 1
                if self._peer_gone(conn, self.interval):
                    return
            if self.released.is_set() and not self._stop.is_set():
                if self.answer is self.STALL:  # end the header line, and the answer
                    conn.sendall(self.PREFIX[sent:] + b"\r\nContent-Length: 2\r\n\r\nok")
                else:
                    conn.sendall(self.answer[sent:])
        except OSError:
            pass  # the client gave up (its deadline): that is the point
        finally:
            with self._lock:
                self.open -= 1
            conn.close()

    def _peer_gone(self, conn, seconds: float) -> bool:
        """Wait `seconds` (less when released or stopped); whether the client closed meanwhile, so that
        `open` counts only connections a client still holds."""
        ends = time.monotonic() + seconds
        while not self.released.is_set() and not self._stop.is_set():
            left = ends - time.monotonic()
            if left <= 0:
                return False
            readable, _, _ = select.select([conn], [], [], min(left, 0.05))
            if readable:  # the rest of the request's body, or the client closing
                try:
                    if not conn.recv(65536):
                        return True
                except ssl.SSLWantReadError:
                    continue
                except OSError:
                    return True
        return False

    def __enter__(self) -> TricklingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for conn in sockets:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
