"""Smoke test of `make run` (manage.py run_platform): a fresh database, the banner, the pages, Ctrl-C.

Slow-ish (about half a minute: it migrates a new database), so it is marked `smoke`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import requests

from tests.leaders.test_commands import test_database_url

pytestmark = pytest.mark.smoke
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    base, _, rest = url.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{rest}" if rest else base


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def descendants_of(pid: int) -> list[int]:
    found = children_of(pid)
    return [*found, *(grandchild for child in found for grandchild in descendants_of(child))]


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def throwaway_database(live_db):
    name = f"community_run_{uuid.uuid4().hex[:8]}"
    admin_url = with_database(test_database_url(), "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(test_database_url(), name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cluster_of(pid: int) -> str | None:
    """Which queue cluster a child of run_platform is ("default" when no Q_CLUSTER_NAME), None for another
    command."""
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        if b"qcluster" not in cmdline.read().split(b"\0"):
            return None
    with open(f"/proc/{pid}/environ", "rb") as environ:
        for item in environ.read().split(b"\0"):
            if item.startswith(b"Q_CLUSTER_NAME="):
                return item.split(b"=", 1)[1].decode() or "default"
    return "default"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_run_platform_migrates_seeds_prints_the_logins_serves_both_hosts_and_stops_on_ctrl_c_or_sigterm(
    throwaway_database, stop
):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": throwaway_database,
        "PYTHONUNBUFFERED": "1",
        "Q_WORKERS": "1",
        "Q_WEBHOOK_WORKERS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_platform", "--port", str(port), "--members", "50"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Started with SIGINT ignored, as a shell starts a background job (`make run &`, a CI runner):
        # Ctrl-C must still stop everything.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    children: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while not any("Ctrl-C stops everything." in line for line in lines):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.3)
        banner = "".join(lines)
        assert f"http://localhost:{port}/admin/" in banner and "login staff / community-demo" in banner
        assert f"http://demo.localhost:{port}/" in banner
        assert "owner, manager, responder / community-demo" in banner

        while True:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "".join(lines)
                time.sleep(0.3)
        assert health.json() == {"status": "ok"}
        console = requests.get(
            f"http://127.0.0.1:{port}/", headers={"Host": f"demo.localhost:{port}"}, timeout=10
        )
        assert console.status_code == 200 and "Maya Fuentes" in console.text
        admin = requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=10)
        assert admin.status_code == 200

        direct = children_of(process.pid)
        # The web server and four queue clusters: replies (the default one), broadcasts, webhooks, triage.
        assert len(direct) == 5
        clusters = sorted(cluster_of(pid) for pid in direct if cluster_of(pid) is not None)
        assert clusters == ["broadcasts", "default", "triage", "webhooks"]
        # ... and the queue worker's own processes: nothing of the platform may outlive Ctrl-C.
        children = [*direct, *(pid for child in direct for pid in descendants_of(child))]
        process.send_signal(stop)
        try:
            # run_platform gives its children 10 s before killing them; the rest is slack for a busy machine.
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            tree = subprocess.run(["ps", "-ef", "--forest"], capture_output=True, text=True).stdout
            raise AssertionError(f"run_platform did not stop:\n{''.join(lines)}\n{tree}") from None
        gone_by = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < gone_by:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in children), "".join(lines)
        reader.join(timeout=5)
        assert "stopped." in "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in children:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
