"""Members a survey is still to be sent to move out of the run table into their own, partitioned by survey.

Why: sending a survey to a segment wrote a queued run per member through every index of the run table
(its key, the (survey, member) key, the member index, the queue's index), about three times as long as
queueing a broadcast to the same members. Queued members are now PendingRun rows: a survey's first send
writes them into a table of their own with no index, indexes it in one sorted pass and attaches it as the
survey's partition (common.partitions, surveys.services.survey_send), as broadcasts do with their
deliveries. A Run is made when the first question goes (or cannot go).

Existing queued runs move to their survey's partition, with their due times; the run table keeps the
others, and loses the queue's index.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

FORWARD = [
    """
    CREATE TABLE surveys_pendingrun (
        survey_id bigint NOT NULL,
        member_id bigint NOT NULL,
        due_at timestamp with time zone NOT NULL,
        created_at timestamp with time zone NOT NULL
    ) PARTITION BY LIST (survey_id)
    """,
    "CREATE INDEX surveys_pendingrun_due ON surveys_pendingrun (due_at)",
    """
    DO $$
    DECLARE s bigint;
    BEGIN
        FOR s IN SELECT DISTINCT survey_id FROM surveys_run WHERE state = 'queued' ORDER BY 1 LOOP
            EXECUTE format(
                'CREATE TABLE surveys_pendingrun_%1$s (LIKE surveys_pendingrun INCLUDING DEFAULTS '
                'INCLUDING CONSTRAINTS, CONSTRAINT surveys_pendingrun_%1$s_bound CHECK (survey_id = %1$s))', s);
            EXECUTE format(
                'INSERT INTO surveys_pendingrun_%1$s (survey_id, member_id, due_at, created_at) '
                'SELECT survey_id, member_id, due_at, created_at FROM surveys_run '
                'WHERE survey_id = %1$s AND state = ''queued'' ORDER BY member_id', s);
            EXECUTE format(
                'ALTER TABLE surveys_pendingrun_%1$s ADD CONSTRAINT surveys_pendingrun_%1$s_member '
                'UNIQUE (member_id)', s);
            EXECUTE format('CREATE INDEX surveys_pendingrun_%1$s_due ON surveys_pendingrun_%1$s (due_at)', s);
            EXECUTE format(
                'ALTER TABLE surveys_pendingrun ATTACH PARTITION surveys_pendingrun_%1$s FOR VALUES IN (%1$s)', s);
        END LOOP;
        DELETE FROM surveys_run WHERE state = 'queued';
    END
    $$
    """,
]

BACKWARD = [
    """
    INSERT INTO surveys_run (survey_id, member_id, state, reasked, due_at, created_at)
    SELECT survey_id, member_id, 'queued', FALSE, due_at, created_at FROM surveys_pendingrun
    ON CONFLICT (survey_id, member_id) DO NOTHING
    """,
    "DROP TABLE surveys_pendingrun",
]


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_exportrecord_survey_answers"),
        ("surveys", "0002_run_lean_for_bulk_queueing"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PendingRun",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "survey_id",
                                "member_id",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("due_at", models.DateTimeField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "member",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="members.member",
                            ),
                        ),
                        (
                            "survey",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="surveys.survey",
                            ),
                        ),
                    ],
                    options={
                        "indexes": [models.Index(fields=["due_at"], name="surveys_pendingrun_due")],
                    },
                ),
            ],
            # Statement by statement (a list, not split by Django's SQL parser): the DO block holds semicolons.
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD, elidable=False)],
        ),
        migrations.RemoveIndex(model_name="run", name="surveys_run_queued"),
        migrations.RemoveIndex(model_name="run", name="surveys_run_survey_state"),
        migrations.AlterField(
            model_name="run",
            name="state",
            field=models.CharField(
                choices=[
                    ("active", "Waiting for an answer"),
                    ("completed", "Completed"),
                    ("expired", "No answer in time"),
                    ("stopped", "Stopped"),
                    ("skipped", "Not sent"),
                ],
                default="active",
                max_length=16,
            ),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(fields=["survey", "state"], name="surveys_run_by_survey_state"),
        ),
    ]
