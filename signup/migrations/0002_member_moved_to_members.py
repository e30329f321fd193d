"""Member and ConsentRecord now belong to the members app (members 0001): signup forgets them, in Django's
state only. No table changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('signup', '0001_initial'),
        ('members', '0001_initial'),
        ('messaging', '0006_member_moved_to_members'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='signuptoken',
                    name='member',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, to='members.member'),
                ),
                migrations.DeleteModel(name='ConsentRecord'),
                migrations.DeleteModel(name='Member'),
            ],
        ),
    ]
