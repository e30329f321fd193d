"""Who reaches which console page: anonymous visitors log in first, roles get 403 where they may not go."""

from __future__ import annotations

import pytest

from tests.console.conftest import client_for

MANAGER_PAGES = ["/members/", "/members/export.csv", "/members/import/"]
OWNER_PAGES = ["/settings/", "/team/", "/members/exports/"]


@pytest.mark.parametrize("path", ["/members/", "/settings/", "/team/", "/members/import/", "/password/"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(db, world, path):
    response = client_for(world.alice).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", MANAGER_PAGES + OWNER_PAGES)
def test_a_responder_cannot_reach_members_settings_or_team(rita, path):
    assert rita.get(path).status_code == 403


@pytest.mark.parametrize("path", OWNER_PAGES)
def test_a_manager_cannot_reach_settings_or_team(mark, path):
    assert mark.get(path).status_code == 403


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_a_manager_reaches_the_members_pages(mark, path):
    assert mark.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/", *MANAGER_PAGES, *OWNER_PAGES, "/password/"])
def test_the_owner_reaches_every_page(olivia, path):
    assert olivia.get(path).status_code == 200


def test_the_navigation_shows_only_what_the_role_may_open(olivia, mark, rita):
    owner_page = olivia.get("/").content.decode()
    manager_page = mark.get("/").content.decode()
    responder_page = rita.get("/").content.decode()
    assert 'href="/settings/"' in owner_page and 'href="/team/"' in owner_page
    assert 'href="/members/"' in manager_page and 'href="/settings/"' not in manager_page
    assert 'href="/members/"' not in responder_page and 'href="/team/"' not in responder_page
    assert "Top cities" not in responder_page


def test_the_dashboard_of_a_suspended_leader_says_so(db, world):
    world.bob.suspend(reason="test")
    try:
        page = client_for(world.bob, "bruno").get("/").content.decode()
    finally:
        world.bob.reactivate()
    assert 'role="status"' in page and "suspended" in page


def test_a_refused_page_is_the_consoles_own_and_is_logged_in_one_line(rita, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = rita.get("/members/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>This page is not for your role</h1>" in page
    assert 'aria-label="Console"' in page and 'href="/inbox/"' in page  # the layout, and the way back
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /members/"
    assert record.exc_info is None and not record.exc_text  # no traceback for a role doing its job
