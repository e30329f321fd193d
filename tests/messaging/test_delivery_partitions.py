"""Deliveries live in one partition per broadcast (messaging migration 0005, broadcast_queue)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from messaging.broadcast_services import broadcast_create, broadcast_queue
from messaging.models import Delivery, DeliveryStatus
from signup.models import Member
from tests.messaging.test_broadcast import make_member, new_tag

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a
WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
"""


@pytest.fixture
def leader(alice_schema):
    return alice_schema


def partitions() -> dict[str, int]:
    """This schema's delivery partitions and their rows, counted in each partition itself."""
    with connection.cursor() as cursor:
        counts = {}
        for name in Delivery.partition_names():
            cursor.execute(f"SELECT count(*) FROM ONLY {name}")
            counts[name] = cursor.fetchone()[0]
    return counts


def indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0].split(" ON ")[1].split(".", 1)[1] for row in cursor.fetchall()}


def columns(table: str) -> set[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(COLUMNS_SQL, [table])
        return set(cursor.fetchall())


def test_queueing_writes_each_broadcasts_rows_into_an_indexed_partition_of_its_own(leader):
    tag = new_tag()
    members = [make_member(tag) for _ in range(3)]
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
    assert columns(table) == columns("messaging_delivery")
    # Through the partitioned table, by broadcast, as every query reads them.
    assert sorted(Delivery.objects.filter(broadcast=first).values_list("member_id", flat=True)) == sorted(
        m.pk for m in members
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(broadcast=first, member=members[0], due_at=timezone.now())
    # The same member in another broadcast is another row, in the other partition.
    assert Delivery.objects.filter(member_id=members[0].pk).count() == 2


def test_a_broadcast_with_no_recipients_still_gets_its_partition(leader):
    broadcast = broadcast_create(leader=leader, body="nobody", filters={"tags_any": [new_tag()]})
    assert broadcast_queue(leader=leader, broadcast=broadcast) == 0
    assert partitions()[Delivery.partition_name(broadcast.pk)] == 0


def test_a_failed_queueing_leaves_no_partition_behind(leader, monkeypatch):
    from messaging import broadcast_services

    tag = new_tag()
    make_member(tag)
    broadcast = broadcast_create(leader=leader, body="hi", filters={"tags_any": [tag]})

    def broken(**kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(type(broadcast), "mark_sending", lambda self, **kwargs: broken())
    with pytest.raises(RuntimeError):
        broadcast_services.broadcast_queue(leader=leader, broadcast=broadcast)
    assert Delivery.partition_name(broadcast.pk) not in partitions()
    broadcast.refresh_from_db()
    assert broadcast.status == "draft"


def test_the_migration_moves_existing_rows_into_one_partition_per_broadcast(leader):
    tag = new_tag()
    members = [make_member(tag) for _ in range(2)]
    first = broadcast_create(leader=leader, body="one", ignore_quiet_hours=True)
    second = broadcast_create(leader=leader, body="two", ignore_quiet_hours=True)
    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0004_broadcast_queued_index")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'messaging_delivery'::regclass")
        assert cursor.fetchone()[0] == "r"  # as it was before 0005
    before = columns("messaging_delivery")
    now = timezone.now()
    rows = [(first, members[0], "SM" + "1" * 32), (first, members[1], None), (second, members[0], None)]
    for broadcast, member, sid in rows:
        Delivery.objects.create(
            broadcast=broadcast, member=member, due_at=now, sid=sid, status=DeliveryStatus.SENT if sid else 0
        )

    executor = MigrationExecutor(connection)
    executor.migrate([("messaging", "0005_delivery_partitioned")])

    assert columns("messaging_delivery") == before
    assert partitions() == {Delivery.partition_name(first.pk): 2, Delivery.partition_name(second.pk): 1}
    moved = Delivery.objects.get(sid="SM" + "1" * 32)
    assert (moved.broadcast_id, moved.member_id, moved.status) == (
        first.pk,
        members[0].pk,
        DeliveryStatus.SENT,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(broadcast=second, member=members[0], due_at=now)
    assert Member.objects.filter(pk__in=[m.pk for m in members]).count() == 2
