"""API test helpers: tokens for alice's team, and a client that speaks to a leader's host."""

from __future__ import annotations

import dataclasses
import json

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from api.services import api_token_create
from leaders.models import Leader


@dataclasses.dataclass
class Api:
    """Django's test client aimed at one leader's host, with one token (or none)."""

    leader: Leader
    token: str | None

    def __post_init__(self):
        self.client = Client(HTTP_HOST=self.leader.get_primary_domain().domain)

    def request(
        self,
        method: str,
        path: str,
        data=None,
        *,
        token: str | None = "default",
        headers=None,
        raw=None,
        content_type="application/json",
    ):
        extra = {}
        token = self.token if token == "default" else token
        if token:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        if method == "GET":
            return self.client.get(path, data or {}, **extra)
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        return getattr(self.client, method.lower())(path, body, content_type=content_type, **extra)

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params, **kw)

    def post(self, path, data=None, **kw):
        return self.request("POST", path, data, **kw)

    def patch(self, path, data=None, **kw):
        return self.request("PATCH", path, data, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def token_for(leader: Leader, username: str, name: str = "tests") -> str:
    with schema_context(leader.schema_name):
        user = User.objects.get(username=username)
        _token, raw = api_token_create(user=user, name=name)
    return raw


@pytest.fixture
def owner_api(db, world) -> Api:
    return Api(world.alice, token_for(world.alice, "olivia"))


@pytest.fixture
def manager_api(db, world) -> Api:
    return Api(world.alice, token_for(world.alice, "mark"))


@pytest.fixture
def responder_api(db, world) -> Api:
    return Api(world.alice, token_for(world.alice, "rita"))


def consent(text: str = "I agree to get texts from Alice Martin. Reply STOP to stop.") -> dict:
    return {"text": text, "detail": "rally sign-up sheet"}
