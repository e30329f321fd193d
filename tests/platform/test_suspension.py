"""A suspended leader keeps answering but sends nothing; reactivating restores sending."""

from __future__ import annotations

from django_tenants.utils import schema_context

from leaders.models import Leader
from messaging.models import Message, SmsStatus
from messaging.services import text_send
from tests.phones import unique_phone
from tests.queue import queue_size


def test_suspending_records_when_and_why_and_reactivating_clears_both(db, world):
    leader = Leader.objects.get(pk=world.bob.pk)
    leader.suspend(reason="unpaid invoices")
    stored = Leader.objects.get(pk=leader.pk)
    assert stored.status == Leader.Status.SUSPENDED and not stored.is_active
    assert stored.suspended_at is not None and stored.suspension_reason == "unpaid invoices"

    stored.reactivate()
    stored = Leader.objects.get(pk=leader.pk)
    assert stored.is_active and stored.suspended_at is None and stored.suspension_reason == ""


def test_a_suspended_leaders_text_is_stored_as_failed_and_never_queued(
    db, world, django_capture_on_commit_callbacks
):
    leader = Leader.objects.get(pk=world.alice.pk)
    leader.suspend(reason="test")
    queued_before = queue_size()
    with schema_context(leader.schema_name), django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = text_send(leader=leader, phone=unique_phone(), body="Rally tonight at 7")
        stored = Message.objects.get(pk=message.pk)
    assert callbacks == []
    assert queue_size() == queued_before
    assert stored.status == SmsStatus.FAILED
    assert stored.failure_reason == "leader suspended"
    assert stored.direction == Message.Direction.OUTBOUND and stored.body == "Rally tonight at 7"


def test_the_same_text_from_an_active_leader_is_queued_once_committed(
    db, world, django_capture_on_commit_callbacks
):
    leader = Leader.objects.get(pk=world.alice.pk)
    assert leader.is_active
    with schema_context(leader.schema_name), django_capture_on_commit_callbacks() as callbacks:
        message = text_send(leader=leader, phone=unique_phone(), body="Rally tonight at 7")
        assert Message.objects.get(pk=message.pk).status == SmsStatus.QUEUED
    assert len(callbacks) == 1
