"""Survey engine figures, each next to its baseline in the same run.

    python -m bench surveys [--members 100000] [--runs 3] [--answers 20]

1. Queueing: a survey sent to every member (``surveys.services.survey_send``: the members queued by one
   INSERT … SELECT, quiet-hours due times, into the survey's own partition of the queue, its indexes built
   after) against a broadcast queued to the same members (``broadcast_queue``: one INSERT … SELECT into a
   fresh partition, its indexes built after). Interleaved, `--runs` times each, from a clean table each time;
   target: survey / broadcast ≤ 1.2 (medians of the same run).
2. An answer becomes a usable audience filter: a member with an active run texts "2" through the inbound
   receiver (``inbound.receiver.sms_receiver_app``, signed as Twilio signs); timed from the post until an
   audience filter on that answer counts the member (``members.audience``, the ``answered`` key), or, when
   the audience filter does not know that key yet, until the member's ``MemberAnswer`` row is visible to
   another connection. Target: within 1 s.

The bench leader ("bench-surveys") and its members are created on the first run and reused afterwards.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLUG = "bench-surveys"
NUMBER = "+12025550176"  # fictional: 555-01XX


def setup_django() -> None:
    from bench import django_setup

    django_setup()  # the bench database (community_bench), never the development one


def bench_leader(members: int):
    import datetime

    from bench import bench_leader_with_members

    # No rate cap, sending at any hour: the answer part texts its members their question first.
    return bench_leader_with_members(
        slug=SLUG,
        name="Survey Bench",
        number=NUMBER,
        members=members,
        segments_per_second=10**6,
        quiet_hours_start=datetime.time(0),
        quiet_hours_end=datetime.time(0),
    )


def _clean(leader) -> None:
    """Nothing queued from before: no run, no delivery partition, no task waiting in the bench's queue."""
    from django.db import connection
    from django_q.models import OrmQ, Schedule
    from django_tenants.utils import schema_context

    from messaging.models import Delivery
    from surveys.models import PENDING_PARTITIONS

    with schema_context(leader.schema_name), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE surveys_answer, surveys_run, surveys_choice, surveys_question, surveys_survey"
        )
        for partition in Delivery.partition_names() + PENDING_PARTITIONS.names():
            cursor.execute(f'DROP TABLE "{partition}"')
        cursor.execute("VACUUM ANALYZE surveys_run")
        cursor.execute("CHECKPOINT")
    OrmQ.objects.all().delete()
    Schedule.objects.filter(name="surveys-sweep").delete()


def _one_question_survey(leader, name: str):
    from django_tenants.utils import schema_context

    from surveys.models import Choice, Question, Survey

    with schema_context(leader.schema_name):
        survey = Survey.objects.create(name=name, intro={"en": "Alice here, one question."})
        question = Question.objects.create(
            survey=survey, position=1, kind="multiple", text={"en": "What matters most to you?"}
        )
        for position, label in enumerate(("Health", "Housing", "Climate", "Jobs"), start=1):
            Choice.objects.create(question=question, position=position, label={"en": label})
    return survey, question


def bench_queueing(leader, runs: int) -> None:
    import uuid

    from django_tenants.utils import schema_context

    from messaging.broadcasts.compose import broadcast_create
    from messaging.broadcasts.queueing import broadcast_queue
    from surveys.services import survey_send

    broadcast_times, survey_times, ratios = [], [], []
    count_b = count_s = 0
    for _ in range(runs):
        _clean(leader)
        with schema_context(leader.schema_name):
            broadcast = broadcast_create(leader=leader, body="Rally Saturday at 10am, City Hall.")
            started = time.perf_counter()
            count_b = broadcast_queue(leader=leader, broadcast=broadcast)
            broadcast_times.append(time.perf_counter() - started)
        _clean(leader)
        survey, _question = _one_question_survey(leader, f"bench {uuid.uuid4().hex[:8]}")
        with schema_context(leader.schema_name):
            started = time.perf_counter()
            count_s = survey_send(survey=survey, audience={})
            survey_times.append(time.perf_counter() - started)
        ratios.append(survey_times[-1] / broadcast_times[-1])
    _clean(leader)
    b, s = statistics.median(broadcast_times), statistics.median(survey_times)
    ratio = s / b
    verdict = "OK" if ratio <= 1.2 else "OVER TARGET"
    print(
        f"queueing to {count_b:,} members: broadcast median {b:.2f} s (best {min(broadcast_times):.2f}); "
        f"survey to {count_s:,} members median {s:.2f} s (best {min(survey_times):.2f}); "
        f"ratio {ratio:.2f} (each run: {', '.join(f'{r:.2f}' for r in ratios)}; target ≤ 1.2: {verdict})"
    )


def _answered_filter(question_id: int):
    """The audience filter "answered 2 to this question", in the shape members.audience takes, or None
    when the audience filter does not know an `answered` key (yet)."""
    from members.audience import FILTER_KEYS, AudienceError, AudienceFilter

    if "answered" not in FILTER_KEYS:
        return None
    for shape in (
        {"answered": [{"question": question_id, "choices": [2]}]},
        {"answered": {"question": question_id, "choices": [2]}},
        {"answered": [{"question_id": question_id, "choices": [2]}]},
    ):
        try:
            return AudienceFilter.from_dict(shape)
        except AudienceError:
            continue
    return None


def bench_answer_to_audience(leader, answers: int) -> None:
    import uuid

    import psycopg
    from django.db import connection
    from django_tenants.utils import schema_context

    from inbound.receiver import sms_receiver_app
    from members.audience import audience_count
    from members.models import Member
    from surveys.services import runs_dispatch, survey_send, sweep_schedule_ensure
    from tests.messaging.webhooks import SMS_PATH, sign, sms_params

    _clean(leader)
    survey, question = _one_question_survey(leader, f"bench answers {uuid.uuid4().hex[:8]}")
    with schema_context(leader.schema_name):
        phones = list(Member.objects.reachable().order_by("-id").values_list("phone", flat=True)[:answers])
        Member.objects.filter(phone__in=phones).update(tags=["bench-answer"])
        survey_send(survey=survey, audience={"tags_any": ["bench-answer"]})
        runs_dispatch(leader=leader, time_budget=60)  # the first question goes (the local transport)
        audience = _answered_filter(question.pk)
    sweep_schedule_ensure()

    # Another connection sees what the webhook committed: as the console counting an audience would.
    db = connection.settings_dict
    reader = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        autocommit=True,
    )
    reader.execute(f'SET search_path = "{leader.schema_name}", public')

    def visible(phone: str, counted: int) -> bool:
        if audience is not None:
            with schema_context(leader.schema_name):
                return audience_count(audience) >= counted + 1
        row = reader.execute(
            "SELECT 1 FROM members_memberanswer a JOIN signup_member m ON m.id = a.member_id "
            "WHERE m.phone = %s AND a.question_id = %s AND a.choices = '{2}'",
            [phone, question.pk],
        ).fetchone()
        return row is not None

    latencies = []
    statuses: list[str] = []
    for counted, phone in enumerate(phones):
        params = sms_params(from_=phone, to=str(leader.phone_number), body="2")
        body = urlencode(params).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": SMS_PATH,
            "QUERY_STRING": "",
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "HTTP_X_TWILIO_SIGNATURE": sign(SMS_PATH, params),
            "wsgi.input": io.BytesIO(body),
        }
        started = time.perf_counter()
        sms_receiver_app(environ, lambda status, _headers: statuses.append(status))
        while not visible(phone, counted):
            if time.perf_counter() - started > 5:
                break
            time.sleep(0.001)
        latencies.append(time.perf_counter() - started)
        assert statuses[-1] == "200 OK", statuses[-1]
    reader.close()
    worst, median = max(latencies), statistics.median(latencies)
    verdict = "OK" if worst <= 1.0 else "OVER TARGET"
    measured = (
        "an audience filter on the answer counts the member"
        if audience is not None
        else "the MemberAnswer row is visible to another connection (the audience filter has no "
        "'answered' key yet: measured to the row it will read)"
    )
    print(
        f"answer → usable audience filter ({measured}), {len(latencies)} answers through the receiver: "
        f"median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms (target ≤ 1 s: {verdict})"
    )
    _clean(leader)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--answers", type=int, default=20)
    args = parser.parse_args()
    setup_django()
    import logging

    logging.getLogger("surveys").setLevel(logging.WARNING)
    logging.getLogger("django-q").setLevel(logging.WARNING)
    leader = bench_leader(args.members)
    bench_queueing(leader, args.runs)
    bench_answer_to_audience(leader, args.answers)


if __name__ == "__main__":
    main()
