"""The operator's commands: seed_demo, create_leader_user, platform_migrate."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from leaders.demo import DEMO_PASSWORD, DEMO_SLUG, STAFF_USERNAME
from leaders.models import Leader, schema_name_for
from leaders.services import leader_create
from members.models import Member
from tests.phones import unique_phone

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The test database as a DATABASE_URL, for commands run in a subprocess."""
    db = connection.settings_dict
    host = db["HOST"]
    where = (
        f"@/{db['NAME']}?host={host}"
        if host.startswith("/")
        else f"@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}{where}"


test_database_url.__test__ = False  # a helper, not a test


def manage(
    *args: str, environment: dict[str, str] | None = None, drop: tuple[str, ...] = (), **kwargs
) -> subprocess.CompletedProcess:
    """`manage.py` in a subprocess on the test database; `drop`: prefixes of variables of this run to leave
    out, `environment`: variables to set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_SETTINGS_MODULE", *drop))
    }
    env.update(DATABASE_URL=test_database_url(), **(environment or {}))
    kwargs.setdefault("timeout", 300)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def age(born: datetime.date, today: datetime.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_seed_demo_creates_the_demo_leader_its_team_and_staff_then_realistic_members(db, capsys):
    call_command("seed_demo", members=600)
    out = capsys.readouterr().out
    assert "created the demo leader demo" in out and "seeded 600 members" in out

    leader = Leader.objects.get(slug=DEMO_SLUG)
    assert leader.member_count == 600
    assert User.objects.get(username=STAFF_USERNAME).is_superuser
    with schema_context(leader.schema_name):
        team = {u.username: u for u in User.objects.all()}
        assert {name: u.role for name, u in team.items()} == {
            "owner": "owner",
            "manager": "manager",
            "responder": "responder",
        }
        assert team["owner"].check_password(DEMO_PASSWORD)

        members = Member.objects.all()
        assert members.count() == 600
        assert members.values("phone").distinct().count() == 600
        today = timezone.now().date()
        ages = [age(born, today) for born in members.values_list("birth_date", flat=True)]
        assert min(ages) >= 13 and max(ages) <= 90 and max(ages) - min(ages) > 40
        assert members.values("country").distinct().count() >= 4
        assert members.values("language").distinct().count() >= 3
        opted_out = members.filter(status=Member.Status.OPTED_OUT)
        assert 0 < opted_out.count() < 60
        assert not opted_out.filter(opted_out_at__isnull=True).exists()
        joined = members.aggregate(first=Min("joined_at"), last=Max("joined_at"))
        assert joined["last"] <= timezone.now()
        assert joined["last"] - joined["first"] > datetime.timedelta(days=300)
        assert timezone.now() - joined["first"] <= datetime.timedelta(days=366)
        # Phone numbers belong to no one: 555-01XX lines behind real area codes.
        assert all(p[5:9] == "5550" for p in members.values_list("phone", flat=True)[:50])


def test_seed_demo_adds_members_without_collisions_and_if_empty_adds_none(db, capsys):
    call_command("seed_demo", members=50)
    call_command("seed_demo", members=70)
    call_command("seed_demo", members=500, if_empty=True)
    out = capsys.readouterr().out
    assert "already has 120 members; nothing seeded" in out
    leader = Leader.objects.get(slug=DEMO_SLUG)
    assert leader.member_count == 120
    with schema_context(leader.schema_name):
        assert Member.objects.aggregate(n=Count("phone", distinct=True))["n"] == 120
        assert User.objects.count() == 3  # the team is created once


def test_seed_demo_into_another_leader_and_refusals_in_one_line(db, world, capsys):
    call_command("seed_demo", leader="bob", members=30)
    assert "seeded 30 members into bob" in capsys.readouterr().out
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_demo", leader="nobody", members=10)
    assert str(excinfo.value) == "no leader with the slug 'nobody'"
    with pytest.raises(CommandError, match="--members must be zero or more"):
        call_command("seed_demo", leader="bob", members=-1)


def test_seed_demo_with_an_unknown_leader_prints_one_line_from_manage_py(live_db):
    result = manage("seed_demo", "--leader", "nobody", "--members", "5")
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: no leader with the slug 'nobody'"


def test_create_leader_user_without_a_password_off_a_terminal_asks_for_one_in_one_line(db, world):
    # pytest's stdin is no terminal, like a script's or a CI job's.
    with pytest.raises(CommandError) as excinfo:
        call_command("create_leader_user", "alice", "paula", "--role", "responder")
    assert str(excinfo.value) == "--password is required when not run from a terminal"
    with schema_context(world.alice.schema_name):
        assert not User.objects.filter(username="paula").exists()


def test_create_leader_user_prompts_twice_for_the_password_on_a_terminal(live_db, world):
    import pty
    import select

    username = f"tty-{unique_phone()[-6:]}"
    env = {**os.environ, "DATABASE_URL": test_database_url()}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command with a terminal for stdin and stdout
        os.chdir(ROOT)
        os.execve(  # noqa: S606 - our own manage.py
            sys.executable,
            [sys.executable, "manage.py", "create_leader_user", "alice", username, "--role", "responder"],
            env,
        )
    output = b""

    def read_until(text: bytes, timeout: float = 60) -> None:
        nonlocal output
        deadline = timezone.now() + datetime.timedelta(seconds=timeout)
        while text not in output:
            assert timezone.now() < deadline, output
            ready, _, _ = select.select([fd], [], [], 1)
            if ready:
                try:
                    output += os.read(fd, 1024)
                except OSError:
                    break

    try:
        read_until(b"Password: ")
        os.write(fd, b"tty-pass-word-77\n")
        read_until(b"Password (again): ")
        os.write(fd, b"tty-pass-word-77\n")
        read_until(b"created responder")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert b"tty-pass-word-77" not in output  # getpass does not echo
        with schema_context(world.alice.schema_name):
            user = User.objects.get(username=username)
            assert user.check_password("tty-pass-word-77") and user.role == "responder"
    finally:
        with schema_context(world.alice.schema_name):
            User.objects.filter(username=username).delete()


def test_platform_migrate_in_parallel_checks_every_leader_and_migrates_only_those_behind(live_db, world):
    made = [
        leader_create(slug=f"pm-{unique_phone()[-6:]}", name="Parallel", phone_number=unique_phone())
        for _ in range(2)
    ]
    # A leader whose schema exists but was never migrated: platform_migrate must build it.
    behind = Leader(slug=f"pm-bare-{unique_phone()[-6:]}", name="Bare", phone_number=unique_phone())
    behind.schema_name = schema_name_for(behind.slug)
    behind.auto_create_schema = False
    behind.save()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{behind.schema_name}"')
    try:
        result = manage("platform_migrate", "--parallel", "2")
        assert result.returncode == 0, result.stderr[-2000:]
        assert "migrated 1 leader schema(s)" in result.stdout
        with schema_context(behind.schema_name):
            assert Member.objects.count() == 0  # the table now exists

        result = manage("platform_migrate", "--parallel", "2", "--all")
        assert result.returncode == 0, result.stderr[-2000:]
        assert f"migrated {Leader.objects.count()} leader schema(s)" in result.stdout
    finally:
        for leader in [*made, behind]:
            Leader.objects.get(pk=leader.pk).delete(force_drop=True)
        assert not schema_exists(behind.schema_name)
