"""The leader's announcement cap: at most N broadcasts reach a member in any 7 days, across broadcasts; those
over it are skipped and counted, never queued for later."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.serializers import BroadcastSerializer, broadcast_data
from leaders.models import Leader
from messaging.broadcasts.compose import broadcast_create
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, Delivery, DeliveryStatus
from tests import builders


@pytest.fixture
def leader(alice_schema, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    Leader.objects.filter(pk=alice_schema.pk).update(segments_per_second=1000, announcement_cap=2)
    alice_schema.refresh_from_db()
    return alice_schema


def send(leader, tag: str, *, quiet_hours: bool = False) -> Broadcast:
    broadcast = broadcast_create(
        leader=leader, body="News", filters={"tags_any": [tag]}, ignore_quiet_hours=not quiet_hours
    )
    broadcast_queue(leader=leader, broadcast=broadcast)
    broadcast.refresh_from_db()
    return broadcast


def recipients(broadcast: Broadcast) -> set[int]:
    return set(Delivery.objects.filter(broadcast=broadcast).values_list("member_id", flat=True))


def test_the_cap_holds_across_three_broadcasts_and_those_over_it_are_counted_not_queued(leader, twilio):
    tag = builders.new_tag()
    regulars = [builders.fan(tag=tag) for _ in range(3)]
    newcomer = builders.fan(tag=builders.new_tag())

    first = send(leader, tag)
    assert broadcast_dispatch(leader=leader, broadcast_id=first.pk).sent == 3  # sent and wired
    second = send(leader, tag)  # still queued: on its way, so it counts too
    newcomer.tags = [tag]
    newcomer.save(update_fields=["tags"])
    third = send(leader, tag)

    assert (first.recipient_count, first.capped_count) == (3, 0)
    assert (second.recipient_count, second.capped_count) == (3, 0)
    assert (third.recipient_count, third.capped_count) == (1, 3)
    assert recipients(third) == {newcomer.pk}
    assert third.counters()["capped"] == 3
    # Never queued for later: the capped members have no delivery of the third broadcast at all, and sending
    # it to the end reaches the newcomer only.
    twilio.clear()
    assert broadcast_dispatch(leader=leader, broadcast_id=third.pk).sent == 1
    assert [message["to"] for message in twilio.messages] == [newcomer.phone]
    assert not Delivery.objects.filter(broadcast=third, member_id__in=[m.pk for m in regulars]).exists()


def test_deliveries_that_did_not_reach_the_member_do_not_count(leader):
    tag = builders.new_tag()
    failed, cancelled, skipped, got = (builders.fan(tag=tag) for _ in range(4))
    first = send(leader, tag)
    second = send(leader, tag)
    for member, status in (
        (failed, DeliveryStatus.FAILED),
        (cancelled, DeliveryStatus.CANCELLED),
        (skipped, DeliveryStatus.SKIPPED),
    ):
        Delivery.objects.filter(broadcast=second, member=member).update(status=status)
    Delivery.objects.filter(broadcast=first, member=got).update(status=DeliveryStatus.DELIVERED)

    third = send(leader, tag, quiet_hours=True)  # the statement with the time zones' join

    assert recipients(third) == {failed.pk, cancelled.pk, skipped.pk}
    assert third.capped_count == 1


def test_broadcasts_older_than_seven_days_do_not_count(leader):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    old = send(leader, tag)
    recent = send(leader, tag)
    Broadcast.objects.filter(pk=old.pk).update(
        queued_at=timezone.now() - datetime.timedelta(days=7, minutes=1)
    )

    third = send(leader, tag)
    fourth = send(leader, tag)

    assert (recent.recipient_count, third.recipient_count, third.capped_count) == (1, 1, 0)
    assert (fourth.recipient_count, fourth.capped_count) == (0, 1)


def test_without_a_cap_nobody_is_skipped(leader):
    Leader.objects.filter(pk=leader.pk).update(announcement_cap=0)
    leader.refresh_from_db()
    tag = builders.new_tag()
    builders.fan(tag=tag)

    counts = [(b.recipient_count, b.capped_count) for b in (send(leader, tag) for _ in range(4))]

    assert counts == [(1, 0)] * 4


def test_with_fewer_recent_broadcasts_than_the_cap_no_member_is_counted(leader):
    Leader.objects.filter(pk=leader.pk).update(announcement_cap=1000)
    leader.refresh_from_db()
    tag = builders.new_tag()
    builders.fan(tag=tag)

    with CaptureQueriesContext(connection) as queries:
        broadcast = send(leader, tag)

    assert (broadcast.recipient_count, broadcast.capped_count) == (1, 0)
    assert not [query for query in queries if "GROUP BY member_id" in query["sql"]]


def test_the_capped_count_is_in_the_apis_broadcast_payload(leader):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    send(leader, tag)
    send(leader, tag)
    third = send(leader, tag)

    payload = BroadcastSerializer(broadcast_data(third)).data

    assert payload["stats"]["capped"] == 1 and payload["stats"]["recipients"] == 0
