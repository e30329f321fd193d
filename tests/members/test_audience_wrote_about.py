"""Audiences gain "wrote about topic": members triage recorded (members.MemberTopic) as having written
about any of the given topics, selected in SQL with EXISTS; the broadcast composer offers it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from members.audience import AudienceError, AudienceFilter, audience_count, audience_members
from members.models import Member, MemberTopic
from tests import builders
from tests.console.conftest import client_for


def test_wrote_about_selects_the_members_who_wrote_about_a_topic(alice_schema):
    tag = builders.new_tag()
    water = builders.topic(name="Water")
    health = builders.topic(name="Health")
    jobs = builders.topic(name="Jobs")
    wrote_water = builders.fan(tag=tag)
    wrote_health = builders.fan(tag=tag)
    wrote_both = builders.fan(tag=tag)
    builders.fan(tag=tag)  # wrote about nothing
    opted_out = builders.fan(tag=tag, status=Member.Status.OPTED_OUT)
    for member, topic in (
        (wrote_water, water),
        (wrote_health, health),
        (wrote_both, water),
        (wrote_both, health),
        (opted_out, water),
    ):
        MemberTopic.objects.create(member=member, topic=topic, texts=2)

    def selected(**filters) -> set[int]:
        return set(audience_members({"tags_any": [tag], **filters}).values_list("pk", flat=True))

    assert selected(wrote_about=[water.pk]) == {wrote_water.pk, wrote_both.pk}  # never the opted-out
    assert selected(wrote_about=[water.pk, health.pk]) == {wrote_water.pk, wrote_health.pk, wrote_both.pk}
    assert selected(wrote_about=[jobs.pk]) == set()
    assert audience_count({"tags_any": [tag], "wrote_about": [str(health.pk)]}) == 2
    with CaptureQueriesContext(connection) as queries:
        list(audience_members({"wrote_about": [water.pk]}))
    assert "EXISTS" in queries.captured_queries[-1]["sql"]
    assert "members_membertopic" in queries.captured_queries[-1]["sql"]


def test_wrote_about_round_trips_and_refuses_bad_ids(alice_schema):
    water = builders.topic(name="Water")
    audience = AudienceFilter.from_dict({"wrote_about": [water.pk, str(water.pk)]})
    assert audience.wrote_about == (water.pk,)
    assert audience.to_dict() == {"wrote_about": [water.pk]}
    assert AudienceFilter.from_dict(audience.to_dict()) == audience
    for bad in (["water"], [0], [-1], [True], 999999, {"id": 1}):
        with pytest.raises(AudienceError) as error:
            AudienceFilter.from_dict({"wrote_about": bad})
        assert "wrote_about" in str(error.value) or error.value.key == "wrote_about"
    # A stored filter whose topic was deleted since still loads, and selects no one.
    stored = AudienceFilter.from_dict({"wrote_about": [999999]}, stored=True)
    assert stored.wrote_about == (999999,)
    assert audience_count(stored) == 0


def test_the_composer_offers_wrote_about(db, world):
    mark = client_for(world.alice, "mark")
    tag = builders.new_tag()
    with schema_context(world.alice.schema_name):
        water = builders.topic(name="Water")
        writer = builders.fan(tag=tag)
        builders.fan(tag=tag)
        MemberTopic.objects.create(member=writer, topic=water, texts=1)
    page = mark.get("/broadcasts/new/").content.decode()
    assert "Wrote about topic" in page and f'value="{water.pk}"' in page
    count = mark.get("/broadcasts/new/count.json", {"tags_any": tag, "wrote_about": str(water.pk)}).json()
    assert count["count"] == 1
    assert mark.get("/broadcasts/new/count.json", {"wrote_about": "999999"}).status_code == 400
    preset = mark.get("/broadcasts/new/", {"wrote_about": str(water.pk)}).content.decode()
    assert re.search(rf'<input type="checkbox" name="wrote_about" value="{water.pk}"[^>]* checked>', preset)
