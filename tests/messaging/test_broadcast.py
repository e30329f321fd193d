"""Broadcasts end to end in alice's schema: compose, queue, send through the fake Twilio, count."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from members.models import Member
from messaging.broadcasts.compose import broadcast_cancel, broadcast_create, broadcast_preview, broadcast_send
from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.feedback import broadcast_opt_out_count, delivery_status_apply
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, BroadcastError, Delivery, DeliveryStatus
from tests import builders
from tests.places import LOS_ANGELES, MONTREAL, PARIS, TOKYO


def start(leader, broadcast: Broadcast, now=None) -> int:
    return broadcast_queue(leader=leader, broadcast=broadcast, now=now)


def sent_to(twilio) -> list[str]:
    return [message["to"] for message in twilio.messages]


@pytest.fixture
def leader(alice_schema, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    # Fast, so the tests do not wait on alice's long code (1 segment/s); the rate has its own tests.
    type(alice_schema).objects.filter(pk=alice_schema.pk).update(segments_per_second=1000)
    alice_schema.refresh_from_db()
    return alice_schema


# -- composing ------------------------------------------------------------------------------------------


def test_a_body_longer_than_400_characters_is_refused(leader):
    with pytest.raises(BroadcastError, match="401 characters long; the limit is 400"):
        broadcast_create(leader=leader, body="x" * 401)
    assert broadcast_create(leader=leader, body="x" * 400).segments == 3


def test_an_empty_body_is_refused(leader):
    with pytest.raises(BroadcastError, match="empty"):
        broadcast_create(leader=leader, body="   ")


def test_the_segment_count_takes_the_encoding_and_the_longest_name_into_account(leader):
    assert broadcast_create(leader=leader, body="a" * 160).segments == 1
    ucs2 = broadcast_create(leader=leader, body="Rendez-vous à Montréal, señora López 🙂")
    assert (ucs2.encoding, ucs2.segments) == ("UCS-2", 1)
    # 140 characters plus {first_name} at its longest (20) is 160: one segment; one more character, two.
    assert broadcast_create(leader=leader, body="a" * 140 + "{first_name}").segments == 1
    assert broadcast_create(leader=leader, body="a" * 141 + "{first_name}").segments == 2


def test_the_preview_counts_the_audience_and_the_cost_and_offers_gsm7_replacements(leader):
    tag = builders.new_tag()
    for _ in range(3):
        builders.fan(tag=tag)
    preview = broadcast_preview(leader=leader, filters={"tags_any": [tag]}, body="Rally tonight’s at 7")
    assert preview["count"] == 3
    assert preview["encoding"] == "UCS-2"
    assert preview["total_segments"] == 3
    assert preview["gsm7_suggestions"] == {"’": "'"}


def test_an_unknown_filter_or_city_gets_a_one_line_reason(leader):
    with pytest.raises(BroadcastError, match="Unknown filter 'town'"):
        broadcast_create(leader=leader, body="hi", filters={"town": "Montréal"})
    with pytest.raises(BroadcastError, match="No city called 'Nowheresville'"):
        broadcast_create(leader=leader, body="hi", filters={"cities": ["Nowheresville"]})
    assert Broadcast.objects.count() == 0


def test_a_schedule_in_the_past_is_refused(leader):
    with pytest.raises(BroadcastError, match="in the past"):
        broadcast_create(leader=leader, body="hi", send_at=timezone.now() - datetime.timedelta(minutes=1))


# -- queueing -------------------------------------------------------------------------------------------


def test_queueing_makes_exactly_one_delivery_per_reachable_member(leader):
    tag = builders.new_tag()
    reachable = [builders.fan(tag=tag) for _ in range(4)]
    builders.fan(tag=tag, status=Member.Status.OPTED_OUT, opted_out_at=timezone.now())
    builders.fan(tag=tag, unreachable_at=timezone.now())
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    assert start(leader, broadcast) == 4
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipient_count, broadcast.queued_count) == ("sending", 4, 4)
    assert sorted(Delivery.objects.filter(broadcast=broadcast).values_list("member_id", flat=True)) == sorted(
        m.pk for m in reachable
    )
    # Queueing again finds the broadcast already claimed: nothing more.
    assert start(leader, broadcast) == 0
    assert Delivery.objects.filter(broadcast=broadcast).count() == 4


def test_a_broadcast_stored_before_region_names_were_read_still_queues_by_name(leader):
    tag = builders.new_tag()
    in_quebec = builders.fan(tag=tag, place=MONTREAL)
    in_tokyo = builders.fan(tag=tag, place=TOKYO)
    as_written = builders.fan(tag=tag, place=PARIS, region="Atlantis")  # no such region: kept as written
    builders.fan(tag=tag, place=LOS_ANGELES)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    # As a broadcast scheduled before this release holds its filter: names as someone typed them.
    Broadcast.objects.filter(pk=broadcast.pk).update(
        filters={"tags_any": [tag], "regions": ["quebec", "TOKYO", "Atlantis"]}
    )
    broadcast.refresh_from_db()

    assert start(leader, broadcast) == 3
    assert set(Delivery.objects.filter(broadcast=broadcast).values_list("member_id", flat=True)) == {
        in_quebec.pk,
        in_tokyo.pk,
        as_written.pk,
    }
    with pytest.raises(BroadcastError, match="no region is called 'Atlantis'"):
        broadcast_create(leader=leader, body="hi", filters={"regions": ["Atlantis"]})


def test_without_twilio_credentials_a_broadcast_completes_through_the_local_backend(leader, settings):
    # `make run`: no Twilio account, the local transport answers for Twilio; its SIDs must fit the column.
    from messaging.twilio.transport import LocalTransport, get_transport

    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    assert isinstance(get_transport(), LocalTransport)
    tag = builders.new_tag()
    members = [builders.fan(tag=tag) for _ in range(3)]
    broadcast = broadcast_create(
        leader=leader, body="Rally at 7!", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)

    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)

    assert (result.outcome, result.sent, result.failed) == ("done", 3, 0)
    sids = dict(Delivery.objects.filter(broadcast=broadcast).values_list("member_id", "sid"))
    assert set(sids) == {m.pk for m in members} and all(sid and len(sid) == 34 for sid in sids.values())
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent_count) == (Broadcast.Status.COMPLETED, 3)


def test_the_delivery_table_refuses_a_second_row_for_the_same_member(leader):
    from django.db import IntegrityError, transaction

    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})
    start(leader, broadcast)
    # The partition's unique key refuses it (not a missing partition, also an IntegrityError).
    key = f"{Delivery.partition_name(broadcast.pk)}_member"
    with pytest.raises(IntegrityError, match=key), transaction.atomic():
        Delivery.objects.create(broadcast=broadcast, member=member, due_at=timezone.now())


def test_quiet_hours_hold_each_member_until_nine_in_their_own_time_zone(leader):
    tag = builders.new_tag()
    montreal = builders.fan(tag=tag, place=MONTREAL)
    paris = builders.fan(tag=tag, place=PARIS)
    los_angeles = builders.fan(tag=tag, place=LOS_ANGELES)
    nowhere = builders.fan(tag=tag, time_zone="")  # falls back to the leader's zone (America/New_York)
    # 15:00 UTC: 10:00 in Montréal and New York (open), 16:00 in Paris (open), 07:00 in Los Angeles (quiet).
    now = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})
    start(leader, broadcast, now=now)
    due = dict(Delivery.objects.filter(broadcast=broadcast).values_list("member_id", "due_at"))
    assert due[montreal.pk] == due[paris.pk] == due[nowhere.pk] == now
    assert due[los_angeles.pk] == datetime.datetime(
        2026, 3, 2, 9, 0, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles")
    )

    # 21:30 UTC: 22:30 in Paris (quiet until 09:00 tomorrow there), 16:30 in Montréal, 13:30 in LA.
    late = datetime.datetime(2026, 3, 2, 21, 30, tzinfo=datetime.UTC)
    later = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})
    start(leader, later, now=late)
    due = dict(Delivery.objects.filter(broadcast=later).values_list("member_id", "due_at"))
    assert due[paris.pk] == datetime.datetime(2026, 3, 3, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    assert due[montreal.pk] == due[los_angeles.pk] == late


def test_ignoring_quiet_hours_makes_everyone_due_at_once(leader):
    tag = builders.new_tag()
    builders.fan(tag=tag, place=PARIS)
    now = datetime.datetime(2026, 3, 2, 23, 0, tzinfo=datetime.UTC)  # midnight in Paris
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast, now=now)
    assert list(Delivery.objects.filter(broadcast=broadcast).values_list("due_at", flat=True)) == [now]


# -- sending --------------------------------------------------------------------------------------------


def test_a_broadcast_reaches_every_member_once_with_their_first_name(leader, twilio):
    tag = builders.new_tag()
    members = [builders.fan(tag=tag, first_name=name) for name in ("Ana", "Zoë", "Li")]
    builders.fan(tag=tag, status=Member.Status.OPTED_OUT)
    broadcast = broadcast_create(
        leader=leader,
        body="Hi {first_name}, rally at 7!",
        filters={"tags_any": [tag]},
        ignore_quiet_hours=True,
    )
    start(leader, broadcast)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk, batch_size=2)
    assert (result.outcome, result.sent) == ("done", 3)
    bodies = {message["to"]: message["body"] for message in twilio.messages}
    assert bodies == {m.phone: f"Hi {m.first_name}, rally at 7!" for m in members}
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.COMPLETED
    assert (broadcast.sent_count, broadcast.queued_count, broadcast.segments_sent) == (3, 0, 3)
    assert set(Delivery.objects.filter(broadcast=broadcast).values_list("status", flat=True)) == {
        DeliveryStatus.WIRED
    }
    assert Delivery.objects.filter(broadcast=broadcast, sid__isnull=True).count() == 0
    # A second run (a task delivered twice) finds nothing to send.
    assert broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk).sent == 0
    assert len(twilio.messages) == 3


def test_the_leader_monthly_counter_grows_by_the_batch(leader, twilio):
    from leaders.models import Leader

    tag = builders.new_tag()
    for _ in range(3):
        builders.fan(tag=tag)
    before = Leader.objects.get(pk=leader.pk).messages_sent_in_current_month
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    assert Leader.objects.get(pk=leader.pk).messages_sent_in_current_month == before + 3


def test_busy_answers_are_retried_until_twilio_accepts(leader, twilio, monkeypatch):
    from messaging.broadcasts import dispatch

    monkeypatch.setattr(dispatch, "_backoff", lambda attempts: datetime.timedelta(seconds=0.2))
    tag = builders.new_tag()
    members = [builders.fan(tag=tag) for _ in range(2)]
    twilio.fail_next(1, 429)
    twilio.fail_next(1, 503)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    assert (result.outcome, result.sent, result.retried) == ("done", 2, 2)
    assert sorted(sent_to(twilio)) == sorted(m.phone for m in members)
    assert twilio.stats()["by_status"] == {"201": 2, "429": 1, "503": 1}
    assert list(Delivery.objects.filter(broadcast=broadcast).values_list("attempts", flat=True)) == [2, 2]


def test_busy_answers_stop_after_the_last_attempt(leader, twilio, monkeypatch):
    from messaging.broadcasts import dispatch

    monkeypatch.setattr(dispatch, "_backoff", lambda attempts: datetime.timedelta(seconds=0.05))
    tag = builders.new_tag()
    builders.fan(tag=tag)
    twilio.fail_next(dispatch.MAX_ATTEMPTS, 500)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    assert (result.sent, result.failed) == (0, 1)
    delivery = Delivery.objects.get(broadcast=broadcast)
    assert (delivery.status, delivery.error_code, delivery.attempts) == (DeliveryStatus.FAILED, 20500, 5)


def test_permanent_errors_opt_out_or_flag_the_member_and_are_not_retried(leader, twilio):
    tag = builders.new_tag()
    fine = builders.fan(tag=tag)
    unsubscribed = builders.fan(tag=tag)
    not_mobile = builders.fan(tag=tag)
    twilio.fail_recipient(unsubscribed.phone, 21610)
    twilio.fail_recipient(not_mobile.phone, 21614)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    assert (result.sent, result.failed, result.retried) == (1, 2, 0)
    assert sent_to(twilio) == [fine.phone]
    assert twilio.stats()["requests"] == 3
    unsubscribed.refresh_from_db()
    not_mobile.refresh_from_db()
    assert unsubscribed.status == Member.Status.OPTED_OUT
    assert unsubscribed.consents.get().source == "carrier"
    assert not_mobile.unreachable_at is not None and not_mobile.is_subscribed
    broadcast.refresh_from_db()
    assert (broadcast.failed_count, broadcast.opt_out_count, broadcast.status) == (2, 1, "completed")


def test_a_member_who_opts_out_after_queueing_is_skipped(leader, twilio):
    tag = builders.new_tag()
    stays = builders.fan(tag=tag)
    leaves = builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    Member.objects.filter(pk=leaves.pk).update(status=Member.Status.OPTED_OUT)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    assert (result.sent, result.skipped) == (1, 1)
    assert sent_to(twilio) == [stays.phone]


def test_deliveries_outside_the_sending_window_wait_for_it(leader, twilio):
    tag = builders.new_tag()
    montreal = builders.fan(tag=tag, place=MONTREAL)
    builders.fan(tag=tag, place=LOS_ANGELES)
    now = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.UTC)  # 07:00 in Los Angeles
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})
    start(leader, broadcast, now=now)
    result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk, now=now)
    assert (result.outcome, result.sent) == ("later", 1)
    assert result.next_due == datetime.datetime(2026, 3, 2, 17, 0, tzinfo=datetime.UTC)
    assert sent_to(twilio) == [montreal.phone]
    opening = datetime.datetime(2026, 3, 2, 17, 0, 1, tzinfo=datetime.UTC)
    assert broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk, now=opening).sent == 1
    assert len(twilio.messages) == 2


def test_cancelling_leaves_what_has_not_gone_out_unsent(leader, twilio):
    tag = builders.new_tag()
    for _ in range(5):
        builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    # One batch of two goes out, then the team cancels.
    from messaging.broadcasts.dispatch import _claim, _record

    batch = _claim(broadcast, limit=2, now=timezone.now(), token=1)
    from messaging.twilio.transport import OutboundSms, get_transport

    results = get_transport().send_many(
        [OutboundSms(to=i.phone, from_="+12025550142", body=i.body) for i in batch]
    )
    _record(leader, broadcast, batch, results, {i.id: 1 for i in batch})
    assert broadcast_cancel(broadcast=broadcast) == 3
    assert broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk).outcome == "over"
    assert len(twilio.messages) == 2
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.sent_count, broadcast.cancelled_count, broadcast.queued_count) == (
        "cancelled",
        2,
        3,
        0,
    )
    with pytest.raises(BroadcastError, match="cancelled broadcast cannot be cancelled"):
        broadcast_cancel(broadcast=broadcast)


def test_a_suspended_leader_sends_nothing(leader, twilio):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    leader.suspend(reason="test")
    try:
        result = broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
        assert result.outcome == "suspended"
        assert twilio.messages == []
        assert Delivery.objects.get(broadcast=broadcast).status == DeliveryStatus.QUEUED
        with pytest.raises(BroadcastError, match="suspended"):
            broadcast_send(leader=leader, broadcast=broadcast_create(leader=leader, body="hi"))
    finally:
        leader.reactivate()


def test_a_scheduled_broadcast_waits_for_its_time_then_the_sweep_starts_it(
    leader, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    from messaging.broadcasts import tasks as broadcast_tasks
    from tests.queue import starts_queued

    tag = builders.new_tag()
    builders.fan(tag=tag)
    at = datetime.datetime(2030, 5, 1, 18, 0)  # naive: the leader's time zone (America/New_York)
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]}, send_at=at)
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_send(leader=leader, broadcast=broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SCHEDULED
    assert broadcast.send_at == datetime.datetime(2030, 5, 1, 22, 0, tzinfo=datetime.UTC)
    schedule = Schedule.objects.get(name=f"broadcast-start-{connection.schema_name}-{broadcast.pk}")
    assert (schedule.next_run, schedule.cluster) == (broadcast.send_at, "broadcasts")

    broadcast_tasks.broadcasts_sweep(now=broadcast.send_at - datetime.timedelta(minutes=1))
    assert starts_queued(broadcast.pk) == 0  # not yet
    broadcast_tasks.broadcasts_sweep(now=broadcast.send_at)
    assert starts_queued(broadcast.pk) == 1  # the start task, in the lane
    assert broadcast_tasks.broadcast_start(broadcast.pk, connection.schema_name) == "queued 1"
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SENDING


def test_cancelling_a_scheduled_broadcast_removes_its_schedule(leader, django_capture_on_commit_callbacks):
    from django_q.models import Schedule

    broadcast = broadcast_create(
        leader=leader, body="hi", send_at=timezone.now() + datetime.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_send(leader=leader, broadcast=broadcast)
    assert broadcast_cancel(broadcast=broadcast) == 0
    assert not Schedule.objects.filter(
        name__endswith=f"-{broadcast.pk}", name__startswith="broadcast-start"
    ).exists()
    assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.CANCELLED


# -- what comes back ------------------------------------------------------------------------------------


def test_status_callbacks_move_deliveries_forward_only_and_count_once(leader, twilio):
    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    sid = Delivery.objects.get(broadcast=broadcast).sid
    assert delivery_status_apply(sid=sid, status="delivered", error_code=None)
    assert delivery_status_apply(sid=sid, status="delivered", error_code=None)  # twice
    assert delivery_status_apply(sid=sid, status="sent", error_code=None)  # late
    assert Delivery.objects.get(broadcast=broadcast).status == DeliveryStatus.DELIVERED
    broadcast.refresh_from_db()
    assert broadcast.delivered_count == 1
    assert not delivery_status_apply(sid="SM" + "0" * 32, status="delivered", error_code=None)
    member.refresh_from_db()
    assert member.is_subscribed


def test_a_carrier_unsubscribe_in_a_callback_opts_the_member_out(leader, twilio):
    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader, body="hi", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    start(leader, broadcast)
    broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    sid = Delivery.objects.get(broadcast=broadcast).sid
    assert delivery_status_apply(sid=sid, status="failed", error_code="21610")
    member.refresh_from_db()
    broadcast.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT
    assert (broadcast.undelivered_count, broadcast.opt_out_count) == (1, 1)


def test_a_reply_within_a_day_counts_once_for_the_latest_broadcast(leader, twilio, client):
    # Counted by the inbound webhook's statement (inbound.statements.RECEIVE); a reply after the day is
    # in tests/messaging/test_receiver.py.
    from tests.messaging.webhooks import text

    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    first = broadcast_create(leader=leader, body="one", filters={"tags_any": [tag]}, ignore_quiet_hours=True)
    start(leader, first)
    broadcast_dispatch(leader=leader, broadcast_id=first.pk)
    second = broadcast_create(leader=leader, body="two", filters={"tags_any": [tag]}, ignore_quiet_hours=True)
    start(leader, second)
    broadcast_dispatch(leader=leader, broadcast_id=second.pk)
    for body in ("Yes!", "See you there"):
        assert text(client, leader, member.phone, body).status_code == 200
    with schema_context(leader.schema_name):  # each request leaves the connection in the public schema
        second.refresh_from_db()
        first.refresh_from_db()
        assert (first.reply_count, second.reply_count) == (0, 1)
        assert Delivery.objects.get(broadcast=second, member=member).replied_at is not None
        assert broadcast_opt_out_count(member_id=member.pk) == second.pk
        assert Broadcast.objects.get(pk=second.pk).opt_out_count == 1


def test_a_batch_outcome_reaches_the_database_as_given_whatever_the_sid_holds(leader):
    from messaging.broadcasts.dispatch import _array

    odd = ['SM"quoted"', "SM\\back\\slash", "SM{braces},comma", "NULL", None]
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::varchar[], %s::bigint[]", [_array(odd), _array([1, None, 2**40])])
        sids, ids = cursor.fetchone()

    assert sids == odd
    assert ids == [1, None, 2**40]


def test_schedules_stored_with_the_old_task_paths_still_run_and_the_sweep_moves_them(
    leader, monkeypatch, django_capture_on_commit_callbacks
):
    """Before the broadcast tasks moved to messaging.broadcasts.tasks, deployments stored Schedule rows
    naming messaging.broadcast_tasks.… (the minute sweep, scheduled starts). Through django-q's own
    scheduler and worker, such rows still run, and the first sweep moves them to the new paths."""
    import django_q.scheduler
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import Schedule

    from messaging.broadcasts.tasks import SWEEP_SCHEDULE_NAME
    from tests.queue import queued_take, run_in_worker

    tag = builders.new_tag()
    builders.fan(tag=tag)
    broadcast = broadcast_create(
        leader=leader,
        body="hi",
        filters={"tags_any": [tag]},
        send_at=timezone.now() + datetime.timedelta(hours=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        broadcast_send(leader=leader, broadcast=broadcast)
    # The rows as a deployment from before the move has them, both due now.
    due = timezone.now() - datetime.timedelta(seconds=1)
    Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).delete()
    Schedule.objects.create(
        name=SWEEP_SCHEDULE_NAME,
        func="messaging.broadcast_tasks.broadcasts_sweep",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
        next_run=due,
        cluster="broadcasts",
    )
    start_name = f"broadcast-start-{connection.schema_name}-{broadcast.pk}"
    Schedule.objects.filter(name=start_name).update(
        func="messaging.broadcast_tasks.broadcast_start", next_run=due
    )
    Broadcast.objects.filter(pk=broadcast.pk).update(send_at=due)

    # The broadcast lane's scheduler (Q_CLUSTER_NAME=broadcasts) queues what is due. It would first close
    # the connection if it looked stale, and the test's transaction makes it look so.
    monkeypatch.setattr(Conf, "CLUSTER_NAME", "broadcasts")
    monkeypatch.setattr(django_q.scheduler, "close_old_django_connections", lambda: None)
    django_q.scheduler.scheduler(broker=get_broker("broadcasts"))
    (start_task,) = queued_take("messaging.broadcast_tasks.broadcast_start", "broadcasts")
    (sweep_task,) = queued_take("messaging.broadcast_tasks.broadcasts_sweep", "broadcasts")

    started = run_in_worker(start_task)
    assert started["success"], started["result"]
    assert started["result"] == "queued 1"
    assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.SENDING
    dispatches = queued_take(
        "messaging.broadcasts.tasks.broadcast_dispatch",
        "broadcasts",
        where=lambda t: t["args"][0] == broadcast.pk,
    )
    assert dispatches  # what the old path started goes on under the new one

    swept = run_in_worker(sweep_task)
    assert swept["success"], swept["result"]
    assert swept["result"].startswith("started ")
    assert (
        Schedule.objects.get(name=SWEEP_SCHEDULE_NAME).func == "messaging.broadcasts.tasks.broadcasts_sweep"
    )
    assert Schedule.objects.get(name=start_name).func == "messaging.broadcasts.tasks.broadcast_start"
    assert not Schedule.objects.filter(func__startswith="messaging.broadcast_tasks.").exists()
