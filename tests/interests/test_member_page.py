"""The console's member page: the topics a member follows, added and removed by a teammate, and the refusal
(with its reason) to follow again a topic the member left."""

from __future__ import annotations

import html

import pytest

from members.models import MemberInterest
from members.services import member_topic_follow, member_topic_leave
from tests import builders

pytestmark = pytest.mark.django_db


def page(client, member) -> str:
    response = client.get(f"/members/{member.pk}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_member_page_lists_the_topics_followed_and_those_the_member_left(mark, in_alice):
    member = builders.member(first_name="Inès")
    followed, left = (
        builders.topic(name=builders.new_tag("Housing ")),
        builders.topic(name=builders.new_tag("Jobs ")),
    )
    member_topic_follow(member=member, topic=followed, source="survey")
    member_topic_leave(member=member, topic=left, source="keyword")

    text = page(mark, member)

    assert f"<strong>{followed.name}</strong>" in text and "(Survey answer)" in text
    assert f'<span class="left">{left.name}</span>' in text
    assert "by the member: only they can follow it again" in text


def test_a_teammate_adds_and_removes_a_topic(mark, in_alice):
    member = builders.member()
    topic = builders.topic()

    added = mark.post(f"/members/{member.pk}/topics/", {"topic": topic.pk, "action": "follow"}, follow=True)

    assert added.status_code == 200
    assert "now follows" in html.unescape(added.content.decode())
    row = MemberInterest.objects.get(member=member, topic=topic)
    assert (row.following, row.source) == (True, "console")

    removed = mark.post(f"/members/{member.pk}/topics/", {"topic": topic.pk, "action": "leave"}, follow=True)

    assert "no longer follows" in html.unescape(removed.content.decode())
    row.refresh_from_db()
    assert (row.following, row.left_at) == (False, None)
    assert "removed by the team" in page(mark, member)


def test_adding_a_topic_the_member_left_is_refused_with_the_reason_shown(mark, in_alice):
    member = builders.member(first_name="Omar", last_name="B")
    topic = builders.topic(name=builders.new_tag("Climate "))
    member_topic_follow(member=member, topic=topic, source="signup")
    member_topic_leave(member=member, topic=topic, source="keyword")

    response = mark.post(f"/members/{member.pk}/topics/", {"topic": topic.pk, "action": "follow"})

    assert response.status_code == 400
    text = html.unescape(response.content.decode())
    assert f"Omar B left the topic “{topic.name}” themselves" in text
    assert f"by texting JOIN {topic.name}" in text
    assert MemberInterest.objects.get(member=member, topic=topic).following is False


def test_a_topic_that_does_not_exist_or_a_get_is_refused(mark, in_alice):
    member = builders.member()

    missing = mark.post(f"/members/{member.pk}/topics/", {"topic": 999_999, "action": "follow"})
    assert missing.status_code == 400
    assert "This topic no longer exists." in html.unescape(missing.content.decode())
    assert mark.post(f"/members/{member.pk}/topics/", {"action": "follow"}).status_code == 400
    assert mark.get(f"/members/{member.pk}/topics/").status_code == 405
    assert not MemberInterest.objects.filter(member=member).exists()


def test_a_responder_cannot_change_a_members_topics(rita, in_alice):
    member, topic = builders.member(), builders.topic()

    assert (
        rita.post(f"/members/{member.pk}/topics/", {"topic": topic.pk, "action": "follow"}).status_code == 403
    )
    assert not MemberInterest.objects.filter(member=member).exists()
