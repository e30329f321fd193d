"""Settings fail closed: without `DEBUG=true` the platform is production, refuses to start on what would
be unsafe there, and passes Django's deployment checks once configured. Each case starts a real
`manage.py` in a subprocess with the environment a deployment would give it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.leaders.test_commands import manage as manage_command

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "k8Jq2vR0-production-like-secret-key-4f9a1c7e5b3d8a2f6c0e9b7d5a3f1c8e6b4d2a0"
LEDGER_KEY = "a-ledger-key-of-its-own-0b9f7e5d3c1a8f6e4d2b0a9c7e5f3d1b"
PRODUCTION = {"SECRET_KEY": STRONG_KEY, "CONSENT_HASH_KEY": LEDGER_KEY, "EMAIL_HOST": "smtp.example.org"}


def manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    # What the test run sets for itself (development, async-unsafe test fixtures) is not a deployment's.
    drop = ("DEBUG", "SECRET_KEY", "CONSENT_HASH_KEY", "EMAIL_", "DJANGO_")
    return manage_command(*args, environment=environment, drop=drop, timeout=120)


def setting(name: str, **environment: str) -> str:
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        f"from django.conf import settings; print(repr(settings.{name}))",
        **environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("environment", "reason"),
    [
        ({}, "SECRET_KEY must be set: this is production unless DEBUG=true"),
        ({"DEBUG": "false"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "dev-insecure-secret-key-change-me"}, "public development key"),
        ({"SECRET_KEY": STRONG_KEY}, "CONSENT_HASH_KEY must be set"),
        (
            {"SECRET_KEY": STRONG_KEY, "CONSENT_HASH_KEY": "dev-insecure-secret-key-change-me"},
            "public development key",
        ),
        ({"SECRET_KEY": STRONG_KEY, "CONSENT_HASH_KEY": LEDGER_KEY}, "EMAIL_HOST must be set in production"),
        (
            {**PRODUCTION, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
            "prints or files mail",
        ),
        ({**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "https"}, "SECURE_PROXY_SSL_HEADER must look like"),
    ],
    ids=[
        "nothing-set",
        "debug-false-no-key",
        "development-key",
        "no-ledger-key",
        "development-ledger-key",
        "no-mail-server",
        "console-mail",
        "bad-proxy-header",
    ],
)
def test_production_refuses_to_start_on_an_unsafe_or_missing_setting_with_one_line(db, environment, reason):
    result = manage("check", **environment)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one line, no traceback
    assert result.stderr.startswith("error: ") and reason in result.stderr


def test_configured_production_passes_the_deployment_checks_with_https_everywhere(db):
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert setting("DEBUG", **PRODUCTION) == "False"
    for name in (
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    ):
        assert setting(name, **PRODUCTION) == "True", name
    assert int(setting("SECURE_HSTS_SECONDS", **PRODUCTION)) >= 31_536_000
    assert setting("EMAIL_BACKEND", **PRODUCTION) == "'django.core.mail.backends.smtp.EmailBackend'"


def test_behind_a_proxy_the_https_header_is_the_one_documented(db):
    environment = {**PRODUCTION, "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"}
    assert setting("SECURE_PROXY_SSL_HEADER", **environment) == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert setting("SECURE_PROXY_SSL_HEADER", **PRODUCTION).startswith("None")


def test_development_is_asked_for_explicitly_by_make_run_and_make_test(db):
    assert setting("DEBUG", DEBUG="true") == "True"
    assert setting("EMAIL_BACKEND", DEBUG="true") == "'django.core.mail.backends.console.EmailBackend'"
    dry_run = subprocess.run(
        ["make", "-n", "run", "test"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    commands = [line for line in dry_run.stdout.splitlines() if "run_platform" in line or "-m pytest" in line]
    assert len(commands) == 2 and all(line.startswith("DEBUG=true ") for line in commands), dry_run.stdout


def test_in_development_links_follow_the_port_unless_the_base_url_is_set(db):
    def base_url(**environment: str) -> str:
        result = manage_command(
            "shell",
            "--no-imports",
            "-c",
            "from django.conf import settings; print(settings.PUBLIC_BASE_URL)",
            environment=environment,
            drop=("DEBUG", "PORT", "PUBLIC_BASE_URL", "DJANGO_"),
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout.strip()

    assert base_url(DEBUG="true") == "http://localhost:8000"
    assert base_url(DEBUG="true", PORT="8123") == "http://localhost:8123"
    assert base_url(DEBUG="true", PORT="8123", PUBLIC_BASE_URL="https://fans.example.org/") == (
        "https://fans.example.org"
    )
    # Production never guesses from PORT (a platform's PORT is the container's, not the public one).
    assert base_url(**PRODUCTION, PORT="8123") == "http://localhost:8000"
