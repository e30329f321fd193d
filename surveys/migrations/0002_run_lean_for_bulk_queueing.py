"""Runs without database foreign keys or the indexes their (survey, member) key already serves: queueing a
survey writes a run per member in one INSERT … SELECT (docs/architecture.md, "Surveys: runs").

The foreign keys and single-column indexes are dropped by name in SQL rather than by AlterField, whose
schema editor looks their names up in the database: `platform_migrate` generates a leader's SQL from a
schema that may not have the table yet (it replays 0001 and this one together), where that lookup finds
nothing and would leave them in place. The names are the ones 0001 gave them in every schema."""

import django.db.models.deletion
from django.db import migrations, models

FOREIGN_KEYS = {
    "surveys_run_member_id_b9bccd7e_fk_signup_member_id": "FOREIGN KEY (member_id) REFERENCES signup_member(id)",
    "surveys_run_question_id_cbe7dfef_fk_surveys_question_id": (
        "FOREIGN KEY (question_id) REFERENCES surveys_question(id)"
    ),
    "surveys_run_survey_id_6ed7096e_fk_surveys_survey_id": "FOREIGN KEY (survey_id) REFERENCES surveys_survey(id)",
}
INDEXES = {
    "surveys_run_survey_id_6ed7096e": "survey_id",
    "surveys_run_question_id_cbe7dfef": "question_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0006_interests_answers_waitlist"),
        ("surveys", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="run",
            name="surveys_run_survey__70e1b3_idx",
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    [f"ALTER TABLE surveys_run DROP CONSTRAINT IF EXISTS {name}" for name in FOREIGN_KEYS]
                    + [f"DROP INDEX IF EXISTS {name}" for name in INDEXES],
                    reverse_sql=[
                        f"ALTER TABLE surveys_run ADD CONSTRAINT {name} {definition} DEFERRABLE INITIALLY DEFERRED"
                        for name, definition in FOREIGN_KEYS.items()
                    ]
                    + [f"CREATE INDEX {name} ON surveys_run ({column})" for name, column in INDEXES.items()],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="run",
                    name="member",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="members.member",
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="question",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="surveys.question",
                    ),
                ),
                migrations.AlterField(
                    model_name="run",
                    name="survey",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="runs",
                        to="surveys.survey",
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                condition=models.Q(("state", "queued"), _negated=True),
                fields=["survey", "state"],
                name="surveys_run_survey_state",
            ),
        ),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                condition=models.Q(("question__isnull", False)),
                fields=["question"],
                name="surveys_run_question",
            ),
        ),
    ]
