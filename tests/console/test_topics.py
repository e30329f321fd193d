"""The topics page: owners and managers define the subjects triage sorts texts into; responders cannot.
Limits and bad input get form errors; another leader's topics never show."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from tests import builders
from topics.models import MAX_TOPICS, Topic
from triage.models import DEFAULT_THRESHOLD, Rule, Team


def _names(leader) -> list[str]:
    with schema_context(leader.schema_name):
        return list(Topic.objects.values_list("name", flat=True))


def test_a_manager_adds_edits_reorders_and_deletes_topics(mark, world):
    response = mark.post(
        "/topics/new/",
        {
            "name": "  Water  supply ",
            "description": "Pipes, shortages, bills",
            "examples": "no water since monday\n\nel agua no llega\nmaa maa 💧",
            "keywords": "water, agua, eau",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/topics/"
    mark.post("/topics/new/", {"name": "Security", "examples": "", "keywords": ""})
    with schema_context(world.alice.schema_name):
        water = Topic.objects.get(name="Water supply")
        security = Topic.objects.get(name="Security")
    assert water.examples == ["no water since monday", "el agua no llega", "maa maa 💧"]
    assert water.keywords == ["agua", "eau", "water"]
    assert _names(world.alice) == ["Water supply", "Security"]

    page = mark.get("/topics/").content.decode()
    assert "Water supply" in page and "No corrections yet" in page

    # Reorder: Security up.
    assert mark.post(f"/topics/{security.pk}/move/", {"direction": "up"}).status_code == 302
    assert _names(world.alice) == ["Security", "Water supply"]

    form = mark.get(f"/topics/{water.pk}/").content.decode()
    assert "el agua no llega" in form and "agua, eau, water" in form
    response = mark.post(
        f"/topics/{water.pk}/", {"name": "Water", "description": "", "examples": "dry taps", "keywords": ""}
    )
    assert response.status_code == 302
    with schema_context(world.alice.schema_name):
        water.refresh_from_db()
    assert (water.name, water.examples, water.keywords) == ("Water", ["dry taps"], [])

    # Delete asks first, then deletes on POST.
    confirm = mark.get(f"/topics/{water.pk}/delete/")
    assert confirm.status_code == 200 and "Delete “Water”?" in confirm.content.decode()
    assert _names(world.alice) == ["Security", "Water"]
    assert mark.post(f"/topics/{water.pk}/delete/").status_code == 302
    assert _names(world.alice) == ["Security"]


def test_a_responder_cannot_see_or_change_topics(rita, world):
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
    assert rita.get("/topics/").status_code == 403
    assert rita.post("/topics/new/", {"name": "Sneaky"}).status_code == 403
    assert rita.post(f"/topics/{health.pk}/delete/").status_code == 403
    assert rita.post("/topics/threshold/", {"threshold": "0.9"}).status_code == 403
    assert "Sneaky" not in _names(world.alice) and "Health" in _names(world.alice)
    assert "/topics/" not in rita.get("/").content.decode()


def test_bad_topics_get_form_errors_and_nothing_is_saved(olivia, world):
    with schema_context(world.alice.schema_name):
        builders.topic(name="Health")
    cases = [
        ({"name": ""}, "Give the topic a name."),
        ({"name": "   "}, "Give the topic a name."),
        ({"name": "HEALTH"}, "A topic with this name already exists."),
        ({"name": "Jobs", "examples": "\n".join(f"text {n}" for n in range(21))}, "21 examples: at most 20."),
        ({"name": "Jobs", "examples": "x" * 401}, "An example is at most 400 characters long."),
        ({"name": "Jobs", "keywords": ",".join(f"k{n}" for n in range(21))}, "At most 20 keywords."),
    ]
    for data, error in cases:
        response = olivia.post("/topics/new/", {"examples": "", "keywords": "", **data})
        assert response.status_code == 400, data
        assert error in response.content.decode(), (data, error)
    assert _names(world.alice) == ["Health"]


def test_the_fifty_first_topic_is_refused(olivia, world):
    with schema_context(world.alice.schema_name):
        for n in range(MAX_TOPICS):
            builders.topic(name=f"Topic {n}", position=n)
    response = olivia.post("/topics/new/", {"name": "One too many", "examples": "", "keywords": ""})
    assert response.status_code == 400
    assert "A leader has at most 50 topics." in response.content.decode()
    assert len(_names(world.alice)) == MAX_TOPICS
    # The page no longer offers to add one; editing still works.
    assert "Add a topic" not in olivia.get("/topics/").content.decode()


def test_the_threshold_is_saved_on_the_leader_and_checked(olivia, world):
    page = olivia.get("/topics/").content.decode()
    assert f'value="{DEFAULT_THRESHOLD}"' in page and f"The default is {DEFAULT_THRESHOLD}." in page
    assert olivia.post("/topics/threshold/", {"threshold": "0.72"}).status_code == 302
    assert Leader.objects.get(pk=world.alice.pk).triage_threshold == 0.72
    for bad in ("1.5", "-0.1", "lots", ""):
        response = olivia.post("/topics/threshold/", {"threshold": bad})
        assert response.status_code == 400, bad
    assert Leader.objects.get(pk=world.alice.pk).triage_threshold == 0.72


def test_the_page_counts_this_weeks_texts_from_the_counters(mark, world):
    now = timezone.now()
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health")
        builders.count(hour=now, topic_id=health.pk, region="Jalisco", language="es", texts=40, open=3)
        builders.count(hour=now - datetime.timedelta(days=2), topic_id=health.pk, language="fr", texts=2)
        # Older than a week: not this week's.
        builders.count(hour=now - datetime.timedelta(days=8), topic_id=health.pk, texts=1000)
        builders.count(hour=now, topic_id=0, texts=5)
    page = mark.get("/topics/").content.decode()
    assert f'data-week="{health.pk}">42<' in page


def test_the_accuracy_on_the_teams_corrections_is_shown(mark, world, monkeypatch):
    seen = {"calls": 0}

    def accuracy(*, topics, corrections, threshold):
        seen.update(topics=topics, corrections=corrections, threshold=threshold, calls=seen["calls"] + 1)
        return 0.75, len(corrections)

    monkeypatch.setattr("console.topics.views.holdout_accuracy", accuracy)
    with schema_context(world.alice.schema_name):
        health = builders.topic(name="Health", examples=["my clinic closed"])
        jobs = builders.topic(name="Jobs")
        for body, moved_to in (("no doctor here", health), ("la fábrica cerró", jobs), ("hi", None)):
            text = builders.message(body=body)
            label = builders.label(message=text, topic=jobs)
            label.topic, label.corrected_at = moved_to, timezone.now()
            label.save()
        builders.label(message=builders.message(body="not corrected"), topic=health)
    page = mark.get("/topics/").content.decode()
    assert "Accuracy: 75% · 3 corrected texts" in page
    assert f'data-corrected="{health.pk}">1<' in page and f'data-corrected="{jobs.pk}">1<' in page
    assert sorted(seen["corrections"], key=str) == sorted(
        [("no doctor here", health.pk), ("la fábrica cerró", jobs.pk), ("hi", None)], key=str
    )
    assert [spec.name for spec in seen["topics"]] == ["Health", "Jobs"]
    assert seen["topics"][0].examples == ("my clinic closed",)
    assert seen["threshold"] == DEFAULT_THRESHOLD
    # Leave-one-out is costly: the figure is kept until the topics, corrections or threshold change.
    assert seen["calls"] == 1
    mark.get("/topics/")
    assert seen["calls"] == 1
    with schema_context(world.alice.schema_name):
        label = builders.label(message=builders.message(body="otra vez"), topic=health)
        label.topic, label.corrected_at = jobs, timezone.now()
        label.save()
    assert "Accuracy: 75% · 4 corrected texts" in mark.get("/topics/").content.decode()
    assert seen["calls"] == 2


def test_another_leaders_topics_never_show(olivia, world):
    with schema_context(world.bob.schema_name):
        secret = builders.topic(name="Bob's secret topic")
    page = olivia.get("/topics/").content.decode()
    assert "Bob&#x27;s secret topic" not in page and "secret topic" not in page
    assert olivia.get(f"/topics/{secret.pk}/").status_code == 404
    assert olivia.post(f"/topics/{secret.pk}/delete/").status_code == 404
    assert "Bob's secret topic" in _names(world.bob)


def test_the_delete_page_says_which_routing_rules_go_with_the_topic(mark, world):
    with schema_context(world.alice.schema_name):
        topic = builders.topic(name="Housing")
        team = Team.objects.create(name="Housing desk")
        Rule.objects.create(topic=topic, team=team, response_minutes=60)
        Rule.objects.create(topic=topic, team=team, country="CA", region="Quebec")
        quiet = builders.topic(name="Roads")
    page = mark.get(f"/topics/{topic.pk}/delete/").content.decode()
    assert "Routing rules that name this topic, deleted with it: 2." in page
    assert (
        "Routing rules that name this topic" not in mark.get(f"/topics/{quiet.pk}/delete/").content.decode()
    )
    assert mark.post(f"/topics/{topic.pk}/delete/").status_code == 302
    with schema_context(world.alice.schema_name):
        assert not Rule.objects.filter(team=team).exists()
