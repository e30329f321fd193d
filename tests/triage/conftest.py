"""Triage's tests run the queue's triage tasks here and now (tests.queue), with no last look (a run would
otherwise wait a second for texts whose kick was throttled) and a fresh kick throttle."""

from __future__ import annotations

import pytest

from triage import services

TRIAGE = "triage"


@pytest.fixture(autouse=True)
def _triage_quick(monkeypatch):
    monkeypatch.setattr(services, "LAST_LOOK_SECONDS", 0.0)
    services.triage_reset_throttle()
    yield
    services.triage_reset_throttle()
