"""KeywordReply now belongs to messaging (messaging 0006): the console forgets it, in Django's state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('console', '0002_cannedreply'),
        ('messaging', '0006_member_moved_to_members'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='KeywordReply')],
        ),
    ]
