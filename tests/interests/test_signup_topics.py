"""The signup form's "What matters to you?": the leader's topics as optional boxes; the ones ticked are followed
(source signup), even one the fan left before. Through Django's test client; the browser test is apart."""

from __future__ import annotations

import html

import pytest
from django_tenants.utils import schema_context

from members.models import Member, MemberInterest
from members.services import member_topic_follow, member_topic_leave
from tests import builders
from tests.interests.conftest import topic_named
from tests.signup.helpers import host, link_issue, valid_form

pytestmark = pytest.mark.django_db


def interests_of(leader, phone: str) -> dict[str, tuple[bool, str]]:
    with schema_context(leader.schema_name):
        return {
            row.topic.name: (row.following, row.source)
            for row in MemberInterest.objects.filter(member__phone=phone).select_related("topic")
        }


def test_without_topics_the_form_asks_nothing_about_them(client, world):
    path, _phone = link_issue(world.bob)

    page = client.get(path, HTTP_HOST=host(world.bob)).content.decode()

    assert "What matters to you?" not in page and 'name="topics"' not in page


def test_the_topics_ticked_on_the_form_are_followed(client, world):
    housing = topic_named(world.alice, "Housing")
    health = topic_named(world.alice, "Health")
    path, phone = link_issue(world.alice)

    page = html.unescape(client.get(path, HTTP_HOST=host(world.alice)).content.decode())
    assert "<legend>What matters to you? " in page
    assert f'name="topics" value="{housing.pk}"' in page and f'name="topics" value="{health.pk}"' in page

    response = client.post(path, valid_form(topics=[str(housing.pk)]), HTTP_HOST=host(world.alice))

    assert response.status_code == 200, response.content[:2000]
    assert interests_of(world.alice, phone) == {"Housing": (True, "signup")}


def test_ticking_no_topic_joins_all_the_same(client, world):
    topic_named(world.alice, "Housing")
    path, phone = link_issue(world.alice)

    client.post(path, valid_form(), HTTP_HOST=host(world.alice))

    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=phone).exists()
    assert interests_of(world.alice, phone) == {}


def test_a_topic_the_fan_left_is_followed_again_from_their_own_form(client, world):
    housing = topic_named(world.alice, "Housing")
    path, phone = link_issue(world.alice)
    member = builders.member(leader=world.alice, phone=phone)
    with schema_context(world.alice.schema_name):
        member_topic_follow(member=member, topic=housing, source="survey")
        member_topic_leave(member=member, topic=housing, source="keyword")

    client.post(path, valid_form(topics=[str(housing.pk)]), HTTP_HOST=host(world.alice))

    assert interests_of(world.alice, phone) == {"Housing": (True, "signup")}


def test_a_topic_that_is_not_offered_is_a_form_error_and_nothing_is_stored(client, world):
    topic_named(world.alice, "Housing")
    path, phone = link_issue(world.alice, language="fr")

    response = client.post(path, valid_form(topics=["999999"]), HTTP_HOST=host(world.alice))

    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "Choisissez parmi les sujets proposés." in page
    assert 'href="#id_topics"' in page and 'id="id_topics"' in page
    with schema_context(world.alice.schema_name):
        assert not Member.objects.filter(phone=phone).exists()


@pytest.mark.parametrize(
    ("language", "legend"),
    [
        ("fr", "Qu'est-ce qui compte pour vous ?"),
        ("es", "¿Qué te importa?"),
        ("de", "Was ist dir wichtig?"),
        ("ar", "ما الذي يهمك؟"),
    ],
)
def test_the_question_is_asked_in_the_fans_language(client, world, language, legend):
    topic_named(world.alice, "Housing")
    path, _phone = link_issue(world.alice, language=language)

    page = html.unescape(client.get(path, HTTP_HOST=host(world.alice)).content.decode())

    assert legend in page
