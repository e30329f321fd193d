"""The content types of the moved models follow them (signup.member -> members.member, and so on), keeping
their ids: permissions and admin log entries that point at them stay valid. In every schema, as each schema
has its own content types. A schema migrated before the move has the old rows; a new one has neither yet
(contenttypes creates them after migrating), and then this changes nothing. Plain SQL rather than RunPython,
so that platform_migrate replays it in each leader's schema instead of running a full migrate there."""

from django.db import migrations

MOVES = [
    ("signup", "members", "member"),
    ("signup", "members", "consentrecord"),
    ("console", "messaging", "keywordreply"),
]


def _follow(old: str, new: str, model: str) -> str:
    return (
        f"UPDATE django_content_type SET app_label = '{new}' WHERE app_label = '{old}' AND model = '{model}'"
        f" AND NOT EXISTS (SELECT 1 FROM django_content_type WHERE app_label = '{new}' AND model = '{model}')"
    )


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0001_initial'),
        ('signup', '0002_member_moved_to_members'),
        ('console', '0003_keywordreply_moved_to_messaging'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.RunSQL(
            [_follow(old, new, model) for old, new, model in MOVES],
            [_follow(new, old, model) for old, new, model in MOVES],
            elidable=True,
        )
    ]
