"""Members moved to the members app, and the leader's keyword replies from the console to messaging: Django's
state only. Tables keep their names (signup_member, console_keywordreply) and no row moves; the foreign keys
to members are the same columns and constraints, now pointing at members.Member in Django's state."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_delivery_partitioned'),
        ('members', '0001_initial'),
        ('console', '0002_cannedreply'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='conversation',
                    name='member',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='members.member'),
                ),
                migrations.AlterField(
                    model_name='delivery',
                    name='member',
                    field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='members.member'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='member',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='members.member'),
                ),
                migrations.CreateModel(
                    name='KeywordReply',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('keyword', models.CharField(max_length=40, unique=True, verbose_name='keyword')),
                        ('reply', models.CharField(max_length=400, verbose_name='reply')),
                        ('tag', models.CharField(blank=True, max_length=50, verbose_name='tag')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'console_keywordreply',
                        'ordering': ['keyword'],
                    },
                ),
            ],
        ),
    ]
