"""The consent ledger's own key (settings.CONSENT_HASH_KEY): phone hashes do not follow SECRET_KEY, so
rotating it keeps every phone's opt-out; production refuses to start without it (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django_tenants.utils import schema_context

from members.consent import phone_hash, phone_opted_out, text_refusal
from members.models import REFUSED_PHONE_OPTED_OUT
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone


def test_the_phone_hash_is_keyed_by_the_ledgers_key_not_secret_key():
    phone = "+12025550142"
    hashed = phone_hash(phone)
    with override_settings(SECRET_KEY="a-rotated-secret-key"):
        assert phone_hash(phone) == hashed
    with override_settings(CONSENT_HASH_KEY="another-ledger-key"):
        assert phone_hash(phone) != hashed


@pytest.mark.django_db
def test_a_stop_stays_effective_after_secret_key_changes(client, world):
    phone = unique_phone()
    assert twiml_messages(text(client, world.alice, phone, "STOP"))

    with override_settings(SECRET_KEY="rotated-" + "x" * 40), schema_context(world.alice.schema_name):
        assert phone_opted_out(phone)
        assert text_refusal(phone=phone, member=None) == REFUSED_PHONE_OPTED_OUT


def _settings_load(**environ: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("CONSENT_HASH_KEY", "SECRET_KEY")}
    env.update(DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://nobody@127.0.0.1:1/none", **environ)
    return subprocess.run(
        [sys.executable, "-c", "import community.settings as s; print(s.CONSENT_HASH_KEY)"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_the_ledgers_key():
    refused = _settings_load(DEBUG="false", SECRET_KEY="s" * 50)
    assert refused.returncode == 2
    assert "CONSENT_HASH_KEY must be set" in refused.stderr and "SECRET_KEY" in refused.stderr

    given = _settings_load(DEBUG="false", SECRET_KEY="s" * 50, CONSENT_HASH_KEY="the-ledger-key")
    assert "CONSENT_HASH_KEY" not in given.stderr  # (production may still ask for other settings)
    if given.returncode == 0:
        assert given.stdout.strip() == "the-ledger-key"


def test_development_has_a_fixed_ledger_key_apart_from_secret_key():
    development = _settings_load(DEBUG="true", SECRET_KEY="a-developers-own-secret-key")
    assert development.returncode == 0, development.stderr
    assert development.stdout.strip() == "dev-insecure-secret-key-change-me"
