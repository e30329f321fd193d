"""Signed replies: when the leader signs replies, a teammate's reply reaches the fan (through the real send
path, to the fake Twilio) ending with "— <display name>", counted in the reply's length and segments."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from leaders.models import Leader
from tests import builders
from tests.api.conftest import Api, token_for
from tests.queue import queue_clear, run_queued


@pytest.fixture
def signing(world, db):
    queue_clear()  # sends other tests left queued: each test here counts its own
    Leader.objects.filter(pk=world.alice.pk).update(sign_replies=True)
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="rita").update(display_name="Dr. Amina Diallo, MP", first_name="Rita")
        User.objects.filter(username="mark").update(display_name="", first_name="Mark", last_name="Okoye")
        User.objects.filter(username="olivia").update(display_name="", first_name="", last_name="")
        conversation = builders.conversation()
        builders.message(conversation=conversation, body="When is the town hall?")
    return conversation


def _reply(client, conversation, body: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/inbox/{conversation.pk}/reply/", {"body": body})
    return response


def test_a_console_reply_reaches_the_fan_signed_with_the_display_name(
    world, rita, signing, twilio, django_capture_on_commit_callbacks
):
    response = _reply(rita, signing, "Thursday at 7pm.", django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert run_queued("messaging.tasks.message_send") == ["sent"]
    sent = twilio.messages[-1]
    assert (sent["to"], sent["body"]) == (signing.phone, "Thursday at 7pm.\n— Dr. Amina Diallo, MP")


def test_without_a_display_name_the_full_name_signs_and_without_either_nothing_does(
    world, mark, olivia, signing, twilio, django_capture_on_commit_callbacks
):
    _reply(mark, signing, "See you there.", django_capture_on_commit_callbacks)
    _reply(olivia, signing, "Thanks!", django_capture_on_commit_callbacks)
    assert run_queued("messaging.tasks.message_send") == ["sent", "sent"]
    bodies = sorted(message["body"] for message in twilio.messages[-2:])
    # Olivia has neither: no signature rather than her username.
    assert bodies == ["See you there.\n— Mark Okoye", "Thanks!"]


def test_an_api_reply_is_signed_by_the_tokens_teammate(
    world, signing, twilio, django_capture_on_commit_callbacks
):
    api = Api(world.alice, token_for(world.alice, "rita"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/conversations/{signing.pk}/messages/", {"body": "Thursday."})
    assert response.status_code == 201, response.content
    assert response.json()["body"] == "Thursday.\n— Dr. Amina Diallo, MP"
    assert run_queued("messaging.tasks.message_send") == ["sent"]
    assert twilio.messages[-1]["body"] == "Thursday.\n— Dr. Amina Diallo, MP"
    too_long = api.post(f"/api/v1/conversations/{signing.pk}/messages/", {"body": "x" * 395})
    assert too_long.status_code == 400 and list(too_long.json()["error"]["fields"]) == ["body"]


def test_the_signature_counts_in_the_length_and_segments(world, rita, signing):
    signature = "\n— Dr. Amina Diallo, MP"
    count = rita.get("/inbox/segments/", {"text": "Hi"}).json()
    assert count["characters"] == 2 + len(signature)
    assert count["encoding"] == "UCS-2"  # the dash is not in GSM-7
    page = rita.get(f"/inbox/{signing.pk}/").content.decode()
    assert "Dr. Amina Diallo, MP" in page
    # 390 characters and the signature are over the 400 the fan may get: refused, nothing stored.
    response = rita.post(f"/inbox/{signing.pk}/reply/", {"body": "x" * 390})
    assert response.status_code == 400
    assert "the limit is 400" in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert not signing.messages.filter(direction="out").exists()


def test_replies_are_not_signed_unless_the_leader_signs_them(
    world, rita, signing, twilio, django_capture_on_commit_callbacks
):
    Leader.objects.filter(pk=world.alice.pk).update(sign_replies=False)
    _reply(rita, signing, "Thursday.", django_capture_on_commit_callbacks)
    assert run_queued("messaging.tasks.message_send") == ["sent"]
    assert twilio.messages[-1]["body"] == "Thursday."
    assert rita.get("/inbox/segments/", {"text": "Hi"}).json()["characters"] == 2
