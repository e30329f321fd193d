"""Helpers for API tests: the queue, run by hand, and a tiny webhook receiver on loopback."""

from __future__ import annotations

import dataclasses
import http.server
import re
import threading
from pathlib import Path

from tests.queue import queued_tasks, run_queued  # noqa: F401 - the API tests' queue helpers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


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

    def __init__(self, statuses: list[int] | None = None, *, echo: bool = False):
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hooks/community"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
