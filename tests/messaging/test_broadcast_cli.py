"""`manage.py broadcast`: preview, send, status, cancel, with one-line errors."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from messaging.models import Broadcast
from tests import builders
from tests.places import GUADALAJARA, MONTERREY, MUMBAI, TOKYO


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("broadcast", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def tag(alice_schema):
    tag = builders.new_tag()
    for _ in range(3):
        builders.fan(tag=tag)
    builders.fan(tag=tag, gender="male")
    return tag


def test_preview_prints_the_count_and_the_cost(tag, world):
    line = run(
        "alice",
        "preview",
        "--filter",
        f'{{"tags_any": ["{tag}"], "genders": ["female"]}}',
        "--body",
        "é" * 161,
    )
    assert line.startswith("3 members, 2 segment(s) each (GSM-7), 6 segments")
    assert "at 1 segments/s" in line


def test_send_queues_a_broadcast_and_prints_its_id_then_status_and_cancel_follow_it(tag, world):
    line = run("alice", "send", "--body", "Rally at 7!", "--filter", f'{{"tags_any": ["{tag}"]}}', "--now")
    broadcast_id = int(line.split()[0])
    assert line == f"{broadcast_id} queued to 4 members"
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.get(pk=broadcast_id).status == Broadcast.Status.SENDING
    assert run("alice", "status", str(broadcast_id)).startswith(
        f"{broadcast_id} sending: 4 recipients, 4 queued, 0 sent"
    )
    assert (
        run("alice", "cancel", str(broadcast_id))
        == f"{broadcast_id} cancelled; 4 deliveries will not be sent"
    )
    assert run("alice", "status", str(broadcast_id), "--watch").startswith(f"{broadcast_id} cancelled:")


def test_send_at_a_local_time_schedules_it(tag, world):
    line = run("alice", "send", "--body", "Tomorrow!", "--at", "2031-01-05T18:00")
    assert line.endswith("scheduled for 2031-01-05T18:00:00-05:00")  # the leader's zone: New York


def test_preview_and_send_select_members_by_region_name_in_any_country(alice_schema, world):
    tag = builders.new_tag()
    for place in (GUADALAJARA, MONTERREY, TOKYO, MUMBAI):
        builders.fan(tag=tag, place=place)

    def preview(regions: list[str]) -> str:
        return run("alice", "preview", "--filter", json.dumps({"tags_any": [tag], "regions": regions}))

    assert preview(["jalisco"]) == "1 members"
    assert preview(["Tokyo", "MAHARASHTRA"]) == "2 members"
    line = run(
        "alice",
        "send",
        "--body",
        "Hola",
        "--filter",
        json.dumps({"tags_any": [tag], "regions": ["Jalisco"]}),
        "--now",
    )
    assert line.endswith("queued to 1 members")
    with schema_context(world.alice.schema_name):
        assert Broadcast.objects.get(pk=int(line.split()[0])).filters["regions"] == ["Jalisco"]
    with pytest.raises(CommandError, match="no region is called 'Jaliscoo'"):
        preview(["Jaliscoo"])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("nobody", "preview"), "no leader with the slug 'nobody'"),
        (("alice", "preview", "--filter", "{cities"), "--filter is not valid JSON"),
        (("alice", "preview", "--filter", '{"town": 1}'), "Unknown filter 'town'"),
        (("alice", "send", "--body", "x" * 401), "401 characters long; the limit is 400"),
        (("alice", "send", "--body", "hi", "--at", "soon"), "--at 'soon' is not an ISO date and time"),
        (("alice", "send", "--body", "hi", "--at", "2020-01-01T10:00"), "in the past"),
        (("alice", "status", "999999"), "no broadcast 999999 for this leader"),
        (("alice", "cancel", "999999"), "no broadcast 999999 for this leader"),
    ],
)
def test_mistakes_get_a_one_line_error(alice_schema, args, error):
    with pytest.raises(CommandError, match=error) as raised:
        run(*args)
    assert "\n" not in str(raised.value)
