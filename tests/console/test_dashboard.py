"""The dashboard's figures on a small known community, and its charts as inline SVG."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone
from django_tenants.utils import schema_context

from console.dashboard import selectors
from members.models import Member
from tests import builders
from tests.console.conftest import client_for


def _local_midnight(leader) -> datetime.datetime:
    tz = zoneinfo.ZoneInfo(leader.time_zone)
    return timezone.now().astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def test_the_dashboard_counts_a_known_community(dana):
    now = timezone.now()
    midnight = _local_midnight(dana)
    today = midnight.date()
    with schema_context(dana.schema_name):
        # Joined today (after local midnight), in the last week, and long ago.
        builders.member(
            first_name="A",
            joined_at=max(midnight + datetime.timedelta(minutes=1), now - datetime.timedelta(seconds=5)),
            city="Montréal",
            place_name="Montréal",
            gender="female",
            language="fr",
            birth_date=today.replace(year=today.year - 20),
        )
        builders.member(
            first_name="B",
            joined_at=now - datetime.timedelta(days=3),
            place_name="Montréal",
            gender="female",
            language="fr",
            birth_date=today.replace(year=today.year - 40),
        )
        builders.member(
            first_name="C",
            joined_at=now - datetime.timedelta(days=40),
            place_name="Toronto",
            gender="male",
            language="en",
        )
        builders.member(
            first_name="D",
            joined_at=now - datetime.timedelta(days=200),
            city="Smallville",
            gender="male",
            language="en",
            birth_date=today.replace(year=today.year - 70),
        )
        builders.member(
            first_name="E",
            joined_at=now - datetime.timedelta(days=300),
            status=Member.Status.OPTED_OUT,
            opted_out_at=now,
            language="es",
        )
        builders.conversation(phone="+12025550177", unread_count=2)
        builders.conversation(phone="+12025550178", unread_count=0)
        stats = selectors.dashboard_stats_compute(leader=dana)
    assert (stats.total, stats.subscribed) == (5, 4)
    assert stats.joined_today == 1
    assert stats.joined_week == 2
    assert stats.opted_out_month == 1
    assert stats.unread_conversations == 1
    assert stats.cities == [("Montréal", 2), ("Smallville", 1), ("Toronto", 1)]
    assert dict(stats.genders) == {"female": 2, "male": 2, "": 1}
    assert stats.age_bands == [("18–24", 1), ("35–44", 1), ("65+", 1), ("", 2)]
    assert stats.languages[0] == ("en", 2) and dict(stats.languages)["es"] == 1
    assert len(stats.daily_joins) == 90 and stats.daily_joins[-1] == (today, 1)
    assert sum(n for _, n in stats.daily_joins) == 3  # today, 3 days and 40 days ago


def test_the_dashboard_page_draws_its_charts_as_inline_svg_and_fetches_nothing(dana):
    with schema_context(dana.schema_name):
        builders.member(first_name="A", place_name="Laval")
    page = client_for(dana, "dora").get("/").content.decode()
    assert page.count("<svg") >= 5
    assert 'data-figure="total">1<' in page
    assert "Laval" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in page


def test_the_dashboard_is_cached_for_a_minute_then_recomputed(dana):
    with schema_context(dana.schema_name):
        builders.member()
        assert selectors.dashboard_stats(leader=dana).total == 1
        builders.member()
        assert selectors.dashboard_stats(leader=dana).total == 1
        selectors.dashboard_stats_forget()
        assert selectors.dashboard_stats(leader=dana).total == 2


def test_a_responder_sees_only_the_inbox_count_on_the_dashboard(db, world):
    page = client_for(world.alice, "rita").get("/").content.decode()
    assert 'data-figure="unread"' in page and 'data-figure="total"' not in page


def test_an_anonymous_visitor_sees_how_to_join_and_the_team_login(db, world):
    page = client_for(world.alice).get("/").content.decode()
    assert "Alice Martin" in page and "to join" in page and 'href="/login/"' in page
