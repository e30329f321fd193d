"""Following and leaving topics (members.services.member_topic_follow / member_topic_leave): who may follow a
topic a member left, and what is recorded."""

from __future__ import annotations

import pytest

from members.models import MemberInterest
from members.selectors import member_interests, topic_followers
from members.services import FollowRefusedError, member_erase, member_topic_follow, member_topic_leave
from tests import builders

pytestmark = pytest.mark.django_db

Source = MemberInterest.Source


def test_a_member_follows_a_topic_once_and_keeps_the_first_source(alice_schema):
    member, topic = builders.member(), builders.topic()

    assert member_topic_follow(member=member, topic=topic, source=Source.SIGNUP) is True
    assert member_topic_follow(member=member, topic=topic, source=Source.CONSOLE) is False

    (row,) = MemberInterest.objects.filter(member=member)
    assert (row.topic_id, row.following, row.source, row.left_at) == (topic.pk, True, Source.SIGNUP, None)
    assert list(topic_followers(topic)) == [member]


@pytest.mark.parametrize("source", [Source.CONSOLE, Source.API, Source.IMPORT])
def test_after_the_member_left_a_topic_a_teammate_the_api_or_an_import_is_refused_with_the_reason(
    alice_schema, source
):
    member, topic = builders.member(first_name="Nadia", last_name="K"), builders.topic(name="Housing")
    member_topic_follow(member=member, topic=topic, source=Source.SURVEY)
    assert member_topic_leave(member=member, topic=topic, source=Source.KEYWORD) is True

    with pytest.raises(FollowRefusedError) as refused:
        member_topic_follow(member=member, topic=topic, source=source)

    message = refused.value.messages[0]
    assert "Nadia K left the topic “Housing” themselves" in message
    assert "only they can follow it again" in message
    row = MemberInterest.objects.get(member=member, topic=topic)
    assert (row.following, row.source) == (False, Source.KEYWORD) and row.left_at is not None


@pytest.mark.parametrize("source", [Source.SURVEY, Source.KEYWORD, Source.SIGNUP])
def test_after_the_member_left_a_topic_their_own_word_follows_it_again(alice_schema, source):
    member, topic = builders.member(), builders.topic()
    member_topic_follow(member=member, topic=topic, source=Source.CONSOLE)
    member_topic_leave(member=member, topic=topic, source=Source.KEYWORD)

    assert member_topic_follow(member=member, topic=topic, source=source) is True

    row = MemberInterest.objects.get(member=member, topic=topic)
    assert (row.following, row.source) == (True, source)
    # Their own word undid their own leave: a teammate's later removal is the team's to undo (a later leave
    # of theirs would be theirs again).
    assert row.left_at is None
    member_topic_leave(member=member, topic=topic, source=Source.CONSOLE)
    assert member_topic_follow(member=member, topic=topic, source=Source.CONSOLE) is True
    member_topic_leave(member=member, topic=topic, source=Source.KEYWORD)
    with pytest.raises(FollowRefusedError):
        member_topic_follow(member=member, topic=topic, source=Source.CONSOLE)


def test_a_member_who_says_stop_to_a_topic_they_never_followed_is_recorded_as_having_left_it(alice_schema):
    member, topic = builders.member(), builders.topic()

    assert member_topic_leave(member=member, topic=topic, source=Source.KEYWORD) is False

    row = MemberInterest.objects.get(member=member, topic=topic)
    assert row.following is False and row.left_at is not None
    with pytest.raises(FollowRefusedError):
        member_topic_follow(member=member, topic=topic, source=Source.API)


def test_a_teammates_removal_is_not_the_members_word_so_the_team_may_add_the_topic_back(alice_schema):
    member, topic = builders.member(), builders.topic()
    member_topic_follow(member=member, topic=topic, source=Source.API)

    assert member_topic_leave(member=member, topic=topic, source=Source.CONSOLE) is True
    assert member_topic_leave(member=member, topic=topic, source=Source.CONSOLE) is False
    row = MemberInterest.objects.get(member=member, topic=topic)
    assert (row.following, row.left_at) == (False, None)
    assert list(topic_followers(topic)) == []

    assert member_topic_follow(member=member, topic=topic, source=Source.CONSOLE) is True
    assert list(topic_followers(topic)) == [member]


def test_a_teammate_removing_a_topic_nobody_follows_records_nothing(alice_schema):
    member, topic = builders.member(), builders.topic()

    assert member_topic_leave(member=member, topic=topic, source=Source.CONSOLE) is False
    assert not MemberInterest.objects.filter(member=member).exists()


def test_an_unknown_source_is_a_programming_error(alice_schema):
    member, topic = builders.member(), builders.topic()

    with pytest.raises(ValueError, match="unknown interest source"):
        member_topic_follow(member=member, topic=topic, source="teammate")
    with pytest.raises(ValueError, match="unknown interest source"):
        member_topic_leave(member=member, topic=topic, source="")


def test_a_members_interests_are_listed_in_the_leaders_topic_order_with_those_they_left(alice_schema):
    member = builders.member()
    second, first = builders.topic(position=2), builders.topic(position=1)
    member_topic_follow(member=member, topic=second, source=Source.SIGNUP)
    member_topic_leave(member=member, topic=first, source=Source.KEYWORD)

    rows = member_interests(member)

    assert [(row.topic_id, row.following) for row in rows] == [(first.pk, False), (second.pk, True)]


def test_erasing_a_member_erases_what_they_follow(alice_schema):
    member, topic = builders.member(), builders.topic()
    member_topic_follow(member=member, topic=topic, source=Source.SIGNUP)

    member_erase(member=member, source="console")

    assert not MemberInterest.objects.filter(member=member).exists()
