"""Keyword auto-replies on the inbound path: a member texts RALLY, gets the reply in the TwiML and a tag."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from leaders.routing import leader_cache_clear
from members.models import Member
from messaging.keyword_replies import keyword_cache_clear
from messaging.models import Conversation, KeywordReply, Message, SmsStatus
from tests import builders
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_caches():
    leader_cache_clear()
    keyword_cache_clear()
    yield
    leader_cache_clear()
    keyword_cache_clear()


@pytest.fixture
def rally(world):
    with schema_context(world.alice.schema_name):
        return KeywordReply.objects.create(
            keyword="RALLY", reply="Rally: Saturday 10am, City Hall.", tag="Rally"
        )


def test_a_member_texting_a_keyword_gets_its_reply_in_the_twiml_and_its_tag(client, world, rally):
    member = builders.member(leader=world.alice, tags=["donor"])
    response = text(client, world.alice, str(member.phone), "  rally! ")
    assert twiml_messages(response) == ["Rally: Saturday 10am, City Hall."]
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.tags == ["donor", "rally"]
        inbound, answer = Message.objects.filter(phone=member.phone).order_by("created_at", "pk")
        assert (inbound.direction, inbound.body) == ("in", "  rally! ")
        assert (answer.direction, answer.kind, answer.status) == (
            "out",
            Message.Kind.KEYWORD,
            SmsStatus.WIRED,
        )
        conversation = Conversation.objects.get(phone=member.phone)
        assert inbound.conversation_id == answer.conversation_id == conversation.pk


def test_a_second_keyword_text_answers_again_but_adds_the_tag_once(client, world, rally):
    member = builders.member(leader=world.alice)
    text(client, world.alice, str(member.phone), "RALLY")
    response = text(client, world.alice, str(member.phone), "Rally")
    assert twiml_messages(response) == ["Rally: Saturday 10am, City Hall."]
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.tags == ["rally"]


def test_a_keyword_inside_a_sentence_is_conversation_with_no_answer(client, world, rally):
    member = builders.member(leader=world.alice)
    response = text(client, world.alice, str(member.phone), "When is the rally?")
    assert twiml_messages(response) == []
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.tags == []


def test_an_inactive_keyword_gets_no_answer(client, world, rally):
    with schema_context(world.alice.schema_name):
        rally.is_active = False
        rally.save()
    member = builders.member(leader=world.alice)
    assert twiml_messages(text(client, world.alice, str(member.phone), "RALLY")) == []


def test_an_opted_out_member_gets_no_keyword_answer(client, world, rally):
    member = builders.member(leader=world.alice, status=Member.Status.OPTED_OUT)
    assert twiml_messages(text(client, world.alice, str(member.phone), "RALLY")) == []
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.tags == []


def test_reserved_words_keep_their_meaning(client, world, rally):
    member = builders.member(leader=world.alice)
    (answer,) = twiml_messages(text(client, world.alice, str(member.phone), "STOP"))
    assert "Rally" not in answer
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT


def test_a_newcomer_texting_a_keyword_gets_the_signup_link_not_the_keyword_reply(client, world, rally):
    (answer,) = twiml_messages(text(client, world.alice, unique_phone(), "RALLY"))
    assert "/j/" in answer


def test_keywords_are_per_leader(client, world, rally):
    member = builders.member(leader=world.bob)
    assert twiml_messages(text(client, world.bob, str(member.phone), "RALLY")) == []


def test_a_keyword_added_in_the_console_is_answered_at_once(client, world):
    # CANVASS, not VOLUNTEER: VOLUNTEER alone is the platform's own word now (districts), answered whether
    # or not the leader made it a keyword reply.
    member = builders.member(leader=world.alice)
    assert twiml_messages(text(client, world.alice, str(member.phone), "CANVASS")) == []
    with schema_context(world.alice.schema_name):
        KeywordReply.objects.create(keyword="CANVASS", reply="Thanks! We'll call you.", tag="canvass")
    assert twiml_messages(text(client, world.alice, str(member.phone), "canvass")) == [
        "Thanks! We'll call you."
    ]


def test_a_suspended_leaders_keyword_answer_is_stored_failed_and_not_sent(client, world, rally):
    member = builders.member(leader=world.alice)
    world.alice.suspend(reason="test")
    try:
        assert twiml_messages(text(client, world.alice, str(member.phone), "RALLY")) == []
        with schema_context(world.alice.schema_name):
            answer = Message.objects.get(phone=member.phone, direction="out")
            assert (answer.status, answer.failure_reason) == (SmsStatus.FAILED, "leader suspended")
    finally:
        world.alice.reactivate()


def test_an_ordinary_text_costs_no_keyword_query_while_the_cache_is_fresh(client, world, rally):
    member = builders.member(leader=world.alice)
    text(client, world.alice, str(member.phone), "warming the caches")
    with CaptureQueriesContext(connection) as queries:
        text(client, world.alice, str(member.phone), "Thanks for everything you do")
    assert not any("console_keywordreply" in query["sql"] for query in queries.captured_queries)
