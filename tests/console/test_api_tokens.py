"""The owners' API token page in the console (/settings/api-tokens/): a token created there works over HTTP
against the API, its secret is shown once, the list says who made it and when it was last used, and a
token revoked there gets the API's JSON 401."""

from __future__ import annotations

import re

from django_tenants.utils import schema_context

from accounts.models import User
from api.models import ApiToken
from tests.api.conftest import Api, token_for
from tests.console.conftest import client_for

PAGE = "/settings/api-tokens/"


def _user_id(world, username: str) -> int:
    with schema_context(world.alice.schema_name):
        return User.objects.get(username=username).pk


def _create(client, world, *, name: str, acts_as: str = "olivia") -> str:
    """Create a token through the page's form; the secret the page showed."""
    response = client.post(PAGE, {"name": name, "user": _user_id(world, acts_as)})
    assert response.status_code == 200, response.content[:500]
    assert response["Cache-Control"].startswith("max-age=0") and "no-store" in response["Cache-Control"]
    match = re.search(r'id="new-token" value="(cmt_[^"]+)"', response.content.decode())
    assert match, "the new token is shown"
    return match.group(1)


def _rows(page: str, name: str) -> list[str]:
    return [row for row in re.findall(r"<tr>.*?</tr>", page, re.S) if name in row]


def _row(page: str, name: str) -> str:
    """The table row of the token named `name`."""
    rows = _rows(page, name)
    assert len(rows) == 1, f"{len(rows)} rows for {name!r}"
    return rows[0]


def test_the_owner_creates_a_token_that_works_against_the_api_and_is_shown_once(olivia, world):
    raw = _create(olivia, world, name="CRM sync")
    page = olivia.get(PAGE).content.decode()
    assert raw not in page  # shown once: the list has its name and first characters only
    row = _row(page, "CRM sync")
    assert raw[:8] in row and "olivia (Owner)" in row and "Never" in row
    with schema_context(world.alice.schema_name):
        token = ApiToken.objects.get(name="CRM sync")
        assert token.created_by.username == "olivia" and token.user.username == "olivia"

    assert Api(world.alice, raw).get("/api/v1/settings/").status_code == 200

    row = _row(olivia.get(PAGE).content.decode(), "CRM sync")
    assert "Never" not in row  # last used: the API's authentication wrote it
    with schema_context(world.alice.schema_name):
        used = ApiToken.objects.get(name="CRM sync").last_used_at
    assert used is not None and used.astimezone(world.alice.zone).strftime("%Y-%m-%dT%H:%M") in row


def test_a_token_made_for_a_manager_has_the_managers_role(olivia, world):
    raw = _create(olivia, world, name="Volunteer sheet", acts_as="mark")
    assert "mark (Manager)" in _row(olivia.get(PAGE).content.decode(), "Volunteer sheet")
    api = Api(world.alice, raw)
    assert api.get("/api/v1/members/").status_code == 200
    assert api.get("/api/v1/settings/").status_code == 403


def test_a_token_revoked_in_the_console_gets_the_apis_json_401(olivia, world):
    raw = _create(olivia, world, name="Old script")
    api = Api(world.alice, raw)
    assert api.get("/api/v1/settings/").status_code == 200
    with schema_context(world.alice.schema_name):
        token_id = ApiToken.objects.get(name="Old script").pk
    response = olivia.post(f"{PAGE}{token_id}/revoke/", follow=True)
    assert "is revoked" in response.content.decode()
    assert _rows(response.content.decode(), "Old script") == []
    refused = api.get("/api/v1/settings/")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"
    again = olivia.post(f"{PAGE}{token_id}/revoke/", follow=True)
    assert "already revoked" in again.content.decode()


def test_tokens_from_the_command_line_are_listed_and_revocable_too(olivia, world):
    raw = token_for(world.alice, "rita", name="Inbox bot")
    row = _row(olivia.get(PAGE).content.decode(), "Inbox bot")
    assert "rita (Responder)" in row and "command line" in row
    with schema_context(world.alice.schema_name):
        token_id = ApiToken.objects.get(name="Inbox bot").pk
    assert olivia.post(f"{PAGE}{token_id}/revoke/").status_code == 302
    assert Api(world.alice, raw).get("/api/v1/conversations/").status_code == 401


def test_only_owners_reach_the_token_page(olivia, mark, rita, world):
    raw = token_for(world.alice, "olivia", name="Kept")
    with schema_context(world.alice.schema_name):
        token_id = ApiToken.objects.get(name="Kept").pk
    for teammate in (mark, rita):
        assert teammate.get(PAGE).status_code == 403
        assert teammate.post(PAGE, {"name": "Mine", "user": _user_id(world, "mark")}).status_code == 403
        assert teammate.post(f"{PAGE}{token_id}/revoke/").status_code == 403
    anonymous = client_for(world.alice).get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert client_for(world.alice).post(f"{PAGE}{token_id}/revoke/").status_code == 302
    with schema_context(world.alice.schema_name):
        assert not ApiToken.objects.filter(name="Mine").exists()
    assert Api(world.alice, raw).get("/api/v1/settings/").status_code == 200  # not revoked
    assert "API tokens" in olivia.get("/").content.decode()
    assert "API tokens" not in mark.get("/").content.decode()


def test_a_bad_token_form_gets_form_errors_and_creates_nothing(olivia, world):
    with schema_context(world.alice.schema_name):
        before = ApiToken.objects.count()
        User.objects.filter(username="rita").update(is_active=False)
    for data in (
        {"name": "", "user": _user_id(world, "olivia")},
        {"name": "x" * 81, "user": _user_id(world, "olivia")},
        {"name": "Ghost", "user": 999999},
        {"name": "Ghost", "user": "not-a-number"},
        {"name": "Gone", "user": _user_id(world, "rita")},  # deactivated
    ):
        response = olivia.post(PAGE, data)
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
        assert "cmt_" not in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert ApiToken.objects.count() == before
    assert olivia.post(f"{PAGE}999999/revoke/").status_code == 404
    assert olivia.get(f"{PAGE}1/revoke/").status_code == 405
