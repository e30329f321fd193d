"""Members a survey is still to be sent to wait in the survey's own partition of the queue
(surveys.models.PendingRun, migration 0003): written unindexed on the first send and indexed after, as
broadcasts' deliveries are; a run is made when the first question goes."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from members.audience import AudienceFilter
from surveys.editing import survey_delete
from surveys.models import PENDING_PARTITIONS, PendingRun, Run, Survey
from surveys.selectors import survey_audience_count, survey_runs_by_state
from surveys.services import member_survey_after_signup, survey_send
from tests import builders
from tests.catalog import columns, rows_by_table
from tests.surveys.helpers import survey


@pytest.fixture
def leader(alice_schema):
    return alice_schema


def one_question(leader, **fields) -> Survey:
    return survey(leader=leader, questions=[{"kind": "yes_no", "text": {"en": "Rally?"}}], **fields)


def partitions() -> dict[str, int]:
    """This schema's partitions of the queue and their rows, counted in each partition itself."""
    return rows_by_table(PENDING_PARTITIONS.names())


def index_definitions(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s", [table]
        )
        return {row[0].split(" USING ")[1] for row in cursor.fetchall()}


def test_a_surveys_first_send_fills_a_partition_of_its_own_indexed_after_and_a_second_adds_only_newcomers(
    leader,
):
    tag = builders.new_tag()
    first = [builders.member(tags=[tag]) for _ in range(3)]
    rally = one_question(leader)
    other = one_question(leader)

    assert survey_send(survey=rally, audience={"tags_any": [tag]}) == 3
    assert survey_send(survey=other, audience={"tags_any": [tag]}) == 3

    table = PENDING_PARTITIONS.name(rally.pk)
    assert partitions() == {table: 3, PENDING_PARTITIONS.name(other.pk): 3}
    assert index_definitions(table) == {"btree (member_id)", "btree (due_at)"}
    assert {row.member_id for row in PendingRun.objects.filter(survey=rally)} == {m.pk for m in first}
    # One of them already had the survey's question (a run); two newcomers join the segment.
    PendingRun.objects.filter(survey=rally, member=first[0]).delete()
    Run.objects.create(survey=rally, member=first[0], state=Run.State.COMPLETED, finished_at=timezone.now())
    newcomers = [builders.member(tags=[tag]) for _ in range(2)]

    assert survey_audience_count(survey=rally, audience=AudienceFilter.from_dict({"tags_any": [tag]})) == 2
    assert survey_send(survey=rally, audience={"tags_any": [tag]}) == 2  # through the partition's key

    queued = set(PendingRun.objects.filter(survey=rally).values_list("member_id", flat=True))
    assert queued == {m.pk for m in first[1:] + newcomers}
    assert survey_runs_by_state(survey=rally)["queued"] == 4
    assert survey_runs_by_state(survey=rally)[Run.State.COMPLETED] == 1
    assert survey_send(survey=rally, audience={"tags_any": [tag]}) == 0


def test_an_after_signup_survey_queues_each_newcomer_once_through_an_empty_partition(leader):
    greeting = one_question(leader, trigger=Survey.Trigger.AFTER_SIGNUP)
    newcomer = builders.member()

    member_survey_after_signup(member=newcomer, created=True)
    member_survey_after_signup(member=newcomer, created=True)

    assert partitions() == {PENDING_PARTITIONS.name(greeting.pk): 1}
    assert PendingRun.objects.get(survey=greeting).member_id == newcomer.pk


def test_deleting_a_survey_that_never_went_out_drops_its_empty_partition(leader):
    greeting = one_question(leader, trigger=Survey.Trigger.AFTER_SIGNUP)
    PENDING_PARTITIONS.ensure(greeting.pk)
    assert PENDING_PARTITIONS.name(greeting.pk) in partitions()

    survey_delete(survey=greeting)

    assert partitions() == {}


def test_the_queue_table_has_the_models_columns(leader):
    found = columns("surveys_pendingrun")
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = 'surveys_pendingrun'::regclass")
        assert cursor.fetchone()[0] == "p"  # partitioned
    declared = {(f.column, f.db_type(connection), not f.null) for f in PendingRun._meta.concrete_fields}
    assert found == declared
    # The leader's schema, cloned from the template, has the partitioned index the sender claims along.
    assert index_definitions("surveys_pendingrun") == {"btree (due_at)"}


def test_the_migration_moves_queued_runs_into_their_surveys_partitions_and_back(leader):
    members = [builders.member() for _ in range(3)]
    rally, other = one_question(leader), one_question(leader)
    with connection.cursor() as cursor:
        # Rows written above leave deferred foreign-key checks pending; ALTER TABLE cannot run while they are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    MigrationExecutor(connection).migrate([("surveys", "0002_run_lean_for_bulk_queueing")])
    due = timezone.now() + datetime.timedelta(hours=3)
    rows = [
        (rally, members[0], "queued"),
        (rally, members[1], "queued"),
        (rally, members[2], "active"),
        (other, members[0], "queued"),
    ]
    with connection.cursor() as cursor:
        for survey_row, member, state in rows:
            cursor.execute(
                "INSERT INTO surveys_run (survey_id, member_id, state, reasked, due_at, created_at) "
                "VALUES (%s, %s, %s, FALSE, %s, %s)",
                [survey_row.pk, member.pk, state, due, due - datetime.timedelta(days=1)],
            )

    MigrationExecutor(connection).migrate([("surveys", "0003_pending_runs_partitioned_by_survey")])

    assert partitions() == {PENDING_PARTITIONS.name(rally.pk): 2, PENDING_PARTITIONS.name(other.pk): 1}
    moved = PendingRun.objects.get(survey=rally, member=members[1])
    assert (moved.due_at, moved.created_at) == (due, due - datetime.timedelta(days=1))
    assert list(Run.objects.values_list("member_id", "state")) == [(members[2].pk, "active")]

    MigrationExecutor(connection).migrate([("surveys", "0002_run_lean_for_bulk_queueing")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT survey_id, member_id, state FROM surveys_run ORDER BY survey_id, member_id")
        assert cursor.fetchall() == sorted((s.pk, m.pk, state) for s, m, state in rows)
        cursor.execute("SELECT to_regclass('surveys_pendingrun')")
        assert cursor.fetchone()[0] is None

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert sum(partitions().values()) == 3
