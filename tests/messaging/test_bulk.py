"""messaging.bulk.texts_send_batch: many one-to-one texts recorded as messages, sent at the leader's rate
through the fake Twilio, with consent asked again right before sending and Twilio's answers recorded."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_q.models import Schedule

from leaders.models import Leader
from members.models import Member
from messaging.bulk import BulkText, texts_send_batch
from messaging.models import Message, SendingWindow, SmsStatus
from tests import builders

pytestmark = pytest.mark.django_db


def test_a_batch_is_recorded_in_the_members_conversations_sent_and_its_answers_stored(alice_schema, twilio):
    reader, newcomer = builders.member(), builders.member()
    conversation = builders.conversation(member=reader)
    stopped = builders.member(status=Member.Status.OPTED_OUT, opted_out_at=timezone.now())
    blocked, busy = builders.member(), builders.member()
    twilio.fail_recipient(blocked.phone, 21610)  # unsubscribed at the carrier
    twilio.fail_recipient(busy.phone, 20429)  # Twilio busy: try again later

    outcomes = texts_send_batch(
        leader=alice_schema,
        texts=[
            BulkText(member_id=m.pk, phone=m.phone, body=f"Question for {i}", key=i)
            for i, m in enumerate([reader, newcomer, stopped, blocked, busy])
        ],
    )

    assert [(o.key, o.outcome) for o in outcomes] == [
        (0, "sent"),
        (1, "sent"),
        (2, "refused"),
        (3, "failed"),
        (4, "retry"),
    ]
    # Twilio accepted two; the opted-out member was never even asked about.
    assert sorted(m["to"] for m in twilio.messages) == sorted([reader.phone, newcomer.phone])
    assert twilio.stats()["requests"] == 4
    messages = {m.pk: m for m in Message.objects.filter(pk__in=[o.message_id for o in outcomes])}
    sent, fresh, refused, failed, retry = (messages[o.message_id] for o in outcomes)
    assert (sent.status, sent.conversation_id, sent.kind, sent.direction) == (
        SmsStatus.WIRED,
        conversation.pk,
        Message.Kind.NOTICE,
        "out",
    )
    assert sent.twilio_sid and sent.sent_at is not None
    assert (fresh.status, fresh.conversation_id) == (SmsStatus.WIRED, None)
    assert (refused.status, refused.failure_reason) == (SmsStatus.FAILED, "member opted out")
    assert (failed.status, failed.error_code) == (SmsStatus.FAILED, 21610)
    assert Member.objects.get(pk=blocked.pk).status == Member.Status.OPTED_OUT  # the carrier's opt-out holds
    assert (retry.status, retry.error_code) == (SmsStatus.QUEUED, 20429)
    assert Schedule.objects.filter(
        func="messaging.tasks.message_send", args__startswith=f"{retry.pk},"
    ).exists()
    # The batch took its four segments at once from the leader's shared limiter, like a broadcast's.
    assert SendingWindow.objects.filter(segments=4).exists()


def test_a_suspended_leaders_batch_is_recorded_failed_and_not_sent(alice_schema, twilio):
    member = builders.member()
    suspended = Leader.objects.get(pk=alice_schema.pk)  # a copy: the session's world.alice stays active
    suspended.status = Leader.Status.SUSPENDED

    (outcome,) = texts_send_batch(
        leader=suspended, texts=[BulkText(member_id=member.pk, phone=member.phone, body="Hi")]
    )

    assert outcome.outcome == "refused" and twilio.messages == []
    assert Message.objects.get(pk=outcome.message_id).failure_reason == "leader suspended"
