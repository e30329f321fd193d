"""Deliveries live in one partition per broadcast (messaging migration 0005, broadcast_queue)."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from members.models import Member
from messaging.broadcasts.compose import broadcast_create
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import BroadcastError, Delivery, DeliveryStatus
from tests import builders
from tests.catalog import columns, rows_by_table


@pytest.fixture
def leader(alice_schema):
    return alice_schema


def partitions() -> dict[str, int]:
    """This schema's delivery partitions and their rows, counted in each partition itself."""
    return rows_by_table(Delivery.partition_names())


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0].split(" ON ")[1].split(".", 1)[1] for row in cursor.fetchall()}


def model_columns() -> set[tuple]:
    """The delivery table's columns as Django's model declares them: (name, type, not null)."""
    declared = set()
    for field in Delivery._meta.concrete_fields:
        kind = field.db_type(connection).replace("varchar", "character varying")
        declared.add((field.column, kind, not field.null))
    return declared


def test_queueing_writes_each_broadcasts_rows_into_an_indexed_partition_of_its_own(leader):
    tag = builders.new_tag()
    members = [builders.fan(tag=tag) for _ in range(3)]
    first = broadcast_create(leader=leader, body="one", filters={"tags_any": [tag]}, ignore_quiet_hours=True)
    second = broadcast_create(leader=leader, body="two", filters={"tags_any": [tag]})

    assert broadcast_queue(leader=leader, broadcast=first) == 3
    assert broadcast_queue(leader=leader, broadcast=second) == 3

    found = partitions()
    assert found[Delivery.partition_name(first.pk)] == 3
    assert found[Delivery.partition_name(second.pk)] == 3
    table = Delivery.partition_name(first.pk)
    assert indexes(table) == {
        f"{table} USING btree (member_id)",
        f"{table} USING btree (sid) WHERE (sid IS NOT NULL)",
    }
    assert columns(table) == columns("messaging_delivery") == model_columns()
    # Through the partitioned table, by broadcast, as every query reads them.
    assert sorted(Delivery.objects.filter(broadcast=first).values_list("member_id", flat=True)) == sorted(
        m.pk for m in members
    )
    with pytest.raises(IntegrityError, match=f"{table}_member"), transaction.atomic():
        Delivery.objects.create(broadcast=first, member=members[0], due_at=timezone.now())
    # The same member in another broadcast is another row, in the other partition.
    assert Delivery.objects.filter(member_id=members[0].pk).count() == 2


def test_a_broadcast_with_no_recipients_still_gets_its_partition(leader):
    broadcast = broadcast_create(leader=leader, body="nobody", filters={"tags_any": [builders.new_tag()]})
    assert broadcast_queue(leader=leader, broadcast=broadcast) == 0
    assert partitions()[Delivery.partition_name(broadcast.pk)] == 0


def test_a_failed_queueing_leaves_no_partition_behind(leader, monkeypatch):
    from messaging.broadcasts import queueing

    tag = builders.new_tag()
    builders.fan(tag=tag)
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})

    def broken(**kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(type(broadcast), "mark_sending", lambda self, **kwargs: broken())
    with pytest.raises(RuntimeError):
        queueing.broadcast_queue(leader=leader, broadcast=broadcast)
    assert Delivery.partition_name(broadcast.pk) not in partitions()
    broadcast.refresh_from_db()
    assert broadcast.status == "draft"


def test_a_partition_made_beforehand_is_used_if_empty_and_refused_if_it_holds_rows(leader):
    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    empty = broadcast_create(leader=leader, body="one", filters={"tags_any": [tag]})
    Delivery.partition_ensure(empty.pk)
    assert broadcast_queue(leader=leader, broadcast=empty) == 1

    taken = broadcast_create(leader=leader, body="two", filters={"tags_any": [tag]})
    Delivery.partition_ensure(taken.pk)
    Delivery.objects.create(broadcast=taken, member=member, due_at=timezone.now())  # an older broadcast's
    with pytest.raises(BroadcastError, match="already holds deliveries"):
        broadcast_queue(leader=leader, broadcast=taken)
    taken.refresh_from_db()
    assert taken.status == "draft" and Delivery.objects.filter(broadcast=taken).count() == 1


def test_a_members_text_reads_only_the_partitions_of_recent_broadcasts(leader, client):
    """The inbound statement is prepared: a plan naming the partitioned table would hold (and lock on every
    run) every partition of every broadcast ever sent."""
    from django_tenants.utils import schema_context

    from tests.messaging.webhooks import text

    tag = builders.new_tag()
    member = builders.fan(tag=tag)
    old = [broadcast_create(leader=leader, body=f"old {i}", filters={"tags_any": [tag]}) for i in range(5)]
    for broadcast in old:
        broadcast_queue(leader=leader, broadcast=broadcast)
    type(old[0]).objects.filter(pk__in=[b.pk for b in old]).update(
        queued_at=timezone.now() - datetime.timedelta(days=30)
    )
    latest = broadcast_create(
        leader=leader, body="Rally!", filters={"tags_any": [tag]}, ignore_quiet_hours=True
    )
    broadcast_queue(leader=leader, broadcast=latest)
    Delivery.objects.filter(broadcast=latest).update(status=DeliveryStatus.SENT, sent_at=timezone.now())

    # In this test's transaction, so the text's locks are still held afterwards; queueing took other modes.
    assert text(client, leader, str(member.phone), "See you there").status_code == 200

    with schema_context(leader.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.pid = pg_backend_pid() AND l.mode = 'AccessShareLock' AND c.relkind = 'r' "
            "AND c.relname LIKE 'messaging_delivery_%%'"
        )
        read = {name for (name,) in cursor.fetchall()}
        assert read == {Delivery.partition_name(latest.pk)}
        latest.refresh_from_db()
        assert latest.reply_count == 1
        assert Delivery.objects.get(broadcast=latest, member=member).replied_at is not None


def test_the_migration_turns_the_existing_table_into_one_legacy_partition(leader):
    tag = builders.new_tag()
    members = [builders.fan(tag=tag) for _ in range(2)]
    first = broadcast_create(leader=leader, body="one", ignore_quiet_hours=True)
    second = broadcast_create(leader=leader, body="two", ignore_quiet_hours=True)
    with connection.cursor() as cursor:
        # The rows above leave deferred foreign-key checks pending; a later migration's ALTER TABLE on
        # broadcasts cannot be undone while they are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0004_broadcast_queued_index")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'messaging_delivery'::regclass")
        assert cursor.fetchone()[0] == "r"  # as it was before 0005
    assert columns("messaging_delivery") == model_columns()
    now = timezone.now()
    rows = [(first, members[0], "SM" + "1" * 32), (first, members[1], None), (second, members[0], None)]
    for broadcast, member, sid in rows:
        Delivery.objects.create(
            broadcast=broadcast, member=member, due_at=now, sid=sid, status=DeliveryStatus.SENT if sid else 0
        )

    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0005_delivery_partitioned")])

    assert columns("messaging_delivery") == model_columns()
    assert partitions() == {"messaging_delivery_legacy": 3}
    moved = Delivery.objects.get(sid="SM" + "1" * 32)
    assert (moved.broadcast_id, moved.member_id, moved.status) == (
        first.pk,
        members[0].pk,
        DeliveryStatus.SENT,
    )
    assert Delivery.objects.filter(broadcast=second).count() == 1
    with pytest.raises(IntegrityError, match="messaging_delivery_legacy_pkey"), transaction.atomic():
        Delivery.objects.create(broadcast=second, member=members[0], due_at=now)
    # A broadcast queued afterwards (every later migration applied again) gets a partition of its own beside
    # the legacy one.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    third = broadcast_create(leader=leader, body="three", filters={"tags_any": [tag]})
    assert broadcast_queue(leader=leader, broadcast=third) == 2
    assert partitions() == {"messaging_delivery_legacy": 3, Delivery.partition_name(third.pk): 2}
    assert Member.objects.filter(pk__in=[m.pk for m in members]).count() == 2


def test_the_migration_of_an_empty_table_leaves_no_legacy_partition(leader):
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0004_broadcast_queued_index")])
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0005_delivery_partitioned")])
    assert partitions() == {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('messaging_delivery_legacy')")
        assert cursor.fetchone()[0] is None
