from django_tenants.utils import schema_context

from accounts.models import User
from members.models import Member
from tests import builders
from tests.phones import unique_phone


def test_a_leaders_members_are_invisible_from_another_leaders_schema(db, world):
    phone = unique_phone()
    with schema_context(world.alice.schema_name):
        builders.member(phone=phone, first_name="Zoé")
        assert Member.objects.filter(phone=phone).exists()
    with schema_context(world.bob.schema_name):
        assert not Member.objects.filter(phone=phone).exists()
        # The same fan can join bob too: the phone is unique per leader, not per platform.
        builders.member(phone=phone, first_name="Zoé")
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=phone).count() == 1


def test_team_accounts_live_in_their_leaders_schema_and_staff_in_public(db, world):
    assert User.objects.filter(username="carol", is_staff=True).exists()
    assert not User.objects.filter(username="olivia").exists()
    with schema_context(world.alice.schema_name):
        assert set(User.objects.values_list("username", flat=True)) >= {"olivia", "mark", "rita"}
        assert not User.objects.filter(username="carol").exists()
    with schema_context(world.bob.schema_name):
        assert not User.objects.filter(username="olivia").exists()
