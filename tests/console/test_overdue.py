"""Overdue conversations: marked in the inbox list and the thread, counted in the filter bar and on the
dashboard, listed by the `overdue` folder; "assigned to my teams" lists what routing gave the teammate's teams."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

from accounts.models import User
from messaging.models import Conversation
from tests import builders
from triage.models import Route, Team


def _overdue_count() -> int:
    return Conversation.objects.filter(reply_due_at__lt=timezone.now()).count()


def test_an_overdue_conversation_is_marked_counted_and_filtered(rita, in_alice):
    before = _overdue_count()
    now = timezone.now()
    late = builders.conversation(reply_due_at=now - datetime.timedelta(hours=2, minutes=5))
    builders.message(conversation=late, body="Still waiting")
    very_late = builders.conversation(reply_due_at=now - datetime.timedelta(days=3, minutes=1))
    in_time = builders.conversation(reply_due_at=now + datetime.timedelta(hours=1))
    answered = builders.conversation()

    page = rita.get("/inbox/").content.decode()
    assert f"Overdue ({before + 2})" in page
    assert "Overdue by 2 h" in page and "Overdue by 3 d" in page

    listed = rita.get("/inbox/", {"folder": "overdue"}).content.decode()
    assert f"/inbox/{late.pk}/" in listed and f"/inbox/{very_late.pk}/" in listed
    assert f"/inbox/{in_time.pk}/" not in listed and f"/inbox/{answered.pk}/" not in listed

    thread = rita.get(f"/inbox/{late.pk}/").content.decode()
    assert "Overdue by 2 h" in thread
    assert "Reply due by" in rita.get(f"/inbox/{in_time.pk}/").content.decode()
    assert "Overdue by" not in rita.get(f"/inbox/{answered.pk}/").content.decode()

    for client in (rita,):
        dashboard = client.get("/").content.decode()
        assert f'data-figure="overdue">{before + 2}<' in dashboard


def test_the_dashboard_of_a_manager_counts_overdue_conversations_too(mark, in_alice):
    before = _overdue_count()
    builders.conversation(reply_due_at=timezone.now() - datetime.timedelta(minutes=10))
    assert f'data-figure="overdue">{before + 1}<' in mark.get("/").content.decode()


def test_assigned_to_my_teams_lists_conversations_routed_to_the_teammates_teams(rita, in_alice):
    mine = Team.objects.create(name=f"Mine {uuid.uuid4().hex[:6]}")
    mine.users.set([User.objects.get(username="rita")])
    other = Team.objects.create(name=f"Other {uuid.uuid4().hex[:6]}")
    ours = builders.conversation(assigned_to=User.objects.get(username="mark"))
    theirs = builders.conversation()
    Route.objects.create(conversation=ours, team=mine)
    Route.objects.create(conversation=theirs, team=other)
    listed = rita.get("/inbox/", {"folder": "teams"}).content.decode()
    assert "Assigned to my teams" in listed
    assert f"/inbox/{ours.pk}/" in listed and f"/inbox/{theirs.pk}/" not in listed
