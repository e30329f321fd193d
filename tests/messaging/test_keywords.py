"""STOP, START and HELP, the language guess, and the automatic texts' segment budgets."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from common.phones import language_for_country
from leaders.models import Leader
from leaders.routing import leader_cache_clear
from members.consent import phone_hash, phone_opted_out
from members.models import ConsentRecord, Member
from messaging.keywords import (
    STOP_WORDS_BY_LANGUAGE,
    Keyword,
    keyword_find,
    keyword_match,
    language_guess,
)
from messaging.models import Conversation, Message, SmsStatus
from messaging.segments import segment_info
from messaging.services import text_send
from messaging.texts import LANGUAGES, auto_text
from signup.models import SignupToken
from tests import builders
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


# -- matching ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["stop", "STOP", " Stop! ", "STOP.", "¡Stop!", "'stop'", "stop\n", "StopAll", "unsubscribe", "Cancel",
     "end", "QUIT", "optout", "Opt Out", "opt-out", "OPT  OUT", "revoke", "Remove", "🛑 stop 🛑", "s t o p"],
)  # fmt: skip
def test_every_stop_word_and_its_variants_is_a_stop(body):
    assert keyword_match(body) == Keyword.STOP


@pytest.mark.parametrize("body", ["start", " START ", "Unstop!", "yes", "YES."])
def test_start_words_are_twilios_start_unstop_and_yes(body):
    assert keyword_match(body) == Keyword.START


@pytest.mark.parametrize("body", ["help", "HELP?", "Info", " info. "])
def test_help_words_are_help_and_info(body):
    assert keyword_match(body) == Keyword.HELP


@pytest.mark.parametrize(
    "body",
    ["", "   ", "please stop texting me at night", "Go Maya!", "join", "restart", "go", "stopped", "yes we can",
     "STOP STOP", "helpful", "!!!"],
)  # fmt: skip
def test_keywords_inside_sentences_and_other_words_are_conversation(body):
    assert keyword_match(body) is None


# The words carriers require or fans use in our other languages (issue 12), each with the variants fans
# type: case, accents, punctuation around, Arabic marks and spellings.
CARRIER_WORDS = [
    # (text, keyword, language of the word)
    ("ARRÊT", Keyword.STOP, "fr"),
    ("arret", Keyword.STOP, "fr"),
    (" Arrêt ! ", Keyword.STOP, "fr"),
    ("ARRET.", Keyword.STOP, "fr"),
    ("DÉSABONNER", Keyword.STOP, "fr"),
    ("desabonner", Keyword.STOP, "fr"),
    ("« Désabonner »", Keyword.STOP, "fr"),
    ("BAJA", Keyword.STOP, "es"),
    ("baja", Keyword.STOP, "es"),
    ("¡Baja!", Keyword.STOP, "es"),
    ("ALTO", Keyword.STOP, "es"),
    ("¡alto!", Keyword.STOP, "es"),
    ("CANCELAR", Keyword.STOP, "es"),
    ("Cancelar.", Keyword.STOP, "es"),
    ("STOPP", Keyword.STOP, "de"),
    ("Stopp!", Keyword.STOP, "de"),
    ("ABMELDEN", Keyword.STOP, "de"),
    ("abmelden", Keyword.STOP, "de"),
    ("توقف", Keyword.STOP, "ar"),
    ("توقف!", Keyword.STOP, "ar"),
    ("تـوقـف", Keyword.STOP, "ar"),  # tatweel
    ("توقّف", Keyword.STOP, "ar"),  # shadda
    ("إلغاء", Keyword.STOP, "ar"),
    ("الغاء", Keyword.STOP, "ar"),  # the hamza left off the alef
    ("إلغاء؟", Keyword.STOP, "ar"),
    ("AIDE", Keyword.HELP, "fr"),
    ("aide?", Keyword.HELP, "fr"),
    ("AYUDA", Keyword.HELP, "es"),
    ("¿Ayuda?", Keyword.HELP, "es"),
    ("Hilfe", Keyword.HELP, "de"),
    ("مساعدة", Keyword.HELP, "ar"),
    ("مساعده", Keyword.HELP, "ar"),  # ة written ه
    ("ＳＴＯＰ", Keyword.STOP, None),  # full-width letters
    ("Stop", Keyword.STOP, None),
    ("help", Keyword.HELP, None),
]


@pytest.mark.parametrize(("body", "keyword", "language"), CARRIER_WORDS)
def test_carriers_words_in_every_language_match_whatever_the_case_accents_and_punctuation(
    body, keyword, language
):
    found = keyword_find(body)

    assert (found.keyword, found.language) == (keyword, language)
    assert keyword_match(body) == keyword


@pytest.mark.parametrize(
    "body",
    ["alto ahí", "soy muy alto", "Baja California", "arrêt de bus", "ayuda por favor", "aides", "Stopped",
     "توقف عن الإرسال", "Altos", "hilfreich",
     # no start word in other languages: an opt-in must be deliberate, and every answer says START
     "oui", "sí", "ja", "نعم", "alta", "commencer", "go", "join"],
)  # fmt: skip
def test_the_new_words_inside_sentences_and_start_words_of_other_languages_are_conversation(body):
    assert keyword_match(body) is None


def test_a_leaders_own_stop_words_match_folded_and_never_change_a_required_word():
    own = ["DÉSINSCRIRE", "NO MORE"]

    assert keyword_find("desinscrire!", own).keyword == Keyword.STOP
    assert keyword_find("desinscrire!", own).word == "DÉSINSCRIRE"
    assert keyword_find("No-more", own).keyword == Keyword.STOP
    assert keyword_find("nomore", own).keyword == Keyword.STOP
    assert keyword_find("desinscrire") is None  # another leader's word is conversation
    assert keyword_find("help", ["HELP"]).keyword == Keyword.HELP
    assert keyword_find("stop", own).word == "STOP"


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Bonjour ! Je voudrais m'inscrire", "fr"),
        ("merci beaucoup", "fr"),
        ("Hola, ¿cómo puedo unirme?", "es"),
        ("Quiero unirme por favor", "es"),
        ("Hallo, ich möchte mitmachen", "de"),
        ("Grüße aus Köln", "de"),
        ("مرحبا", "ar"),
        ("Hi, I want to join", "en"),
        ("👍", None),
        ("12345", None),
        ("", None),
    ],
)
def test_the_language_of_a_text_is_guessed_from_its_words_letters_and_script(body, language):
    assert language_guess(body) == language


@pytest.mark.parametrize(
    ("country", "language"),
    [("FR", "fr"), ("MX", "es"), ("ES", "es"), ("DE", "de"), ("AT", "de"), ("MA", "ar"), ("EG", "ar"),
     ("CA", None), ("US", None), (None, None)],
)  # fmt: skip
def test_a_callers_country_suggests_a_language_except_canada_and_english_speaking_ones(country, language):
    assert language_for_country(country) == language


# -- segment budgets -------------------------------------------------------------------------------------


class _Leader:
    """Only what auto_text reads: a realistic long name, with and without a non-GSM letter."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.welcome_text = self.help_text = self.voice_greeting = ""


# A personal link as signup_link_issue makes it: https://<slug>.<platform domain>/j/<22-character token>.
REALISTIC_LINK = "https://alejandra-martinez.textcommunity.org/j/" + "A" * 22


@pytest.mark.parametrize("name", ["Alexandria Ocasio-Cortez", "Alejandra Martínez Ocampo"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_welcome_text_with_its_link_fits_in_two_segments(language, name):
    body = auto_text("welcome", language=language, leader=_Leader(name), link=REALISTIC_LINK)

    assert REALISTIC_LINK in body
    assert segment_info(body).segments <= 2, (body, segment_info(body))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["stop", "start", "help", "country_refused"])
def test_keyword_answers_fit_in_two_segments(language, name):
    body = auto_text(name, language=language, leader=_Leader("Alejandra Martínez Ocampo"), countries="CA, US")

    assert segment_info(body).segments <= 2, (body, segment_info(body))


# -- through the webhook -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["STOP", " Stop! ", "stop.", "Opt out", "UNSUBSCRIBE", "remove"])
def test_a_members_stop_opts_them_out_at_once_with_one_confirmation(client, world, body):
    member = builders.member(leader=world.alice, language="fr")

    response = text(client, world.alice, member.phone, body)

    (reply,) = twiml_messages(response)
    assert reply == auto_text("stop", language="fr", leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT and member.opted_out_at is not None
        (record,) = ConsentRecord.objects.filter(member=member)
        assert (record.kind, record.source) == ("opt_out", "sms_keyword")
        confirmation = Message.objects.get(phone=member.phone, direction="out")
        assert (confirmation.kind, confirmation.member_id) == (Message.Kind.KEYWORD, member.pk)


@pytest.mark.django_db
def test_a_second_stop_gets_no_second_confirmation(client, world):
    member = builders.member(leader=world.alice)
    text(client, world.alice, member.phone, "STOP")

    again = text(client, world.alice, member.phone, "STOP")

    assert twiml_messages(again) == []
    with schema_context(world.alice.schema_name):
        assert ConsentRecord.objects.filter(member=member).count() == 1
        assert Message.objects.filter(phone=member.phone, direction="out").count() == 1


@pytest.mark.django_db
def test_after_stop_nothing_is_sent_not_even_a_reply_from_the_team(client, world):
    member = builders.member(leader=world.alice)
    text(client, world.alice, member.phone, "STOP")

    with schema_context(world.alice.schema_name):
        reply = text_send(leader=world.alice, phone=member.phone, body="We miss you!")
        broadcast_like = text_send(leader=world.alice, phone=member.phone, body="Rally tonight")
    assert (reply.status, reply.failure_reason) == (SmsStatus.FAILED, "member opted out")
    assert broadcast_like.status == SmsStatus.FAILED
    # A later ordinary text from them is still read by the team.
    assert twiml_messages(text(client, world.alice, member.phone, "sorry, wrong button")) == []


@pytest.mark.django_db
def test_start_brings_an_opted_out_member_back_with_a_confirmation(client, world):
    member = builders.member(leader=world.alice, language="es")
    text(client, world.alice, member.phone, "STOP")

    (reply,) = twiml_messages(text(client, world.alice, member.phone, "Start"))

    assert reply == auto_text("start", language="es", leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.SUBSCRIBED
        kinds = list(ConsentRecord.objects.filter(member=member).order_by("pk").values_list("kind", "source"))
    assert kinds == [("opt_out", "sms_keyword"), ("opt_in", "sms_keyword")]


@pytest.mark.django_db
def test_yes_from_a_subscribed_member_is_an_answer_for_the_inbox_not_a_resubscription(client, world):
    member = builders.member(leader=world.alice)

    response = text(client, world.alice, member.phone, "YES")

    assert twiml_messages(response) == []
    with schema_context(world.alice.schema_name):
        assert Message.objects.get(phone=member.phone).conversation.unread_count == 1
        assert not ConsentRecord.objects.filter(member=member).exists()


@pytest.mark.django_db
def test_help_gets_the_help_text_in_the_members_language(client, world):
    member = builders.member(leader=world.alice, language="de")

    (reply,) = twiml_messages(text(client, world.alice, member.phone, "help"))

    assert reply == auto_text("help", language="de", leader=world.alice)


@pytest.mark.django_db
def test_help_uses_the_leaders_own_help_text(client, world):
    leader = world.alice
    leader.help_text = "Alice Martin's team: write to help@example.org. STOP to stop."
    leader.save(update_fields=["help_text"])
    leader_cache_clear()
    try:
        (reply,) = twiml_messages(text(client, leader, unique_phone(), "INFO"))
    finally:
        leader.help_text = ""
        leader.save(update_fields=["help_text"])
    assert reply == "Alice Martin's team: write to help@example.org. STOP to stop."


@pytest.mark.django_db
def test_a_stop_from_a_phone_that_never_joined_is_honoured_and_no_link_is_sent_after(client, world):
    phone = unique_phone()

    (confirmation,) = twiml_messages(text(client, world.alice, phone, "STOP"))
    later = text(client, world.alice, phone, "hi, what is this?")
    second_stop = text(client, world.alice, phone, "stop")

    assert confirmation == auto_text("stop", language="en", leader=world.alice)
    assert twiml_messages(later) == [] and twiml_messages(second_stop) == []
    with schema_context(world.alice.schema_name):
        assert phone_opted_out(phone)
        assert not SignupToken.objects.filter(phone=phone).exists()
        record = ConsentRecord.objects.get(member=None, kind="opt_out", detail="STOP", text=confirmation)
        assert record.source == "sms_keyword"
        assert text_send(leader=world.alice, phone=phone, body="Join us!").status == SmsStatus.FAILED


@pytest.mark.django_db
def test_a_newcomers_stop_is_answered_in_the_language_they_were_welcomed_in(client, world):
    phone = unique_phone()

    (welcome,) = twiml_messages(text(client, world.alice, phone, "Bonjour, je veux participer"))
    (confirmation,) = twiml_messages(text(client, world.alice, phone, "STOP"))

    assert "/j/" in welcome
    assert confirmation == auto_text("stop", language="fr", leader=world.alice)
    assert confirmation != auto_text("stop", language="en", leader=world.alice)


@pytest.mark.django_db
def test_a_phone_that_stopped_before_joining_can_start_again_and_then_get_a_link(client, world):
    phone = unique_phone()
    text(client, world.alice, phone, "STOP")

    (started,) = twiml_messages(text(client, world.alice, phone, "START"))
    (welcome,) = twiml_messages(text(client, world.alice, phone, "hi"))

    assert started == auto_text("start", language="en", leader=world.alice)
    assert "/j/" in welcome
    with schema_context(world.alice.schema_name):
        assert not phone_opted_out(phone)


@pytest.mark.django_db
def test_start_from_a_phone_that_never_stopped_is_a_first_text(client, world):
    (reply,) = twiml_messages(text(client, world.alice, unique_phone(), "START"))

    assert "/j/" in reply


# -- carriers' words in every language, through the webhook (issue 12) -------------------------------------

# One spelling of each required stop word that is not the listed one (case, accents, punctuation).
STOP_VARIANTS = {
    "ARRÊT": "arret!",
    "DÉSABONNER": "Désabonner",
    "BAJA": "baja",
    "ALTO": "¡ALTO!",
    "CANCELAR": "Cancelar.",
    "STOPP": "stopp",
    "ABMELDEN": "Abmelden!",
    "توقف": "تـوقّف",
    "إلغاء": "الغاء",
}
LANGUAGE_STOP_WORDS = [
    (word, language) for language, words in STOP_WORDS_BY_LANGUAGE.items() if language for word in words
]


def test_every_stop_word_of_another_language_has_a_variant_tested():
    assert sorted(STOP_VARIANTS) == sorted(word for word, _language in LANGUAGE_STOP_WORDS)


@pytest.mark.django_db
@pytest.mark.parametrize(("word", "language"), LANGUAGE_STOP_WORDS)
def test_a_newcomers_stop_word_in_any_language_is_honoured_and_answered_in_that_language(
    client, world, word, language
):
    phone = unique_phone()

    (confirmation,) = twiml_messages(text(client, world.alice, phone, STOP_VARIANTS[word]))

    assert confirmation == auto_text("stop", language=language, leader=world.alice)
    with schema_context(world.alice.schema_name):
        assert phone_opted_out(phone)
        record = ConsentRecord.objects.get(phone_hash=phone_hash(phone))
        assert (record.kind, record.source, record.detail) == ("opt_out", "sms_keyword", word)
        assert (record.member_id, record.text) == (None, confirmation)
        assert not SignupToken.objects.filter(phone=phone).exists()  # no welcome link


@pytest.mark.django_db
def test_a_fan_texting_baja_gets_the_spanish_opt_out_confirmation(client, world):
    phone = unique_phone()

    (confirmation,) = twiml_messages(text(client, world.alice, phone, "BAJA"))

    assert confirmation == auto_text("stop", language="es", leader=world.alice)
    assert "te has dado de baja" in confirmation


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "language"), [("Baja", "es"), ("arrêt", "fr"), ("Stopp!", "de"), ("إلغاء", "ar")]
)
def test_a_members_stop_word_in_a_language_opts_them_out_with_a_confirmation_in_it(
    client, world, body, language
):
    member = builders.member(leader=world.alice)  # English, as imports and the API leave them

    (confirmation,) = twiml_messages(text(client, world.alice, member.phone, body))

    assert confirmation == auto_text("stop", language=language, leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT
        (record,) = ConsentRecord.objects.filter(member=member)
        assert (record.kind, record.source, record.text) == ("opt_out", "sms_keyword", confirmation)
        assert record.detail == keyword_find(body).word


@pytest.mark.django_db
def test_a_members_stop_in_every_language_is_answered_in_the_members_language(client, world):
    member = builders.member(leader=world.alice, language="de")

    (confirmation,) = twiml_messages(text(client, world.alice, member.phone, "Stop"))

    assert confirmation == auto_text("stop", language="de", leader=world.alice)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "language"), [("AIDE", "fr"), ("¿ayuda?", "es"), ("Hilfe", "de"), ("مساعدة", "ar")]
)
def test_help_words_of_every_language_answer_the_help_text_in_it_and_stop_nothing(
    client, world, body, language
):
    member = builders.member(leader=world.alice)
    phone = unique_phone()

    (to_member,) = twiml_messages(text(client, world.alice, member.phone, body))
    (to_newcomer,) = twiml_messages(text(client, world.alice, phone, body))

    assert to_member == to_newcomer == auto_text("help", language=language, leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.SUBSCRIBED
        assert not phone_opted_out(phone)


@pytest.mark.django_db
def test_a_sentence_with_a_stop_word_is_conversation_for_the_inbox(client, world):
    member = builders.member(leader=world.alice, language="es")

    response = text(client, world.alice, member.phone, "Soy muy alto, ¿puedo ayudar?")

    assert twiml_messages(response) == []
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.SUBSCRIBED
        assert Conversation.objects.get(phone=member.phone).unread_count == 1


@pytest.mark.django_db
def test_a_member_texting_the_leaders_own_stop_word_is_opted_out(client, world):
    Leader.objects.filter(pk=world.alice.pk).update(stop_words=["DÉSINSCRIRE", "NO MORE"])
    leader_cache_clear()
    member = builders.member(leader=world.alice, language="fr")
    elsewhere = builders.member(leader=world.bob, phone=member.phone)

    (confirmation,) = twiml_messages(text(client, world.alice, member.phone, " desinscrire! "))
    to_bob = text(client, world.bob, elsewhere.phone, "desinscrire")

    assert confirmation == auto_text("stop", language="fr", leader=world.alice)
    with schema_context(world.alice.schema_name):
        member.refresh_from_db()
        assert member.status == Member.Status.OPTED_OUT
        (record,) = ConsentRecord.objects.filter(member=member)
        assert (record.kind, record.source, record.detail) == ("opt_out", "sms_keyword", "DÉSINSCRIRE")
    # Another leader's members may text the same word to them: it is conversation there.
    assert twiml_messages(to_bob) == []
    with schema_context(world.bob.schema_name):
        elsewhere.refresh_from_db()
        assert elsewhere.status == Member.Status.SUBSCRIBED


@pytest.mark.django_db
def test_a_newcomer_texting_the_leaders_own_stop_word_is_opted_out_not_welcomed(client, world):
    Leader.objects.filter(pk=world.alice.pk).update(stop_words=["NO MORE"])
    leader_cache_clear()
    phone = unique_phone()

    (confirmation,) = twiml_messages(text(client, world.alice, phone, "No more"))

    assert confirmation == auto_text("stop", language="en", leader=world.alice)
    with schema_context(world.alice.schema_name):
        assert phone_opted_out(phone)
        assert ConsentRecord.objects.get(phone_hash=phone_hash(phone)).detail == "NO MORE"
