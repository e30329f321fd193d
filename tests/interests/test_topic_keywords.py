"""STOP <topic> and JOIN <topic> texted by members, through the signed webhook, in the platform's languages;
plain STOP unchanged; what is parsed as a topic command and what stays conversation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from members.models import ConsentRecord, Member, MemberInterest
from members.services import member_topic_follow
from messaging.models import Message
from messaging.segments import segment_info
from messaging.texts import LANGUAGES, auto_text
from messaging.topic_keywords import TopicAction, topic_command_find
from tests import builders
from tests.interests.conftest import topic_named
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone
from topics.cache import TopicRef, topic_cache_clear, topics_cached

HOUSING = TopicRef(id=1, name="Housing", keywords=("logement", "vivienda", "wohnen", "سكن"))
HEALTH = TopicRef(id=2, name="Health care", keywords=("santé", "salud", "صحة"))
TOPICS = (HOUSING, HEALTH)


# -- parsing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "action", "topic", "language"),
    [
        ("STOP HOUSING", TopicAction.LEAVE, HOUSING, None),
        ("  stop housing! ", TopicAction.LEAVE, HOUSING, None),
        ("Stop, health care", TopicAction.LEAVE, HEALTH, None),
        ("ARRÊT LOGEMENT", TopicAction.LEAVE, HOUSING, "fr"),
        ("arret le logement", TopicAction.LEAVE, HOUSING, "fr"),
        ("Arrêt santé", TopicAction.LEAVE, HEALTH, "fr"),
        ("ALTO vivienda", TopicAction.LEAVE, HOUSING, "es"),
        ("parar la salud", TopicAction.LEAVE, HEALTH, "es"),
        ("STOPP Wohnen", TopicAction.LEAVE, HOUSING, "de"),
        ("توقف سكن", TopicAction.LEAVE, HOUSING, "ar"),
        ("تَوَقَّفْ الصحة", TopicAction.LEAVE, HEALTH, "ar"),
        ("الغاء الصحه", TopicAction.LEAVE, HEALTH, "ar"),
        ("JOIN housing", TopicAction.FOLLOW, HOUSING, None),
        ("Follow the housing", TopicAction.FOLLOW, HOUSING, None),
        ("REJOINDRE logement", TopicAction.FOLLOW, HOUSING, "fr"),
        ("suivre SANTÉ", TopicAction.FOLLOW, HEALTH, "fr"),
        ("UNIRME vivienda", TopicAction.FOLLOW, HOUSING, "es"),
        ("seguir salud", TopicAction.FOLLOW, HEALTH, "es"),
        ("BEITRETEN wohnen", TopicAction.FOLLOW, HOUSING, "de"),
        ("folgen Housing", TopicAction.FOLLOW, HOUSING, "de"),
        ("اشترك سكن", TopicAction.FOLLOW, HOUSING, "ar"),
        ("انضم الصحة", TopicAction.FOLLOW, HEALTH, "ar"),
    ],
)
def test_a_command_word_before_a_topics_name_or_keyword_is_a_topic_command(body, action, topic, language):
    command = topic_command_find(body, TOPICS)

    assert command is not None
    assert (command.action, command.topic, command.language) == (action, topic, language)


@pytest.mark.parametrize(
    "body",
    [
        "STOP",  # the carriers' keyword: never ours
        "stop housing the homeless in hotels, it is a scandal",  # a sentence
        "Please stop housing",  # not the first word
        "Alto costo de la vida",  # an everyday word before no topic
        "Baja California",
        "seguir adelante",
        "Follow me",
        "Stop the war in our streets",  # a command word before many words that name no topic
        # A command word before a word or two that name no topic, nor look like one: conversation (and a
        # phone that means to stop is never answered with a list of topics instead).
        "Stop texting me",
        "STOP it",
        "stop please",
        "STOP STOP",
        "Unsubscribe me",
        "Stop the war",
        "Join us tonight",
        "join climate",
        "Hello housing",
        "",
    ],
)
def test_conversation_is_not_a_topic_command(body):
    assert topic_command_find(body, TOPICS) is None


@pytest.mark.parametrize("body", ["STOP HOUSNG", "join helth care", "ARRÊT logemnt", "STOPP wohnenn"])
def test_a_command_word_before_a_misspelt_topic_asks_for_the_list(body):
    command = topic_command_find(body, TOPICS)

    assert command is not None and command.topic is None
    assert command.asked == " ".join(body.split()[1:])


def test_a_leader_without_topics_has_no_topic_commands():
    assert topic_command_find("STOP HOUSING", ()) is None


# -- through the signed webhook ----------------------------------------------------------------------------


def interest(leader, member, topic) -> MemberInterest | None:
    with schema_context(leader.schema_name):
        return MemberInterest.objects.filter(member=member, topic=topic).first()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "body", "answer_language"),
    [
        ("en", "STOP HOUSING", "en"),
        ("fr", "STOP logement", "fr"),  # STOP says no language: the member's
        ("en", "ARRÊT LOGEMENT", "fr"),  # a French word is answered in French
        ("es", "alto vivienda", "es"),
        ("de", "Stopp Wohnen", "de"),
        ("ar", "توقف السكن", "ar"),
    ],
)
def test_stop_topic_leaves_that_topic_only_with_a_confirmation_saying_how_to_come_back(
    client, world, language, body, answer_language
):
    housing = topic_named(world.alice, "Housing", ("logement", "vivienda", "wohnen", "سكن"))
    health = topic_named(world.alice, "Health")
    member = builders.member(leader=world.alice, language=language)
    with schema_context(world.alice.schema_name):
        member_topic_follow(member=member, topic=housing, source="signup")
        member_topic_follow(member=member, topic=health, source="signup")

    (reply,) = twiml_messages(text(client, world.alice, member.phone, body))

    assert reply == auto_text("topic_left", language=answer_language, leader=world.alice, topic="Housing")
    come_back = {"en": "JOIN Housing", "fr": "SUIVRE Housing", "es": "SEGUIR Housing", "de": "FOLGEN Housing"}
    assert come_back.get(answer_language, "اشترك Housing") in reply
    left, kept = interest(world.alice, member, housing), interest(world.alice, member, health)
    assert (left.following, left.source) == (False, "keyword") and left.left_at is not None
    assert kept.following is True
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.SUBSCRIBED  # still gets everything else
        assert not ConsentRecord.objects.filter(member=member).exists()
        texted, answered = Message.objects.filter(phone=member.phone).order_by("created_at", "pk")
        assert (texted.body, texted.conversation_id is not None) == (body, True)  # in the inbox
        assert (answered.kind, answered.body, answered.conversation_id) == (
            Message.Kind.KEYWORD,
            reply,
            texted.conversation_id,
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "body"),
    [("en", "JOIN HOUSING"), ("fr", "rejoindre le logement"), ("es", "Unirme vivienda"), ("ar", "اشترك سكن")],
)
def test_join_topic_follows_it_with_a_confirmation(client, world, language, body):
    housing = topic_named(world.alice, "Housing", ("logement", "vivienda", "wohnen", "سكن"))
    member = builders.member(leader=world.alice, language=language)

    (reply,) = twiml_messages(text(client, world.alice, member.phone, body))

    assert reply == auto_text("topic_joined", language=language, leader=world.alice, topic="Housing")
    row = interest(world.alice, member, housing)
    assert (row.following, row.source) == (True, "keyword")


@pytest.mark.django_db
def test_after_stop_topic_join_topic_from_the_member_follows_it_again(client, world):
    housing = topic_named(world.alice, "Housing")
    member = builders.member(leader=world.alice)

    text(client, world.alice, member.phone, "STOP HOUSING")
    text(client, world.alice, member.phone, "JOIN HOUSING")

    row = interest(world.alice, member, housing)
    assert row.following is True and row.left_at is None  # their own word undid their own leave


@pytest.mark.django_db
def test_plain_stop_still_leaves_everything_and_keeps_the_topics_as_they_were(client, world):
    housing = topic_named(world.alice, "Housing")
    member = builders.member(leader=world.alice, language="fr")
    with schema_context(world.alice.schema_name):
        member_topic_follow(member=member, topic=housing, source="signup")

    (reply,) = twiml_messages(text(client, world.alice, member.phone, "STOP"))

    assert reply == auto_text("stop", language="fr", leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT
        assert ConsentRecord.objects.get(member=member).kind == ConsentRecord.Kind.OPT_OUT
    assert interest(world.alice, member, housing).following is True


@pytest.mark.django_db
def test_a_misspelt_topic_gets_the_list_of_topics(client, world):
    topic_named(world.alice, "Housing")
    topic_named(world.alice, "Health")
    member = builders.member(leader=world.alice, language="es")

    (reply,) = twiml_messages(text(client, world.alice, member.phone, "STOP housng"))

    with schema_context(world.alice.schema_name):
        names = ", ".join(ref.name for ref in topics_cached())
    assert reply == auto_text(
        "topic_unknown", language="es", leader=world.alice, asked='"housng"', topics=names
    )
    assert "Housing" in reply and "Health" in reply
    with schema_context(world.alice.schema_name):
        assert not MemberInterest.objects.filter(member=member).exists()
        member.refresh_from_db()
        assert member.status == Member.Status.SUBSCRIBED


@pytest.mark.django_db
def test_an_opted_out_member_who_leaves_a_topic_is_recorded_and_texted_nothing(client, world):
    housing = topic_named(world.alice, "Housing")
    member = builders.member(leader=world.alice)
    text(client, world.alice, member.phone, "STOP")

    assert twiml_messages(text(client, world.alice, member.phone, "STOP HOUSING")) == []

    row = interest(world.alice, member, housing)
    assert row.following is False and row.left_at is not None


@pytest.mark.django_db
def test_a_newcomer_texting_join_topic_gets_the_welcome(client, world):
    topic_named(world.alice, "Housing")

    (reply,) = twiml_messages(text(client, world.alice, unique_phone(), "JOIN HOUSING"))

    assert "Join my community" in reply


@pytest.mark.django_db
def test_an_ordinary_text_reads_no_topics_even_when_they_are_not_cached(client, world):
    topic_named(world.alice, "Housing")
    member = builders.member(leader=world.alice)
    topic_cache_clear()

    with CaptureQueriesContext(connection) as ordinary:
        assert twiml_messages(text(client, world.alice, member.phone, "Thanks for the rally!")) == []
    with CaptureQueriesContext(connection) as command_shaped:
        assert twiml_messages(text(client, world.alice, member.phone, "STOP the war in our streets")) == []
    with CaptureQueriesContext(connection) as again:
        text(client, world.alice, member.phone, "Stop the war in our streets")

    def topic_reads(queries) -> list[str]:
        return [query["sql"] for query in queries if "topics_topic" in query["sql"]]

    assert topic_reads(ordinary) == []
    assert len(topic_reads(command_shaped)) == 1  # a command word: the topics are read, once, then cached
    assert topic_reads(again) == []
    assert not [query for query in ordinary if "memberinterest" in query["sql"]]


# -- segment budgets -------------------------------------------------------------------------------------


class _Leader:
    """Only what auto_text reads: a long name with a letter outside GSM-7 (the answers are then UCS-2)."""

    name = "Alejandra Martínez Ocampo"
    welcome_text = help_text = voice_greeting = ""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["topic_left", "topic_joined"])
def test_topic_confirmations_fit_in_two_segments(language, name):
    body = auto_text(name, language=language, leader=_Leader(), topic="Cost of living")

    assert segment_info(body).segments <= 2, (body, segment_info(body))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_of_topics_fits_in_three_segments(language):
    listed = "Health, Housing, Jobs, Climate, Security, Schools, Transit, Cost of living, ..."
    body = auto_text("topic_unknown", language=language, leader=_Leader(), asked='"climat"', topics=listed)

    assert segment_info(body).segments <= 3, (body, segment_info(body))
