import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from leaders.models import Domain, Leader
from leaders.services import leader_create
from members.models import Member
from tests import builders


def schema_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def test_a_new_leader_gets_a_cloned_schema_a_domain_and_its_number(db):
    leader = leader_create(
        slug="carla-diaz", name="Carla Díaz", phone_number="+1 212 555 0101", countries=["us"]
    )

    assert leader.schema_name == "leader_carla_diaz"
    assert str(leader.phone_number) == "+12125550101"
    assert leader.allowed_countries == ["US"]
    assert Domain.objects.get(tenant=leader).domain == "carla-diaz.localhost"
    assert schema_exists("leader_carla_diaz")
    with schema_context(leader.schema_name):
        assert Member.objects.count() == 0
        builders.member(first_name="Ana")
        assert Member.objects.count() == 1
    assert (leader.time_zone, leader.default_language) == ("America/New_York", "en")  # from +1 212


@pytest.mark.parametrize(
    ("number", "zone", "language"),
    [
        ("+33 6 12 34 56 78", "Europe/Paris", "fr"),
        ("+52 55 1234 5678", "America/Mexico_City", "es"),
        ("+1 415 555 0100", "America/Los_Angeles", "en"),  # English speakers: the platform's default
        ("+1 604 555 0100", "America/Vancouver", "en"),  # Canada: English or French, so the default
    ],
)
def test_a_new_leaders_clock_and_language_follow_its_number(db, number, zone, language):
    leader = leader_create(slug="by-number", name="By Number", phone_number=number)
    assert (leader.time_zone, leader.default_language) == (zone, language)


def test_the_command_creates_a_leader_with_a_custom_domain(db, capsys):
    call_command(
        "create_leader",
        "dora",
        "--name",
        "Dora",
        "--number",
        "+13035550111",
        "--domain",
        "Text.Dora.example.org",
    )
    assert "created leader dora" in capsys.readouterr().out
    assert Domain.objects.get(domain="text.dora.example.org").tenant.slug == "dora"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["alice", "--name", "A", "--number", "+13035550120"], "slug 'alice' already exists"),
        (["newbie", "--name", "N", "--number", "+12025550142"], "already belongs to a leader"),
        (["newbie", "--name", "N", "--number", "202-555-0123"], "not in E.164"),
        (["newbie", "--name", "N", "--number", "+1555123"], "not a valid phone number"),
        (["Bad_Slug", "--name", "N", "--number", "+13035550121"], "lowercase letters"),
        (["public", "--name", "N", "--number", "+13035550122"], "reserved"),
        (
            ["newbie", "--name", "N", "--number", "+13035550123", "--domain", "alice.localhost"],
            "already in use",
        ),
        (["newbie", "--name", "N", "--number", "+13035550124", "--countries", "USA"], "two-letter"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line_and_creates_nothing(db, world, arguments, message):
    before = schema_names()
    leaders_before = Leader.objects.count()
    with pytest.raises(CommandError) as excinfo:
        call_command("create_leader", *arguments)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert schema_names() == before
    assert Leader.objects.count() == leaders_before


def test_a_failure_after_the_schema_is_cloned_leaves_no_orphan_schema(db, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Domain.objects, "create", explode)
    with pytest.raises(RuntimeError):
        leader_create(slug="orphan", name="O", phone_number="+13035550130")
    assert "leader_orphan" not in schema_names()
    assert not Leader.objects.filter(slug="orphan").exists()


def test_create_leader_user_makes_a_team_account_only_in_that_leaders_schema(db, world, capsys):
    call_command("create_leader_user", "bob", "bianca", "--role", "manager", "--password", "s3cret-pass-99")
    assert "created manager bianca for bob" in capsys.readouterr().out
    from accounts.models import User

    with schema_context(world.bob.schema_name):
        assert User.objects.get(username="bianca").check_password("s3cret-pass-99")
    with schema_context(world.alice.schema_name):
        assert not User.objects.filter(username="bianca").exists()
    assert not User.objects.filter(username="bianca").exists()


def test_create_leader_user_refuses_an_unknown_leader_and_a_duplicate(db, world):
    with pytest.raises(CommandError, match="no leader with the slug 'nobody'"):
        call_command("create_leader_user", "nobody", "x", "--role", "owner", "--password", "p-a-s-s-99")
    with pytest.raises(CommandError, match="already on alice's team"):
        call_command("create_leader_user", "alice", "olivia", "--role", "owner", "--password", "p-a-s-s-99")


def test_validation_errors_name_each_field(db, world):
    with pytest.raises(ValidationError) as excinfo:
        leader_create(slug="alice", name="", phone_number="+12025550142")
    errors = excinfo.value.message_dict
    assert set(errors) == {"slug", "name", "phone_number"}


@pytest.mark.parametrize(("name", "zone"), [("America/Chicago", "America/Chicago"), ("Mars/Olympus", "UTC")])
def test_a_leaders_zone_is_its_time_zone_or_utc_when_unknown(name, zone):
    assert str(Leader(time_zone=name).zone) == zone
