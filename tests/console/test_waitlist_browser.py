"""The owner opens a pilot region from the Waitlist page in a real browser (Debian's chromium): the counts,
the button, the invitations going out once, then the end of the pilot."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.models import WaitlistEntry
from messaging.models import Message
from signup.waitlist import TASK
from tests.console.test_browser import _log_in
from tests.phones import unique_phone
from tests.queue import queue_clear, run_queued

pytestmark = pytest.mark.browser


def test_the_owner_opens_a_region_then_everywhere(live_db, live_app, world, page, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    leader = world.alice
    manitoba = [unique_phone() for _ in range(3)]
    nunavut = unique_phone()
    Leader.objects.filter(pk=leader.pk).update(pilot_regions=["Quebec"], segments_per_second=100)
    with schema_context(leader.schema_name):
        for phone in manitoba:
            WaitlistEntry.objects.create(phone=phone, country="CA", region="Manitoba", language="es")
        WaitlistEntry.objects.create(phone=nunavut, country="CA", region="Nunavut")
    try:
        _log_in(page, live_app, leader)
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Waitlist").click()
        page.get_by_role("heading", name="Waitlist", level=1).wait_for()
        row = page.get_by_role("row").filter(has_text="Manitoba")
        assert row.get_by_role("cell").nth(2).inner_text() == "3"  # waiting

        row.get_by_role("button", name="Open Manitoba").click()
        page.get_by_text("Opened: Manitoba. Their waitlist is being invited.").wait_for()
        assert "Manitoba" in page.locator("#pilot-status").inner_text()
        run_queued(TASK, "broadcasts")  # the broadcasts' worker
        assert sorted(message["to"] for message in twilio.messages) == sorted(manitoba)
        assert all("¡ya estamos en tu zona!" in message["body"] for message in twilio.messages)

        page.reload()
        row = page.get_by_role("row").filter(has_text="Manitoba")
        assert [row.get_by_role("cell").nth(n).inner_text() for n in (2, 3)] == ["0", "3"]
        assert row.get_by_role("button").count() == 0

        page.get_by_role("button", name="Open everywhere").click()
        page.get_by_text("No pilot: fans may join from everywhere you accept.").wait_for()
        run_queued(TASK, "broadcasts")
        assert sorted(message["to"] for message in twilio.messages) == sorted([*manitoba, nunavut])
        assert Leader.objects.get(pk=leader.pk).pilot_regions == []
    finally:
        queue_clear("broadcasts")
        connection.set_schema_to_public()
        Leader.objects.filter(pk=leader.pk).update(pilot_regions=[], segments_per_second=None)
        with schema_context(leader.schema_name):
            WaitlistEntry.objects.filter(phone__in=[*manitoba, nunavut]).delete()
            Message.objects.filter(phone__in=[*manitoba, nunavut]).delete()
