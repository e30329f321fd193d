"""The inbox in a real browser: a fan texts alice, rita reads the thread and replies, Twilio gets the reply."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from console.models import CannedReply
from leaders.routing import leader_cache_clear
from messaging.models import Conversation, Message, SmsStatus
from messaging.tasks import message_send
from tests import builders
from tests.conftest import TEAM_PASSWORD
from tests.messaging.webhooks import SMS_PATH, sign, sms_params
from tests.phones import unique_phone

pytestmark = pytest.mark.browser


def test_rita_reads_a_fans_text_and_her_reply_reaches_twilio(live_db, live_app, world, page, twilio):
    leader_cache_clear()
    marker = "Zq" + uuid.uuid4().hex[:8]
    phone = unique_phone()
    with schema_context(world.alice.schema_name):
        builders.member(phone=phone, first_name=marker, city="Lyon")
        canned_title = f"Thanks {marker}"
        CannedReply.objects.create(title=canned_title, body="Thanks for writing, we read every text.")

    # The fan texts alice's number: Twilio's signed webhook, to the live server.
    params = sms_params(
        from_=phone, to=str(world.alice.phone_number), body=f"{marker} asks: when is the rally?"
    )
    answer = live_app.http(
        "POST",
        SMS_PATH,
        data=urlencode(params),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sign(SMS_PATH, params),
        },
    )
    assert answer.status_code == 200
    with schema_context(world.alice.schema_name):
        conversation = Conversation.objects.get(phone=phone)
        assert conversation.unread_count == 1

    page.goto(live_app.leader_url(world.alice, "/login/"))
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(TEAM_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Inbox").click()
    page.get_by_role("heading", name="Inbox").wait_for()

    page.get_by_role("link", name=marker).first.click()
    page.get_by_text("when is the rally?").wait_for()
    with schema_context(world.alice.schema_name):
        conversation.refresh_from_db()
        assert conversation.unread_count == 0

    reply = page.get_by_role("textbox", name="Reply")
    # A canned reply goes into the box by script, without reloading the page.
    thread_url = page.url
    page.get_by_label("Canned reply").select_option(label=canned_title)
    page.get_by_role("button", name="Use").click()
    expect(reply).to_have_value("Thanks for writing, we read every text.")
    assert page.url == thread_url
    reply.fill("Saturday at 10, City Hall. See you there! 🎉")
    # The live count comes from the server's segment counter: the emoji makes it UCS-2.
    expect(page.locator("#reply-count")).to_have_text("43 of 400 characters · 1 SMS (UCS-2)")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Reply queued.").wait_for()
    assert page.get_by_text("Sent by rita").is_visible()

    with schema_context(world.alice.schema_name):
        sent = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
        assert (sent.status, sent.sent_by.username) == (SmsStatus.QUEUED, "rita")
    # The queue worker's job, run here: the priority lane hands it to (fake) Twilio over HTTP.
    assert message_send(sent.pk, world.alice.schema_name) == "sent"
    (delivered,) = [message for message in twilio.messages if message["to"] == phone]
    assert delivered["body"] == "Saturday at 10, City Hall. See you there! 🎉"
    assert delivered["from"] == str(world.alice.phone_number)
