"""Conversations through the API: the inbox's list and filters, a conversation's messages, one-to-one replies."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from members.consent import phone_consent_record
from members.models import ConsentRecord, Member
from messaging.models import Conversation, Message, SmsStatus
from tests import builders
from tests.api.helpers import queued_tasks, run_queued
from tests.phones import unique_phone


def _conversation(
    *,
    member: bool = True,
    unread: int = 0,
    status: str = "open",
    assigned: str | None = None,
    minutes_ago: int = 0,
    opted_out: bool = False,
) -> Conversation:
    phone = unique_phone()
    member_row = None
    if member:
        member_row = builders.member(
            phone=phone, first_name="Maya", status="opted_out" if opted_out else "subscribed"
        )
    when = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    conversation = builders.conversation(
        phone=phone,
        member=member_row,
        unread_count=unread,
        status=status,
        assigned_to=User.objects.get(username=assigned) if assigned else None,
        last_message_at=when,
    )
    for i in range(3):
        builders.message(
            conversation=conversation,
            member=member_row,
            direction="in",
            body=f"hello {i}",
            status=SmsStatus.RECEIVED,
            created_at=when - datetime.timedelta(seconds=10 - i),
        )
    return conversation


def test_conversations_are_listed_latest_first_and_filtered(world, responder_api):
    with schema_context(world.alice.schema_name):
        old = _conversation(minutes_ago=30, unread=0, status="done")
        new = _conversation(minutes_ago=1, unread=2, assigned="rita")
        mid = _conversation(minutes_ago=10, unread=1, assigned="mark")

    def ids(**params):
        response = responder_api.get("/api/v1/conversations/", params)
        assert response.status_code == 200, response.content
        return [c["id"] for c in response.json()["results"] if c["id"] in {old.pk, new.pk, mid.pk}]

    assert ids() == [new.pk, mid.pk, old.pk]
    assert ids(status="done") == [old.pk]
    assert ids(status="open") == [new.pk, mid.pk]
    assert ids(unread="true") == [new.pk, mid.pk]
    assert ids(unread="false") == [old.pk]
    assert ids(assigned="me") == [new.pk]
    assert ids(assigned="none") == [old.pk]
    with schema_context(world.alice.schema_name):
        mark_id = User.objects.get(username="mark").pk
    assert ids(assigned=str(mark_id)) == [mid.pk]
    page = responder_api.get("/api/v1/conversations/", {"limit": 1}).json()
    assert len(page["results"]) == 1 and page["next"]


@pytest.mark.parametrize(
    "params", [{"status": "closed"}, {"unread": "yes"}, {"assigned": "bob"}, {"assigned": "9" * 30}]
)
def test_bad_conversation_filters_are_a_400(responder_api, params):
    response = responder_api.get("/api/v1/conversations/", params)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == list(params)


def test_a_conversation_comes_with_its_latest_messages_oldest_first(world, responder_api):
    with schema_context(world.alice.schema_name):
        conversation = _conversation(assigned="rita")
    response = responder_api.get(f"/api/v1/conversations/{conversation.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert [m["body"] for m in data["messages"]] == ["hello 0", "hello 1", "hello 2"]
    assert data["assigned_to"]["username"] == "rita"
    messages = responder_api.get(f"/api/v1/conversations/{conversation.pk}/messages/", {"limit": 2}).json()
    assert [m["body"] for m in messages["results"]] == ["hello 2", "hello 1"]
    assert messages["next"]
    assert responder_api.get("/api/v1/conversations/999999999/").status_code == 404
    assert responder_api.get("/api/v1/conversations/999999999/messages/").status_code == 404


def test_a_reply_is_queued_and_sent_through_twilio(
    world, responder_api, twilio, django_capture_on_commit_callbacks
):
    with schema_context(world.alice.schema_name):
        conversation = _conversation()
    with django_capture_on_commit_callbacks(execute=True):
        response = responder_api.post(
            f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Thanks Maya, see you Saturday!"}
        )
    assert response.status_code == 201, response.content
    reply = response.json()
    assert (reply["direction"], reply["status"], reply["sent_by"]["username"]) == ("out", "queued", "rita")
    assert any(task["func"] == "messaging.tasks.message_send" for task in queued_tasks())
    assert run_queued("messaging.tasks.message_send") == ["sent"]
    assert [(m["to"], m["body"]) for m in twilio.messages][-1] == (
        conversation.phone,
        "Thanks Maya, see you Saturday!",
    )
    with schema_context(world.alice.schema_name):
        assert Message.objects.get(pk=reply["id"]).status == SmsStatus.WIRED


def test_a_reply_to_someone_who_is_not_a_member_is_allowed(world, responder_api):
    with schema_context(world.alice.schema_name):
        conversation = _conversation(member=False)
    response = responder_api.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hi! Want to join?"}
    )
    assert response.status_code == 201


def test_a_reply_to_an_opted_out_member_is_a_409_and_nothing_is_stored(world, responder_api):
    with schema_context(world.alice.schema_name):
        conversation = _conversation(opted_out=True)
        before = Message.objects.filter(conversation=conversation).count()
    response = responder_api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hello?"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "member_opted_out" and "opted out" in error["message"]
    with schema_context(world.alice.schema_name):
        assert Message.objects.filter(conversation=conversation).count() == before


@pytest.mark.parametrize("refusal", ["phone_opted_out", "unreachable"])
def test_a_reply_to_a_phone_that_said_stop_before_joining_or_cannot_receive_is_a_409(
    world, responder_api, refusal
):
    with schema_context(world.alice.schema_name):
        if refusal == "phone_opted_out":
            conversation = _conversation(member=False)
            phone_consent_record(
                phone=conversation.phone,
                kind=ConsentRecord.Kind.OPT_OUT,
                source=ConsentRecord.Source.SMS_KEYWORD,
            )
        else:
            conversation = _conversation()
            Member.objects.filter(phone=conversation.phone).update(unreachable_at=timezone.now())
        before = Message.objects.filter(conversation=conversation).count()
    response = responder_api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hello?"})
    assert response.status_code == 409
    expected = "member_opted_out" if refusal == "phone_opted_out" else "number_unreachable"
    assert response.json()["error"]["code"] == expected
    with schema_context(world.alice.schema_name):
        assert Message.objects.filter(conversation=conversation).count() == before


def test_a_reply_while_the_leader_is_suspended_is_a_409(world, responder_api):
    with schema_context(world.alice.schema_name):
        conversation = _conversation()
    world.alice.suspend(reason="tests")
    try:
        response = responder_api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "Hello"})
    finally:
        world.alice.reactivate()
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "leader_suspended"


@pytest.mark.parametrize(
    "body", [{"body": "x" * 401}, {"body": ""}, {"body": "   "}, {}, {"body": 42.5}, {"body": None}]
)
def test_a_reply_must_be_1_to_400_characters(world, responder_api, body):
    with schema_context(world.alice.schema_name):
        conversation = _conversation()
    response = responder_api.post(f"/api/v1/conversations/{conversation.pk}/messages/", body)
    assert response.status_code == 400
    assert "body" in response.json()["error"]["fields"]


def test_a_400_character_reply_is_accepted(world, responder_api):
    with schema_context(world.alice.schema_name):
        conversation = _conversation()
    response = responder_api.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"body": "é" * 400})
    assert response.status_code == 201
