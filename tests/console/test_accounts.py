"""Team accounts: per-leader logins, password reset links, roles. (Login and reset limits:
tests/platform/test_logins.py; invitations: test_invitations.py.)"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django_tenants.utils import schema_context

from accounts.models import User
from tests.conftest import TEAM_PASSWORD
from tests.console.conftest import client_for


@pytest.fixture(autouse=True)
def _forget_login_failures(db):
    cache.clear()
    yield
    cache.clear()


def test_a_teammate_logs_in_and_out_on_their_leaders_host(db, world):
    client = client_for(world.alice)
    response = client.post("/login/", {"username": "olivia", "password": TEAM_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "Dashboard" in client.get("/").content.decode()
    client.post("/logout/")
    assert client.get("/members/").status_code == 302


def test_bobs_owner_cannot_log_in_on_alices_host(db, world):
    client = client_for(world.alice)
    response = client.post("/login/", {"username": "bruno", "password": TEAM_PASSWORD})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()
    assert client.get("/members/").status_code == 302


def test_a_session_from_bobs_host_does_not_open_alices_console(db, world):
    bob_client = client_for(world.bob, "bruno")
    session_cookie = bob_client.cookies["sessionid"].value
    alice_client = client_for(world.alice)
    alice_client.cookies["sessionid"] = session_cookie
    assert alice_client.get("/members/").status_code == 302


def test_staff_of_the_platform_cannot_log_into_a_leaders_console(db, world):
    response = client_for(world.alice).post("/login/", {"username": "carol", "password": TEAM_PASSWORD})
    assert response.status_code == 200


def test_the_password_reset_email_links_to_the_leaders_host(db, world, settings):
    settings.PUBLIC_BASE_URL = "https://platform.example.org"
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="olivia").update(email="olivia@example.org")
    client = client_for(world.alice)
    response = client.post("/password/reset/", {"email": "olivia@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert link.startswith("https://alice.localhost/password/reset/")
    # The link works on alice's host and sets a new password.
    path = link.removeprefix("https://alice.localhost")
    page = client.get(path, follow=True)
    assert page.status_code == 200
    form_path = page.redirect_chain[-1][0]
    done = client.post(
        form_path, {"new_password1": "a-new-pass-word-9", "new_password2": "a-new-pass-word-9"}
    )
    assert done.status_code == 302
    assert client.post("/login/", {"username": "olivia", "password": "a-new-pass-word-9"}).status_code == 302


def test_the_owner_changes_a_role_and_deactivates_a_teammate(olivia, world):
    with schema_context(world.alice.schema_name):
        mark_id = User.objects.get(username="mark").pk
    assert olivia.post(f"/team/{mark_id}/", {"role": "responder"}).status_code == 302
    with schema_context(world.alice.schema_name):
        mark = User.objects.get(pk=mark_id)
        assert mark.role == "responder" and not mark.is_active
    response = client_for(world.alice).post("/login/", {"username": "mark", "password": TEAM_PASSWORD})
    assert response.status_code == 200


def test_the_last_owner_cannot_demote_or_deactivate_themselves(olivia, world):
    with schema_context(world.alice.schema_name):
        olivia_id = User.objects.get(username="olivia").pk
    response = olivia.post(f"/team/{olivia_id}/", {"role": "manager", "is_active": "on"}, follow=True)
    assert "at least one active owner" in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert User.objects.get(pk=olivia_id).role == "owner"


def test_a_second_owner_lets_the_first_step_down(olivia, world):
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="mark").update(role="owner")
        olivia_id = User.objects.get(username="olivia").pk
    olivia.post(f"/team/{olivia_id}/", {"role": "manager", "is_active": "on"})
    with schema_context(world.alice.schema_name):
        assert User.objects.get(pk=olivia_id).role == "manager"


def test_a_teammate_changes_their_password(mark, world):
    response = mark.post(
        "/password/",
        {
            "old_password": TEAM_PASSWORD,
            "new_password1": "mark-new-pass-42",
            "new_password2": "mark-new-pass-42",
        },
    )
    assert response.status_code == 302
    assert (
        client_for(world.alice)
        .post("/login/", {"username": "mark", "password": "mark-new-pass-42"})
        .status_code
        == 302
    )


def test_logging_out_needs_a_post(olivia):
    assert olivia.get("/logout/").status_code == 405
    assert olivia.get("/members/").status_code == 200
