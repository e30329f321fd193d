"""The phone simulator in a real browser: staff text alice's number and see the welcome with its link.

(In a module that sorts after test_transport.py: playwright's sync API leaves an event loop running in the
test thread, which test_send_many_works_from_inside_a_running_event_loop cannot start its own in.)
"""

from __future__ import annotations

import pytest

from leaders.routing import leader_cache_clear
from tests.conftest import TEAM_PASSWORD
from tests.phones import unique_phone


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


@pytest.mark.browser
def test_staff_text_alices_number_in_the_simulator_and_see_the_welcome_with_a_link(
    live_db, live_app, world, page
):
    phone = unique_phone()
    page.goto(live_app.url("/admin/login/?next=/simulator/"))
    page.fill("#id_username", "carol")
    page.fill("#id_password", TEAM_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/simulator/")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone

    page.select_option("#sim-leader", "alice")
    page.fill("#sim-phone", phone)
    page.fill("#sim-body", "Hi Alice! Count me in")
    page.click("#sim-send")

    reply = page.locator(".bubble.out").first
    reply.wait_for(timeout=10_000)
    assert "Alice Martin: thanks!" in reply.inner_text()
    link = reply.locator("a")
    assert link.get_attribute("href").startswith("http://alice.localhost:8000/j/")
    assert page.locator(".bubble.in").first.inner_text().startswith("Hi Alice! Count me in")
