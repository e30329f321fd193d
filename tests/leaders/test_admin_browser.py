"""Carol, platform staff, onboards a leader through the admin in a real browser."""

from __future__ import annotations

import pytest
from django.db import connection

from leaders.models import Leader
from tests.conftest import TEAM_PASSWORD
from tests.phones import unique_phone

pytestmark = pytest.mark.browser


def test_staff_add_a_leader_in_the_admin_see_it_listed_and_get_a_clear_error_for_a_taken_number(
    live_db, live_app, world, page
):
    slug = f"browser-{unique_phone()[-6:]}"
    number = unique_phone()
    try:
        page.goto(live_app.url("/admin/"))
        page.get_by_label("Username").fill("carol")
        page.get_by_label("Password").fill(TEAM_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        assert page.get_by_role("heading", name="Site administration").is_visible()
        page.goto(live_app.url("/admin/leaders/leader/"))
        page.get_by_role("link", name="Add leader").click()

        page.get_by_label("Slug").fill(slug)
        page.get_by_label("Display name").fill("Inès Browser")
        page.get_by_label("Phone number").fill(number)
        page.get_by_label("Countries").fill("US,CA")
        page.get_by_role("button", name="Save", exact=True).click()

        assert "was added successfully" in page.locator(".messagelist").inner_text()
        row = page.locator("#result_list tr", has_text=slug)
        assert row.is_visible()
        assert number in row.inner_text() and f"{slug}.localhost" in row.inner_text()
        leader = Leader.objects.get(slug=slug)
        assert leader.schema_name in schemas()

        page.get_by_role("link", name="Add leader").click()
        page.get_by_label("Slug").fill(f"{slug}-twin")
        page.get_by_label("Display name").fill("Twin")
        page.get_by_label("Phone number").fill(number)
        page.get_by_role("button", name="Save", exact=True).click()

        error = page.locator(".field-phone_number .errorlist")
        assert f"The number {number} already belongs to a leader." in error.inner_text()
        assert not Leader.objects.filter(slug=f"{slug}-twin").exists()
        assert f"leader_{slug.replace('-', '_')}_twin" not in schemas()
    finally:
        for leader in Leader.objects.filter(slug__startswith=slug):
            leader.delete(force_drop=True)


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}
