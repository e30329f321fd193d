"""Survey results at 100,000 answers: how long do the results page, its filters, the surveys list and the CSV
export take?

    python bench/survey_results.py [--members 100000] [--runs 5]

Creates (or reuses) a leader "bench-survey-results" in the bench database with `--members` synthetic members
(members.demo, spread over the demo's cities, regions and languages) and a survey of four questions (several
choices, a number, yes/no, free text). Every member got the survey and answered the first question; 80 %
the number, 70 % the yes/no, 40 % the free text (about 290,000 answers at 100,000 members), as the survey
engine writes them. Then it times surveys.selectors: the results (whole survey, one region, one language),
the list's summaries and the CSV export's rows, and prints the aggregates' plans. Figures are printed, never
asserted (the target: the results page's reads under 1 s at 100,000 answers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import django_setup, leader_number_free, time_median

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SLUG = "bench-survey-results"
NUMBER = "+13125550163"
SURVEY = "Bench issues"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    django_setup()
    from django.db import connection, transaction
    from django_tenants.utils import schema_context

    from leaders.migrating import platform_migrate
    from leaders.models import Leader
    from leaders.services import leader_create
    from members.demo import members_seed
    from members.models import Member
    from surveys import editing, selectors
    from surveys.models import Answer, Question, Run, Survey

    platform_migrate(verbosity=0)
    leader = Leader.objects.filter(slug=SLUG).first() or leader_create(
        slug=SLUG, name="Bench Survey Results", phone_number=leader_number_free(NUMBER)
    )
    with schema_context(leader.schema_name):
        have = Member.objects.count()
        if have < args.members:
            started = time.perf_counter()
            members_seed(count=args.members - have, start_index=have)
            print(f"seeded {args.members - have:,} members in {time.perf_counter() - started:.1f}s")
        survey = Survey.objects.filter(name=SURVEY).first()
        if survey is None or Run.objects.filter(survey=survey).count() != args.members:
            Survey.objects.filter(name=SURVEY).delete()
            started = time.perf_counter()
            survey = editing.survey_save(
                survey=Survey(),
                default_language="en",
                data={
                    "name": SURVEY,
                    "questions": [
                        {
                            "kind": "multiple",
                            "text": {"en": "Which issues matter most to you?", "fr": "Quels sujets ?"},
                            "choices": [
                                {"label": {"en": label}}
                                for label in ("Health", "Housing", "Climate", "Jobs", "Schools", "Roads")
                            ],
                        },
                        {"kind": "number", "text": {"en": "How old are you?"}, "number_min": 13},
                        {"kind": "yes_no", "text": {"en": "Will you vote?"}},
                        {"kind": "text", "text": {"en": "Anything else?"}},
                    ],
                },
            )
            issues, age, vote, other = (q.pk for q in survey.questions.all())
            runs, answers = Run._meta.db_table, Answer._meta.db_table
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"""INSERT INTO {runs} (survey_id, member_id, state, reasked, due_at, started_at, asked_at,
                                            finished_at, created_at)
                        SELECT %s, id, 'completed', false, now(), now(), now(), now(), now()
                        FROM {Member._meta.db_table} ORDER BY id LIMIT %s""",
                    [survey.pk, args.members],
                )
                # Each member's answers, drawn from their id: one to three issues, an age, yes or no, a few
                # words; in the member's language.
                cursor.execute(
                    f"""INSERT INTO {answers} (run_id, question_id, member_id, choices, value, raw, language,
                                               created_at)
                        SELECT r.id, q.id, r.member_id, c.choices,
                               CASE q.kind WHEN 'multiple' THEN array_to_string(c.choices, ',')
                                           WHEN 'number' THEN (18 + r.member_id %% 70)::text
                                           WHEN 'yes_no' THEN CASE WHEN r.member_id %% 3 = 0 THEN 'no' ELSE 'yes' END
                                           ELSE 'words ' || r.member_id END,
                               'raw ' || r.member_id, m.language,
                               now() - (r.member_id %% 1000) * interval '1 minute'
                        FROM {runs} r
                        JOIN {Member._meta.db_table} m ON m.id = r.member_id
                        JOIN {Question._meta.db_table} q ON q.survey_id = r.survey_id
                        CROSS JOIN LATERAL (SELECT CASE
                            WHEN q.kind = 'multiple' THEN ARRAY(SELECT DISTINCT 1 + (r.member_id * k) %% 6
                                                               FROM generate_series(1, 1 + r.member_id %% 3) k
                                                               ORDER BY 1)::smallint[]
                            WHEN q.kind = 'yes_no' THEN ARRAY[CASE WHEN r.member_id %% 3 = 0 THEN 2 ELSE 1 END]::smallint[]
                            ELSE '{{}}'::smallint[] END AS choices) c
                        WHERE r.survey_id = %s
                          AND (q.id = %s OR (q.id = %s AND r.member_id %% 10 < 8)
                               OR (q.id = %s AND r.member_id %% 10 < 7) OR (q.id = %s AND r.member_id %% 10 < 4))""",
                    [survey.pk, issues, age, vote, other],
                )
                cursor.execute(f"ANALYZE {runs}")
                cursor.execute(f"ANALYZE {answers}")
            print(f"wrote {args.members:,} runs and their answers in {time.perf_counter() - started:.1f}s")
        total = Answer.objects.filter(question__survey=survey).count()
        print(f"survey {survey.pk}: {Run.objects.filter(survey=survey).count():,} runs, {total:,} answers")
        region = Member.objects.exclude(region="").values_list("region", flat=True).first() or ""

        def results(**kwargs):
            found = selectors.survey_results(survey=survey, default_language="en", **kwargs)
            return f"{found.answered:,} answered, {len(found.regions)} region columns"

        time_median("results, the whole survey", lambda: results(), args.runs)
        time_median(f"results, one region ({region})", lambda: results(region=region), args.runs)
        time_median("results, one language (fr)", lambda: results(language="fr"), args.runs)
        time_median(
            "surveys list (summaries)", lambda: f"{len(selectors.surveys_summaries())} surveys", args.runs
        )
        time_median(
            "CSV export, every row",
            lambda: (
                f"{sum(1 for _ in selectors.survey_export_rows(survey=survey, default_language='en')):,} rows"
            ),
            max(1, args.runs // 2),
        )
        ids = list(survey.questions.values_list("pk", flat=True))
        with connection.cursor() as cursor:
            number_ids = list(survey.questions.filter(kind="number").values_list("pk", flat=True))
            cursor.execute("SET jit = off")  # as the page runs them
            statements = selectors.aggregate_statements(ids, number_ids)
            for label, (sql, params) in zip(("counts", "medians"), statements, strict=True):
                cursor.execute("EXPLAIN ANALYZE " + sql, params)
                print(
                    f"plan of the {label} aggregate:\n  " + "\n  ".join(row[0] for row in cursor.fetchall())
                )
    print("target: the results page's reads under 1 s at 100,000 answers")


if __name__ == "__main__":
    main()
