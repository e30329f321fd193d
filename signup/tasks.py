"""Queue tasks for signup: ids and a schema name in, schema_context inside, claim before acting."""

from __future__ import annotations

from django.conf import settings
from django_tenants.utils import schema_context

from leaders.models import Leader
from signup import waitlist


def waitlist_invite(schema_name: str) -> str:
    """Invite the waitlisted phones inside the leader's open area (signup.waitlist), for a few minutes;
    then a fresh task if more are left, or one in a minute if Twilio asked to slow down."""
    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return "no such leader"
    budget = float(getattr(settings, "WAITLIST_TIME_BUDGET", waitlist.TIME_BUDGET))
    with schema_context(schema_name):
        result = waitlist.waitlist_invite(leader=leader, time_budget=budget)
    if result.outcome == "budget":
        waitlist.waitlist_invite_enqueue(schema_name)
    elif result.outcome == "retry":
        waitlist.waitlist_invite_later(schema_name)
    return f"{result.outcome}: invited {result.invited}, skipped {result.skipped}, failed {result.failed}"
