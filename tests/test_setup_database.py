"""A missing, unreachable or malformed database is one clear line on stderr, never a traceback wall."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "command",
    [("migrate",), ("platform_migrate", "--parallel", "2"), ("seed_demo",), ("showmigrations",)],
)
def test_an_unreachable_database_is_one_error_line_and_a_failing_exit(command):
    result = manage(*command, database_url="postgres://postgres@127.0.0.1:1/nope")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: the database is unreachable:")
    assert "127.0.0.1" in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://x", "DATABASE_URL must start with postgres:// or postgresql://, not mysql://"),
        ("postgres://user@127.0.0.1:5432", "DATABASE_URL names no database"),
        ("postgres://user:hunter2@db.example.org:fivefour/app", "port that is not a number"),
    ],
)
def test_a_malformed_database_url_is_one_error_line_without_the_password(url, message):
    result = manage("check", database_url=url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0]
    assert "hunter2" not in result.stderr
