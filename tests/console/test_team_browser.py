"""The owner's API tokens and pending invitations in a real browser (Debian's chromium)."""

from __future__ import annotations

import uuid

import pytest
from django_tenants.utils import schema_context

from api.models import ApiToken
from console.models import Invitation
from tests.console.test_browser import _log_in

pytestmark = pytest.mark.browser


def test_the_owner_creates_a_token_sees_it_once_and_listed_then_revokes_it(live_db, live_app, world, page):
    name = "CRM " + uuid.uuid4().hex[:8]
    try:
        _log_in(page, live_app, world.alice)
        page.get_by_role("navigation", name="Console").get_by_role("link", name="API tokens").click()
        page.get_by_role("heading", name="API tokens", level=1).wait_for()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Acts as").select_option(label="mark (Manager)")
        page.get_by_role("button", name="Create the token").click()
        page.get_by_role("heading", name=f"Token “{name}” created").wait_for()
        secret = page.get_by_role("textbox", name="The new token").input_value()
        assert secret.startswith("cmt_")
        row = page.get_by_role("row").filter(has_text=name)
        assert "mark (Manager)" in row.inner_text() and "olivia" in row.inner_text()
        assert "Never" in row.inner_text()

        # The secret is gone once the page is loaded again; the token stays listed.
        page.get_by_role("navigation", name="Console").get_by_role("link", name="API tokens").click()
        page.get_by_role("row").filter(has_text=name).wait_for()
        assert secret not in page.content()

        page.get_by_role("button", name=f"Revoke the token {name}").click()
        page.get_by_text(f"The token “{name}” is revoked.").wait_for()
        assert page.get_by_role("row").filter(has_text=name).count() == 0
        response = live_app.http(
            "GET",
            "/api/v1/members/",
            host=world.alice.get_primary_domain().domain,
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
    finally:
        with schema_context(world.alice.schema_name):
            ApiToken.objects.filter(name=name).delete()


def test_the_owner_invites_someone_then_revokes_the_invitation(live_db, live_app, world, page):
    email = f"guest-{uuid.uuid4().hex[:8]}@example.org"
    try:
        _log_in(page, live_app, world.alice)
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Team").click()
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Manager: members, broadcasts and inbox").check()
        page.get_by_role("button", name="Send the invitation").click()
        page.get_by_text("Invitation sent.").wait_for()
        row = page.get_by_role("row").filter(has_text=email)
        assert "Manager" in row.inner_text() and "olivia" in row.inner_text()

        page.get_by_role("button", name=f"Revoke the invitation to {email}").click()
        page.get_by_text("is withdrawn.").wait_for()
        assert page.get_by_role("row").filter(has_text=email).count() == 0
        with schema_context(world.alice.schema_name):
            assert Invitation.objects.get(email=email).revoked_at is not None
    finally:
        with schema_context(world.alice.schema_name):
            Invitation.objects.filter(email=email).delete()
