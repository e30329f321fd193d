"""The console in a real browser (Debian's chromium): log in, dashboard, members, export, settings."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from leaders.models import Leader
from tests import builders
from tests.conftest import TEAM_PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, live_app, leader, username: str = "olivia") -> None:
    page.goto(live_app.leader_url(leader, "/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def test_olivia_logs_in_filters_members_and_exports_them(live_db, live_app, world, page):
    marker = "Zq" + uuid.uuid4().hex[:8]
    with schema_context(world.alice.schema_name):
        for n in range(3):
            builders.member(first_name=marker, last_name=f"Fan{n}", language="fr")
    _log_in(page, live_app, world.alice)
    assert page.get_by_role("navigation", name="Console").get_by_role("link", name="Team").is_visible()
    assert page.get_by_role("img", name="Daily joins, last 90 days").is_visible()

    page.get_by_role("link", name="Members").click()
    page.get_by_role("textbox", name="Search").fill(marker)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == 3
    assert marker in rows.first.inner_text()
    assert marker not in page.url and "search=" in page.url  # the search text stays out of the address bar

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export these members (CSV)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("alice-members-")
    body = Path(download.path()).read_text(encoding="utf-8-sig")
    exported = list(csv.DictReader(io.StringIO(body)))
    assert len(exported) == 3 and {row["first_name"] for row in exported} == {marker}


def test_olivia_edits_the_welcome_reply(live_db, live_app, world, page):
    before = Leader.objects.get(pk=world.alice.pk).welcome_text
    try:
        _log_in(page, live_app, world.alice)
        page.get_by_role("link", name="Settings").click()
        page.get_by_label("Welcome reply").fill("Welcome to Alice's community!")
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Settings saved.").wait_for()
        assert Leader.objects.get(pk=world.alice.pk).welcome_text == "Welcome to Alice's community!"
    finally:
        Leader.objects.filter(pk=world.alice.pk).update(welcome_text=before)


def test_the_console_reads_right_to_left_in_arabic(live_db, live_app, world, page):
    page.set_extra_http_headers({"Accept-Language": "ar"})
    page.goto(live_app.leader_url(world.alice, "/login/"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"


def test_a_phone_sized_screen_shows_the_dashboard_without_sideways_scrolling(live_db, live_app, world, page):
    page.set_viewport_size({"width": 375, "height": 740})
    _log_in(page, live_app, world.alice)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375


def _dashboard_geometry(page, live_app, leader, language: str) -> dict:
    """The dashboard in `language`: the drawn size of every bar (the growth chart's heights, the breakdowns'
    widths), and the attributes that placed them, as the browser read them."""
    page.context.clear_cookies()
    page.set_extra_http_headers({"Accept-Language": language})
    page.goto(live_app.leader_url(leader, "/login/"))
    page.locator("input[name=username]").fill("olivia")
    page.locator("input[name=password]").fill(TEAM_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("svg.chart").wait_for()
    assert page.locator("html").get_attribute("lang") == language
    return page.evaluate(
        """() => ({
            growth: [...document.querySelectorAll('svg.chart rect.bar')].map(r => ({
                attrs: ['x', 'y', 'width', 'height'].map(name => r.getAttribute(name)),
                height: Math.round(r.getBoundingClientRect().height * 10) / 10,
            })),
            bars: [...document.querySelectorAll('.hbars rect')].map(r => ({
                attrs: [r.getAttribute('width'), r.closest('svg').getAttribute('viewBox')],
                width: Math.round(r.getBoundingClientRect().width * 10) / 10,
            })),
        })"""
    )


def test_the_dashboards_bars_keep_their_sizes_in_every_language(live_db, live_app, world, page):
    import datetime

    from django.utils import timezone

    # Counts that make fractional coordinates (a third, two thirds), written "33,33" in French if localised.
    with schema_context(world.alice.schema_name):
        for days_ago, n in ((0, 3), (1, 2), (2, 1)):
            for _ in range(n):
                builders.member(
                    joined_at=timezone.now() - datetime.timedelta(days=days_ago), city="Québec", gender="f"
                )
    page.set_viewport_size({"width": 1200, "height": 900})
    english = _dashboard_geometry(page, live_app, world.alice, "en")
    assert english["growth"] and english["bars"]
    assert any(bar["height"] > 0 for bar in english["growth"])
    assert max(bar["width"] for bar in english["bars"]) > 0
    for language in ("fr", "es", "de", "ar"):
        drawn = _dashboard_geometry(page, live_app, world.alice, language)
        for bar in drawn["growth"] + drawn["bars"]:
            for value in bar["attrs"]:
                assert "," not in value.replace(" ", ""), (language, bar)  # SVG reads 50.22, never 50,22
        # Drawn in the same proportions (the boxes they scale into may differ by a pixel with the labels).
        assert _shares(drawn["growth"], "height") == pytest.approx(
            _shares(english["growth"], "height"), abs=0.01
        )
        assert _shares(drawn["bars"], "width") == pytest.approx(_shares(english["bars"], "width"), abs=0.01)


def _shares(bars: list[dict], size: str) -> list[float]:
    largest = max(bar[size] for bar in bars)
    assert largest > 0  # drawn at all
    return [bar[size] / largest for bar in bars]
