"""The signup form's "What matters to you?" in a real browser (Debian's chromium), right to left in Arabic."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from leaders.models import Leader
from leaders.services import leader_create
from members.models import MemberInterest
from places.gazetteer import preload
from tests.phones import unique_phone
from tests.signup.helpers import link_issue
from topics.models import Topic

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True, scope="module")
def _gazetteer_loaded():
    preload()


@pytest.fixture
def leader(live_db):
    """A leader of this test's own, with three topics (alice's signup page must keep no topics for the other
    browser tests). Dropped afterwards."""
    made = leader_create(
        slug=f"topics-{uuid.uuid4().hex[:8]}", name="Salma Haddad", phone_number=unique_phone()
    )
    with schema_context(made.schema_name):
        for position, name in enumerate(("الصحة", "السكن", "المناخ"), start=1):
            Topic.objects.create(name=name, position=position)
    yield made
    connection.set_schema_to_public()
    Leader.objects.get(pk=made.pk).delete(force_drop=True)


def test_an_arabic_fan_ticks_what_matters_to_them_right_to_left_and_follows_it(live_app, leader, page):
    path, phone = link_issue(leader, language="ar")
    page.goto(live_app.leader_url(leader, path))
    assert page.locator("html").get_attribute("dir") == "rtl"

    topics = page.get_by_role("group", name="ما الذي يهمك؟")
    assert topics.is_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('fieldset.topics')).direction") == "rtl"
    health, housing, climate = (
        topics.get_by_label(name, exact=True) for name in ("الصحة", "السكن", "المناخ")
    )
    # Right to left: each box stands to the right of its label.
    box, label = housing.bounding_box(), topics.get_by_text("السكن", exact=True).bounding_box()
    assert box["x"] > label["x"]

    page.get_by_label("الاسم الأول").fill("ليلى")
    page.get_by_label("الجنس").select_option("female")
    page.get_by_label("تاريخ الميلاد").fill("1991-04-12")
    page.get_by_label("المدينة").fill("Montréal")
    health.check()
    climate.check()
    page.locator("#id_consent").check()
    page.get_by_role("button", name="انضمام").click()

    # The thanks page after the form is posted: waited for, not read the instant after the click.
    expect(page.get_by_role("heading", name="شكرًا لك يا ليلى!")).to_be_visible()
    with schema_context(leader.schema_name):
        followed = {
            row.topic.name: row.source
            for row in MemberInterest.objects.filter(member__phone=phone, following=True).select_related(
                "topic"
            )
        }
    assert followed == {"الصحة": "signup", "المناخ": "signup"}
