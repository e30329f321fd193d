import pytest

pytestmark = pytest.mark.browser


def test_a_suspended_leaders_home_page_says_so_in_a_real_browser(live_db, live_app, world, page):
    world.bob.suspend(reason="test")
    try:
        page.goto(live_app.leader_url(world.bob))
        assert page.get_by_role("heading", name="Bob Tremblay").is_visible()
        assert "suspended" in page.get_by_role("status").inner_text()
    finally:
        world.bob.reactivate()


def test_the_platform_host_and_a_leader_host_route_to_different_pages(live_db, live_app, world):
    platform = live_app.http("GET", "/")
    alice = live_app.http("GET", "/", host="alice.localhost")
    unknown = live_app.http("GET", "/", host="nobody.localhost")
    assert "Staff admin" in platform.text
    assert "Alice Martin" in alice.text and "Staff admin" not in alice.text
    assert "Staff admin" in unknown.text
