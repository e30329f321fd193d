"""Through the API, a teammate reads fans' numbers as in the console: a responder's token sees "•••• 0142",
a manager's too when the owner hid numbers from managers, the owner's in full (Leader.phones_visible_to)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from leaders.models import Leader
from tests import builders
from tests.api.conftest import Api, token_for


@pytest.fixture
def talk(world, db):
    with schema_context(world.alice.schema_name):
        conversation = builders.conversation()
        builders.message(conversation=conversation, body="Is the rally on Sunday?")
    return conversation


def _phones(world, username: str, conversation) -> set[str]:
    api = Api(world.alice, token_for(world.alice, username))
    seen = set()
    for path in (
        f"/api/v1/conversations/{conversation.pk}/",
        f"/api/v1/conversations/{conversation.pk}/messages/",
        "/api/v1/conversations/",
        "/api/v1/messages/",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content)
        body = response.json()
        rows = body.get("results", [body]) if isinstance(body, dict) else body
        seen |= {row["phone"] for row in rows if row.get("id") in (conversation.pk,) or "body" in row}
    return seen


def test_a_responders_token_reads_numbers_masked(world, talk):
    phone = str(talk.phone)
    seen = _phones(world, "rita", talk)
    assert seen and phone not in seen
    assert f"•••• {phone[-4:]}" in seen


def test_the_owners_token_reads_them_in_full_and_a_managers_unless_the_owner_hid_them(world, talk):
    phone = str(talk.phone)
    assert phone in _phones(world, "olivia", talk)
    assert phone in _phones(world, "mark", talk)
    Leader.objects.filter(pk=world.alice.pk).update(managers_see_phones=False)
    seen = _phones(world, "mark", talk)
    assert phone not in seen and f"•••• {phone[-4:]}" in seen
