"""The OpenAPI schema, checked against the running API by schemathesis: whatever a client sends, the answer
is never a server error and always matches the schema (status, content type, body); what the schema allows
is accepted, and what it forbids is refused (headers included: the Idempotency-Key), so a client written
from the schema alone meets no constraint it does not state. The only refusals of schema-valid input are
the rules no schema can state (below), each named in the error's `fields`.

Bounded for CI: a few hundred generated requests over real HTTP, well under two minutes. The fuzzer works in
a leader of its own, so the members and webhooks it creates touch no other test's data.
"""

from __future__ import annotations

import json
import secrets

import pytest
import schemathesis
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from api.services import api_token_create
from leaders.services import leader_create, leader_user_create
from messaging.models import SmsStatus
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.phones import unique_phone

# Asks pytest-django to set up the test database even when this module runs alone; the requests themselves
# go to the live server, whose own connection commits what the fuzzer creates (in its own leader).
pytestmark = pytest.mark.django_db

# Rules the API keeps that JSON Schema cannot express (each in docs/api.md): a 400 naming only these
# fields refuses schema-valid input for a reason of its own, not because the schema left a constraint out.
RULES_NO_SCHEMA_STATES = {
    "phone": "a number that exists (phonenumbers' metadata), from one of the leader's accepted countries",
    "birth_date": "between 1900 and today, and old enough for the leader's minimum age",
    "url": "a webhook receiver on a public address (the guard against server-side request forgery)",
    "send_at": "a time in the future",
    "age_min": "not above age_max",
    "cities": "cities the gazetteer knows",
    "near": "a place the gazetteer knows",
    "regions": "region names the gazetteer knows",
    "name": "a topic's or survey's name the leader does not use yet, whatever its case",
    # Surveys (surveys.editing, docs/api.md "Surveys"):
    "text": "the leader's default language given; a question with its options within 320 characters in each",
    "label": "the leader's default language given",
    "intro": "the leader's default language given when any language is",
    "thanks": "the leader's default language given when any language is",
    "choices": "2 to 12 for questions with one or several choices, none for the other kinds",
    "number_min": "a range only on number questions",
    "number_max": "not below number_min",
    "topic": "one of the leader's topics",
    "id": "a question or choice of this survey",
    "trigger": "one open survey at a time greets new members",
    "questions": "a survey that went to members keeps its questions, in order",
    "kind": "a survey that went to members keeps its questions' kinds",
    "follows": "ids of the leader's own topics",
    # Events (events.services, docs/api.md "Events"):
    "title": "something visible once spaces are tidied",
    "place_id": "a place the gazetteer knows (or coordinates instead)",
    "latitude": "a venue: a gazetteer place or coordinates, both of them",
    "time_zone": "a time zone name the machine knows",
    "starts_at": "an ISO 8601 date and time",
    "ends_at": "an ISO 8601 date and time after the start, in the future",
    "rsvp_deadline": "an ISO 8601 date and time no later than the end",
    "code_word": "one word of letters or digits, no keyword or yes/no, no other event's",
    "member_id": "one of the leader's members",
    "body": "within 400 characters with the RSVP instruction appended",
}
# Error codes of the same kind: a cursor is valid only as the API wrote it (signed); an Idempotency-Key
# already used for another request (the fuzzer draws the same keys again) is refused for what came before.
CODES_NO_SCHEMA_STATES = {"invalid_cursor", "idempotency_key_reused"}


def _field_name(key: str) -> str:
    """`filter.cities.0` → `cities`: the field an error is about, wherever it is nested."""
    return [part for part in key.split(".") if not part.isdecimal()][-1]


@schemathesis.check
def schema_valid_input_is_accepted(ctx, response, case):
    """schemathesis' positive_data_acceptance, but for the refusals RULES_NO_SCHEMA_STATES explains."""
    if response.status_code in (400, 422):
        error = (response.json() or {}).get("error") or {}
        fields = {_field_name(key) for key in error.get("fields") or {}}
        if error.get("code") in CODES_NO_SCHEMA_STATES:
            return None
        if error.get("code") == "invalid" and fields and fields <= set(RULES_NO_SCHEMA_STATES):
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    schema_valid_input_is_accepted,
    negative_data_rejection,
]


@pytest.fixture(scope="session")
def fuzz_target(live_app, django_db_blocker):
    """A leader of the fuzzer's own with an owner's token and a little data, behind the live server."""
    with django_db_blocker.unblock():
        leader = leader_create(
            slug=f"fuzz{secrets.token_hex(3)}", name="Fuzz Leader", phone_number=unique_phone()
        )
        leader_user_create(leader=leader, username="owner", role=User.Role.OWNER, password=TEAM_PASSWORD)
        with schema_context(leader.schema_name):
            _token, raw = api_token_create(user=User.objects.get(username="owner"), name="schemathesis")
            for _ in range(3):
                member = builders.member(first_name="Fuzz")
                conversation = builders.conversation(member=member, unread_count=1)
                text = builders.message(
                    conversation=conversation,
                    member=member,
                    direction="in",
                    body="hello",
                    status=SmsStatus.RECEIVED,
                )
                # Triaged, so the listings' triage filters and fields have something to show.
                builders.label(
                    message=text,
                    topic=builders.topic(examples=["the clinic closed"]),
                    confidence=0.8,
                    language="en",
                    country="US",
                    region="Maine",
                    place_source="phone",
                )
        host = f"{leader.get_primary_domain().domain}:{live_app.port}"
    return {
        "base_url": f"http://127.0.0.1:{live_app.port}",
        "headers": {"Host": host, "Authorization": f"Bearer {raw}"},
    }


def _generated_schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


# Built at collection from the same generator that serves /api/v1/schema/ (the test below checks they are
# one), because schemathesis needs the operations before any fixture runs.
schema = schemathesis.openapi.from_dict(_generated_schema())
# The token is the fixture's, sent with every request: schemathesis draws no Authorization header of its own
# (a request it thought it sent without one would reach the API with the token, and look accepted).
schema.config.generation.update(with_security_parameters=False)


def test_the_served_schema_is_the_one_fuzzed(fuzz_target):
    import requests
    import yaml

    response = requests.get(
        fuzz_target["base_url"] + "/api/v1/schema/",
        headers={"Host": fuzz_target["headers"]["Host"]},
        timeout=30,
    )
    assert response.status_code == 200
    assert yaml.safe_load(response.text) == json.loads(json.dumps(_generated_schema()))


@pytest.fixture
def generous_rate(settings):
    settings.API_THROTTLE_RATE = "100000/minute"


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_every_generated_request_as_its_schema_says(case, fuzz_target, generous_rate):
    case.call_and_validate(base_url=fuzz_target["base_url"], headers=fuzz_target["headers"], checks=CHECKS)
