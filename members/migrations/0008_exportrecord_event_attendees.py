# The kind of export an event's attendees CSV is recorded as (console/events). Choices only: no SQL.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_exportrecord_survey_answers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="exportrecord",
            name="kind",
            field=models.CharField(
                choices=[
                    ("members_csv", "Members (CSV)"),
                    ("survey_answers", "Survey answers (CSV)"),
                    ("event_attendees", "Event attendees (CSV)"),
                ],
                default="members_csv",
                max_length=16,
            ),
        ),
    ]
