"""The routing page in a real browser (Debian's chromium): a manager makes a team, adds rules, reorders and
deletes them; the page reads right to left in Arabic."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from tests.console.test_browser import _log_in
from triage.models import Rule, Team

pytestmark = pytest.mark.browser


def test_a_manager_builds_a_team_and_its_rules_then_reorders_them(live_db, live_app, world, page):
    name = "Health " + uuid.uuid4().hex[:8]
    try:
        _log_in(page, live_app, world.alice, "mark")
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Routing").click()
        page.get_by_role("heading", name="Routing", level=1).wait_for()
        assert page.get_by_text("Add a team first: a rule routes to a team.").is_visible() or (
            page.get_by_role("button", name="Add the rule").is_visible()
        )

        page.get_by_label("Team name").fill(name)
        page.get_by_label("rita", exact=True).check()
        page.get_by_role("button", name="Add the team").click()
        page.get_by_text(f"Team “{name}” saved.").wait_for()
        assert "rita" in page.get_by_role("row").filter(has_text=name).inner_text()

        rules = page.locator("form[action$='/routing/rules/new/']")
        rules.get_by_label("Team").select_option(label=name)
        rules.get_by_label("Country").fill("ca")
        rules.get_by_label("Region").fill("british columbia")
        rules.get_by_label("Response time (minutes)").fill("120")
        page.get_by_role("button", name="Add the rule").click()
        page.get_by_text("Rule saved.").wait_for()
        rules = page.locator("form[action$='/routing/rules/new/']")
        rules.get_by_label("Team").select_option(label=name)
        page.get_by_role("button", name="Add the rule").click()
        page.get_by_text("Rule saved.").wait_for()

        # A rule without a team, or with a negative response time, is not even sent (the server refuses it
        # too: tests/console/test_routing_pages.py).
        rules = page.locator("form[action$='/routing/rules/new/']")
        rules.get_by_label("Response time (minutes)").fill("-3")
        assert rules.evaluate("form => form.checkValidity()") is False
        rules.get_by_label("Response time (minutes)").fill("")
        rules.get_by_label("Team").select_option(index=0)
        assert rules.evaluate("form => form.checkValidity()") is False

        ours = page.locator("table").first.get_by_role("row").filter(has_text=name)
        assert ours.count() == 2
        assert "British Columbia, CA" in ours.nth(0).inner_text() and "120 min" in ours.nth(0).inner_text()
        assert "Anywhere" in ours.nth(1).inner_text()
        position = ours.nth(1).get_by_role("cell").first.inner_text()
        ours.nth(1).get_by_role("button", name=f"Move rule {position} up").click()
        ours = page.locator("table").first.get_by_role("row").filter(has_text=name)
        ours.first.filter(has_text="Anywhere").wait_for()
        assert "British Columbia, CA" in ours.nth(1).inner_text()

        position = ours.nth(1).get_by_role("cell").first.inner_text()
        ours.nth(1).get_by_role("button", name=f"Delete rule {position}").click()
        page.get_by_text("Rule deleted.").wait_for()
        assert page.locator("table").first.get_by_role("row").filter(has_text=name).count() == 1

        page.set_extra_http_headers({"Accept-Language": "ar"})
        page.reload()
        page.get_by_role("heading", name="التوجيه", level=1).wait_for()
        assert page.locator("html").get_attribute("dir") == "rtl"
    finally:
        with schema_context(world.alice.schema_name):
            Rule.objects.filter(team__name=name).delete()
            Team.objects.filter(name=name).delete()
