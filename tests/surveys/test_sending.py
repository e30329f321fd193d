"""The survey sender in the bulk lane: paced by the leader's sending rate (the limiter broadcasts share), a
few senders per leader however many were queued, and the minute sweep that starts them."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import schema_context

from leaders.models import Leader
from messaging.models import SendingWindow
from surveys import tasks
from surveys.models import Run
from surveys.services import senders, survey_send
from tests import builders
from tests.queue import queue_clear, queued_tasks
from tests.surveys.helpers import bulk_cluster, open_all_day, senders_run, sent_to, survey

pytestmark = pytest.mark.django_db


def short_survey(leader):
    # One segment a member: "Rally?" and its options.
    return survey(leader=leader, questions=[{"kind": "yes_no", "text": {"en": "Rally?"}}])


def test_the_first_questions_go_at_the_leaders_sending_rate(
    world, twilio, django_capture_on_commit_callbacks
):
    alice = open_all_day(world.alice)
    Leader.objects.filter(pk=alice.pk).update(segments_per_second=2)
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        members = [builders.member(tags=[tag]) for _ in range(4)]
        with django_capture_on_commit_callbacks(execute=True):
            survey_send(survey=short_survey(alice), audience={"tags_any": [tag]})

    started = time.monotonic()
    senders_run()
    elapsed = time.monotonic() - started

    for member in members:
        assert sent_to(twilio, member.phone) == ["Rally?\n1 Yes\n2 No"]
    with schema_context(alice.schema_name):
        # Four one-segment texts at two segments a second: batches of one second's worth, each waiting
        # for the window of the one before.
        grants = list(SendingWindow.objects.order_by("at").values_list("segments", flat=True))
    assert sum(grants) == 4 and max(grants) <= 2
    assert elapsed >= 1.0


def test_a_leader_has_a_few_senders_however_many_were_queued(
    world, twilio, django_capture_on_commit_callbacks
):
    alice = open_all_day(world.alice)
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
        with django_capture_on_commit_callbacks(execute=True):
            survey_send(survey=short_survey(alice), audience={"tags_any": [tag]})
    # Every sender's slot is held by senders at work elsewhere (another worker's connection).
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None
    )
    try:
        key = f"community.surveys.sender.{alice.schema_name}"
        for slot in range(senders()):
            other.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [key, slot])

        assert senders_run() == ["busy: the leader's senders are all at work"]
        assert sent_to(twilio, member.phone) == []

        other.execute("SELECT pg_advisory_unlock_all()")
        assert tasks.runs_dispatch(alice.schema_name).startswith("done: sent 1")
    finally:
        other.close()
    assert sent_to(twilio, member.phone) == ["Rally?\n1 Yes\n2 No"]


def test_the_sweep_starts_a_sender_where_runs_are_due_and_is_scheduled_with_the_first_run(
    world, twilio, django_capture_on_commit_callbacks
):
    from django_q.models import Schedule

    alice = open_all_day(world.alice)
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
        with django_capture_on_commit_callbacks(execute=True):
            survey_send(survey=short_survey(alice), audience={"tags_any": [tag]})
    assert Schedule.objects.get(name="surveys-sweep").func == "surveys.tasks.surveys_sweep"
    queue_clear(bulk_cluster())  # the sender queued with the runs was lost (a worker died)

    tasks.surveys_sweep()

    assert [task["args"] for task in queued_tasks(bulk_cluster())] == [(alice.schema_name,)]
    senders_run()
    assert len(sent_to(twilio, member.phone)) == 1
    with schema_context(alice.schema_name):
        assert Run.objects.get(member=member).state == Run.State.ACTIVE
