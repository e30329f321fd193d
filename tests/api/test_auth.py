"""Tokens: shown once, stored hashed, scoped to one leader and to the teammate's role."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from accounts.models import User
from api.models import ApiToken
from api.services import api_token_create, api_token_revoke
from tests.api.conftest import Api, token_for


def test_a_token_is_stored_only_as_its_sha256_with_a_recognisable_prefix(alice_schema):
    olivia = User.objects.get(username="olivia")
    token, raw = api_token_create(user=olivia, name="CRM sync")
    assert raw.startswith("cmt_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    assert stored.display_prefix == raw[:8]


def test_a_request_without_a_token_gets_401_in_json_with_a_challenge(world, db):
    response = Api(world.alice, None).get("/api/v1/members/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "header", ["Bearer cmt_nope", "Token abc", "Bearer", "Basic b2xpdmlhOnB3", "Bearer cmt_" + "x" * 500]
)
def test_a_malformed_or_unknown_token_gets_401(world, db, header):
    api = Api(world.alice, None)
    response = api.client.get("/api/v1/members/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_of_leader_bob_is_worthless_on_alice_host(world, db):
    bob_token = token_for(world.bob, "bruno")
    assert Api(world.bob, bob_token).get("/api/v1/settings/").status_code == 200
    response = Api(world.alice, bob_token).get("/api/v1/settings/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_a_token_of_alice_is_worthless_on_bob_host(world, owner_api):
    assert Api(world.bob, owner_api.token).get("/api/v1/settings/").status_code == 401


def test_a_revoked_token_is_refused(world, owner_api):
    assert owner_api.get("/api/v1/settings/").status_code == 200
    with schema_context(world.alice.schema_name):
        token = ApiToken.objects.get(token_hash=hashlib.sha256(owner_api.token.encode()).hexdigest())
        assert api_token_revoke(token=token) is True
        assert api_token_revoke(token=token) is False
    response = owner_api.get("/api/v1/settings/")
    assert response.status_code == 401


def test_the_token_of_a_deactivated_teammate_is_refused(world, manager_api):
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="mark").update(is_active=False)
    assert manager_api.get("/api/v1/members/").status_code == 401


def test_a_token_remembers_when_it_was_last_used(world, owner_api):
    owner_api.get("/api/v1/settings/")
    with schema_context(world.alice.schema_name):
        token = ApiToken.objects.get(token_hash=hashlib.sha256(owner_api.token.encode()).hexdigest())
        assert token.last_used_at is not None


ROLE_MATRIX = [
    # (path, owner, manager, responder)
    ("/api/v1/members/", 200, 200, 403),
    ("/api/v1/conversations/", 200, 200, 200),
    ("/api/v1/settings/", 200, 403, 403),
    ("/api/v1/webhooks/", 200, 403, 403),
]


@pytest.mark.parametrize(("path", "owner", "manager", "responder"), ROLE_MATRIX)
def test_each_role_reaches_only_its_part_of_the_api(
    owner_api, manager_api, responder_api, path, owner, manager, responder
):
    assert owner_api.get(path).status_code == owner
    assert manager_api.get(path).status_code == manager
    response = responder_api.get(path)
    assert response.status_code == responder
    if responder == 403:
        assert response.json()["error"]["code"] == "forbidden"


def test_a_responder_cannot_create_members_or_webhooks(responder_api):
    assert responder_api.post("/api/v1/members/", {"phone": "+12025550150"}).status_code == 403
    assert (
        responder_api.post("/api/v1/webhooks/", {"url": "https://example.org/", "events": []}).status_code
        == 403
    )


def test_the_scope_follows_the_teammates_role_at_request_time(world, manager_api):
    assert manager_api.get("/api/v1/members/").status_code == 200
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="mark").update(role=User.Role.RESPONDER)
    assert manager_api.get("/api/v1/members/").status_code == 403
    assert manager_api.get("/api/v1/conversations/").status_code == 200


def test_the_command_prints_a_working_token_once(world, db):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "alice", "rita", "--name", "inbox bot", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("cmt_") and "\n" not in raw
    assert "shown once" in err.getvalue()
    assert Api(world.alice, raw).get("/api/v1/conversations/").status_code == 200
    with schema_context(world.alice.schema_name):
        assert ApiToken.objects.get(token_hash=hashlib.sha256(raw.encode()).hexdigest()).name == "inbox bot"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["nobody", "olivia"], "no leader"), (["alice", "bruno"], "no teammate")],
)
def test_the_command_explains_bad_arguments_in_one_line(db, world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
