"""STOP is final through the API: a phone that opted out stays opted out when `POST members/` creates or
updates its member, and the answer says so (issue 12). The opt-out comes from a signed Twilio webhook."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from members.consent import phone_hash
from members.models import REFUSED_OPTED_OUT, ConsentRecord, Member
from messaging.models import SmsStatus
from messaging.services import text_send
from tests import builders
from tests.api.conftest import consent
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone

pytestmark = pytest.mark.django_db


def stop(client, leader, phone: str) -> None:
    """The fan at `phone` texts STOP to the leader's number, through Twilio's signed webhook."""
    assert twiml_messages(text(client, leader, phone, "STOP")), "STOP is confirmed once"


def upsert(api, phone: str, **fields):
    return api.post("/api/v1/members/", {"phone": phone, "consent": consent(), **fields})


def audience_count(api, tag: str) -> int:
    response = api.post("/api/v1/audience/preview/", {"filter": {"tags": [tag]}})
    assert response.status_code == 200, response.content
    return response.json()["count"]


def test_a_phone_that_texted_stop_before_joining_is_created_opted_out_and_left_out_of_broadcasts(
    client, world, owner_api
):
    tag = builders.new_tag()
    stopped, other = unique_phone(), unique_phone()
    stop(client, world.alice, stopped)

    created = upsert(owner_api, stopped, first_name="Maya", tags=[tag])
    control = upsert(owner_api, other, tags=[tag])

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["kept_opted_out"]) == ("opted_out", True)
    assert control.json()["status"] == "subscribed" and control.json()["kept_opted_out"] is False
    with schema_context(world.alice.schema_name):
        member = Member.objects.get(phone=stopped)
        the_stop = ConsentRecord.objects.get(phone_hash=phone_hash(stopped), member=None, kind="opt_out")
        assert member.status == Member.Status.OPTED_OUT and member.opted_out_at == the_stop.created_at
        # No opt-in pretends the phone consented: its ledger is its STOP alone.
        assert not ConsentRecord.objects.filter(member=member).exists()
        assert Member.objects.reachable().filter(phone=stopped).count() == 0
        assert member.refusal() == REFUSED_OPTED_OUT
        assert (
            text_send(leader=world.alice, phone=stopped, member=member, body="Hi").status == SmsStatus.FAILED
        )
    assert audience_count(owner_api, tag) == 1  # the control member only


def test_upserting_the_member_again_keeps_them_opted_out_and_says_so(client, world, owner_api):
    phone = unique_phone()
    stop(client, world.alice, phone)
    upsert(owner_api, phone)

    again = upsert(owner_api, phone, first_name="Maya")

    assert again.status_code == 200
    assert (again.json()["status"], again.json()["kept_opted_out"], again.json()["first_name"]) == (
        "opted_out",
        True,
        "Maya",
    )
    with schema_context(world.alice.schema_name):
        assert not ConsentRecord.objects.filter(kind="opt_in", phone_hash=phone_hash(phone)).exists()


def test_a_phone_that_texted_start_again_is_created_subscribed_with_its_consent(client, world, owner_api):
    phone = unique_phone()
    stop(client, world.alice, phone)
    assert twiml_messages(text(client, world.alice, phone, "START"))

    created = upsert(owner_api, phone)

    assert (created.json()["status"], created.json()["kept_opted_out"]) == ("subscribed", False)
    with schema_context(world.alice.schema_name):
        assert ConsentRecord.objects.filter(
            member_id=created.json()["id"], kind="opt_in", source="api"
        ).exists()


def test_a_stop_after_a_start_is_final_again(client, world, owner_api):
    phone = unique_phone()
    for word in ("STOP", "START", "STOP"):
        assert twiml_messages(text(client, world.alice, phone, word))

    assert upsert(owner_api, phone).json()["status"] == "opted_out"


def test_an_erased_members_phone_comes_back_opted_out(world, owner_api):
    phone = unique_phone()
    first = upsert(owner_api, phone).json()
    assert owner_api.delete(f"/api/v1/members/{first['id']}/").status_code == 204

    again = upsert(owner_api, phone)

    assert again.status_code == 201
    assert (again.json()["status"], again.json()["kept_opted_out"]) == ("opted_out", True)


def test_a_patch_opts_out_a_member_created_subscribed_after_their_phone_texted_stop(client, world, owner_api):
    """Members created before the rule (an import or the API after a STOP) are put right when updated."""
    phone = unique_phone()
    stop(client, world.alice, phone)
    member = builders.member(leader=world.alice, phone=phone)  # as the API made them before

    response = owner_api.patch(f"/api/v1/members/{member.pk}/", {"first_name": "Maya"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["first_name"]) == ("opted_out", "Maya")
    with schema_context(world.alice.schema_name):
        assert Member.objects.reachable().filter(pk=member.pk).count() == 0


def test_the_schema_documents_kept_opted_out(world, owner_api):
    schema = json.loads(owner_api.get("/api/v1/schema/", {"format": "json"}, token=None).content)
    answer = schema["paths"]["/api/v1/members/"]["post"]["responses"]["201"]["content"]["application/json"]
    name = answer["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][name]["properties"]["kept_opted_out"]["type"] == "boolean"
