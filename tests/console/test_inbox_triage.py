"""The inbox with triage: the conversation list filtered by topic (or unsorted), region, language and dates;
each fan's text shows its topic, confidence, language and place; any teammate moves a text to another
topic or marks it unsorted, and sees the change at once."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tenants.utils import schema_context

from tests import builders
from triage.models import Label


def _thread_with_label(world, *, topic=None, **label_fields):
    with schema_context(world.alice.schema_name):
        fan = builders.fan(first_name="Amara")
        talk = builders.conversation(member=fan, last_message_at=timezone.now(), last_message_preview="…")
        text = builders.message(conversation=talk, member=fan, body="the clinic in Guadalajara closed")
        label = builders.label(message=text, topic=topic, **label_fields)
    return talk, text, label


def test_the_list_filters_by_topic_region_language_and_dates(rita, world):
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
        jobs = builders.topic(name="Jobs")

        def conversation_with(topic, region, language, when):
            talk = builders.conversation(last_message_at=now, last_message_preview="x")
            text = builders.message(conversation=talk, created_at=when)
            builders.label(message=text, topic=topic, region=region, language=language, received_at=when)
            return talk

        health_jalisco = conversation_with(health, "Jalisco", "es", now)
        health_quebec = conversation_with(health, "Quebec", "fr", now - datetime.timedelta(days=3))
        jobs_jalisco = conversation_with(jobs, "Jalisco", "es", now)
        unsorted_unknown = conversation_with(None, "", "", now)
        untriaged = builders.conversation(last_message_at=now, last_message_preview="x")
        builders.message(conversation=untriaged)
        everyone = {health_jalisco, health_quebec, jobs_jalisco, unsorted_unknown, untriaged}

    def listed(**query) -> set:
        page = rita.get("/inbox/", query).content.decode()
        return {talk for talk in everyone if f"/inbox/{talk.pk}/" in page}

    assert listed() == everyone
    assert listed(topic=health.pk) == {health_jalisco, health_quebec}
    assert listed(topic="unsorted") == {unsorted_unknown}
    assert listed(region="Jalisco") == {health_jalisco, jobs_jalisco}
    assert listed(region="unknown") == {unsorted_unknown}
    assert listed(language="FR") == {health_quebec}
    assert listed(topic=health.pk, region="Jalisco", language="es") == {health_jalisco}
    yesterday = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert listed(topic=health.pk, since=yesterday) == {health_jalisco}
    assert listed(topic=health.pk, until=yesterday) == {health_quebec}
    # A done conversation is in the "all" folder a cell opens with when it counts every text.
    with schema_context(world.alice.schema_name):
        health_quebec.status = "done"
        health_quebec.save()
    assert listed(topic=health.pk) == {health_jalisco}
    assert listed(topic=health.pk, folder="all") == {health_jalisco, health_quebec}


def test_the_list_filter_is_one_indexed_exists(db, world):
    from console.inbox.selectors import InboxFilter, conversations_filter
    from triage.selectors import Cell

    with schema_context(world.alice.schema_name):
        queryset = conversations_filter(InboxFilter(cell=Cell(topic=0, region="Jalisco")), user=None)
        sql = str(queryset.query)
    # Correlated on the label's conversation: the (conversation, open) index answers it per conversation.
    assert "EXISTS(SELECT" in sql and 'U0."conversation_id" = ("messaging_conversation"."id")' in sql


def test_each_text_shows_how_it_was_sorted(rita, world):
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
    talk, _text, _label = _thread_with_label(
        world,
        topic=health,
        confidence=0.83,
        language="es",
        city="Guadalajara",
        region="Jalisco",
        country="MX",
        place_source="phone",
    )
    page = rita.get(f"/inbox/{talk.pk}/").content.decode()
    assert "Topic: Health" in page and "Confidence: 83%" in page and "Language: Spanish" in page
    assert "Place: Guadalajara, Jalisco, MX (from the phone number)" in page

    talk2, _text2, _label2 = _thread_with_label(world, topic=None, confidence=0.31)
    page = rita.get(f"/inbox/{talk2.pk}/").content.decode()
    assert 'chip topic unsorted">Unsorted' in page
    assert "Language unknown" in page and "Place unknown" in page


def test_a_responder_moves_a_text_and_sees_it_at_once(rita, world):
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
        jobs = builders.topic(name="Jobs")
    talk, text, label = _thread_with_label(world, topic=health, region="Jalisco")

    response = rita.post(f"/inbox/{talk.pk}/texts/{text.pk}/topic/", {"topic": str(jobs.pk)})
    assert response.status_code == 302
    page = rita.get(response["Location"]).content.decode()
    assert "The text is now about “Jobs”." in page and "Topic: Jobs" in page and "Moved by the team" in page
    with schema_context(world.alice.schema_name):
        label.refresh_from_db()
        assert (label.topic_id, label.predicted_topic_id, label.corrected_by.username) == (
            jobs.pk,
            health.pk,
            "rita",
        )

    response = rita.post(f"/inbox/{talk.pk}/texts/{text.pk}/topic/", {"topic": "unsorted"})
    page = rita.get(response["Location"]).content.decode()
    assert "The text is now unsorted." in page
    with schema_context(world.alice.schema_name):
        label.refresh_from_db()
        assert label.topic_id is None and label.predicted_topic_id == health.pk


def test_a_move_needs_a_known_topic_the_right_text_and_a_post(rita, world):
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
    talk, text, label = _thread_with_label(world, topic=health)
    other_talk, other_text, _ = _thread_with_label(world, topic=health)
    url = f"/inbox/{talk.pk}/texts/{text.pk}/topic/"
    response = rita.post(url, {"topic": "999999"})
    assert response.status_code == 302
    assert "Choose a topic from the list." in rita.get(response["Location"]).content.decode()
    # Another conversation's text, through this conversation: not found.
    assert (
        rita.post(f"/inbox/{talk.pk}/texts/{other_text.pk}/topic/", {"topic": "unsorted"}).status_code == 404
    )
    assert rita.get(url).status_code == 405
    with schema_context(world.alice.schema_name):
        assert Label.objects.filter(corrected_at__isnull=False).count() == 0


def test_a_move_needs_the_csrf_token(db, world):
    from tests.console.conftest import client_for

    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
    talk, text, label = _thread_with_label(world, topic=health)
    client = client_for(world.alice, "rita")
    client.handler.enforce_csrf_checks = True
    assert client.post(f"/inbox/{talk.pk}/texts/{text.pk}/topic/", {"topic": "unsorted"}).status_code == 403
    with schema_context(world.alice.schema_name):
        label.refresh_from_db()
        assert label.topic_id == health.pk


def test_another_leaders_labels_never_show(olivia, world):
    with schema_context(world.bob.schema_name):
        secret = builders.topic(name="Bobsecret")
        bob_talk = builders.conversation(last_message_at=timezone.now(), last_message_preview="x")
        bob_text = builders.message(conversation=bob_talk)
        builders.label(message=bob_text, topic=secret, region="Bobland")
    assert olivia.get("/inbox/", {"region": "Bobland"}).content.decode().count("/inbox/") <= 10
    assert f"/inbox/{bob_talk.pk}/" not in olivia.get("/inbox/", {"region": "Bobland"}).content.decode()
    assert (
        olivia.post(f"/inbox/{bob_talk.pk}/texts/{bob_text.pk}/topic/", {"topic": "unsorted"}).status_code
        == 404
    )
