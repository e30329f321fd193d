"""The owner's settings: texts, limits, photo; keyword replies."""

from __future__ import annotations

import datetime
import re
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from messaging.keyword_replies import keyword_reply_find
from messaging.models import KeywordReply
from tests.console.conftest import client_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

VALID = {
    "welcome_text": "Welcome to Dana's community!",
    "help_text": "Reply STOP to stop.",
    "signup_intro": "Join us",
    "voice_greeting": "Thanks for calling",
    "minimum_age": "16",
    "allowed_countries": "us, ca,MX",
    "quiet_hours_start": "20:30",
    "quiet_hours_end": "08:00",
    "time_zone": "America/Vancouver",
    "default_language": "fr",
    "approval_threshold": "5000",
}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_the_owner_saves_the_settings_fans_see(dana, media):
    response = client_for(dana, "dora").post(
        "/settings/", {**VALID, "signup_photo": SimpleUploadedFile("me.png", PNG, content_type="image/png")}
    )
    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.welcome_text == VALID["welcome_text"]
    assert dana.allowed_countries == ["CA", "MX", "US"]
    assert dana.quiet_hours_start == datetime.time(20, 30)
    assert (dana.time_zone, dana.default_language, dana.minimum_age, dana.approval_threshold) == (
        "America/Vancouver",
        "fr",
        16,
        5000,
    )
    assert dana.signup_photo.name == "leaders/dana/signup.png"
    assert (media / "leaders" / "dana" / "signup.png").read_bytes() == PNG


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
        ("allowed_countries", "USA", "Not country codes"),
        ("minimum_age", "8", "between 13 and 21"),
        ("quiet_hours_start", "25:00", "valid time"),
    ],
)
def test_bad_settings_are_refused_with_a_message(dana, field, value, message):
    response = client_for(dana, "dora").post("/settings/", {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    dana.refresh_from_db()
    assert dana.welcome_text == ""


def test_a_photo_that_is_not_an_image_is_refused(dana, media):
    fake = SimpleUploadedFile("me.png", b"<script>alert(1)</script>", content_type="image/png")
    response = client_for(dana, "dora").post("/settings/", {**VALID, "signup_photo": fake})
    assert response.status_code == 400 and "JPEG, PNG or WebP" in response.content.decode()


def test_the_owner_adds_and_removes_keyword_replies(dana):
    client = client_for(dana, "dora")
    response = client.post(
        "/settings/keywords/", {"keyword": " rally! ", "reply": "See you at 7pm", "tag": "rally"}
    )
    assert response.status_code == 302
    with schema_context(dana.schema_name):
        keyword = KeywordReply.objects.get()
        assert keyword.keyword == "RALLY"
        assert keyword_reply_find("Rally") == keyword
        assert keyword_reply_find("  rally.  ") == keyword
        assert keyword_reply_find("rally tonight?") is None
    assert client.post(f"/settings/keywords/{keyword.pk}/delete/").status_code == 302
    with schema_context(dana.schema_name):
        assert keyword_reply_find("rally") is None


def test_reserved_and_duplicate_keywords_are_refused(dana):
    client = client_for(dana, "dora")
    stop = client.post("/settings/keywords/", {"keyword": "stop", "reply": "x"})
    assert stop.status_code == 400 and "reserved" in stop.content.decode()
    client.post("/settings/keywords/", {"keyword": "VOTE", "reply": "x"})
    again = client.post("/settings/keywords/", {"keyword": "vote", "reply": "y"})
    assert again.status_code == 400
    with schema_context(dana.schema_name):
        assert KeywordReply.objects.count() == 1


def test_keywords_of_one_leader_are_not_found_from_another(dana, world):
    with schema_context(dana.schema_name):
        KeywordReply.objects.create(keyword="DANA", reply="hi")
    with schema_context(world.alice.schema_name):
        assert keyword_reply_find("dana") is None


# -- the leader's own stop words (issue 12) ----------------------------------------------------------------


def test_the_owner_adds_stop_words_of_their_own_stored_as_typed_in_capitals(dana):
    client = client_for(dana, "dora")

    response = client.post(
        "/settings/", {**VALID, "stop_words": " désinscrire!, No-more ; Desinscrire\nbasta"}
    )

    assert response.status_code == 302
    dana.refresh_from_db()
    assert dana.stop_words == ["DÉSINSCRIRE", "NO MORE", "BASTA"]
    page = client.get("/settings/").content.decode()
    assert 'value="DÉSINSCRIRE, NO MORE, BASTA"' in page
    assert client.post("/settings/", {**VALID, "stop_words": ""}).status_code == 302
    dana.refresh_from_db()
    assert dana.stop_words == []


def test_the_settings_page_shows_the_required_stop_words_which_cannot_be_removed(dana):
    page = client_for(dana, "dora").get("/settings/").content.decode()

    required = page.split('id="required-stop-words"')[1].split("</p>")[0]
    for word in ["STOP", "UNSUBSCRIBE", "ARRÊT", "DÉSABONNER", "BAJA", "ALTO", "STOPP", "ABMELDEN", "توقف"]:
        assert f"<bdi>{word}</bdi>" in required
    assert "<input" not in required and "<textarea" not in required


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("arret", "ARRET is already a stop word."),
        ("Stop", "STOP is already a stop word."),
        ("الغاء", "is already a stop word."),
        ("Ayuda", "AYUDA is a help word: it can"),
        ("info", "INFO is a help word"),
        ("yes", "YES is a start word: it can"),
        ("go", "GO is a start word"),
        ("x", "X is too short to be a stop word."),
        ("123", "123 is not a word"),
        ("a" * 31, "is longer than 30 characters."),
        (", ".join(f"word{n}" for n in range(21)), "At most 20 stop words."),
    ],
)
def test_stop_words_that_would_clash_or_are_not_words_are_refused(dana, words, message):
    response = client_for(dana, "dora").post("/settings/", {**VALID, "stop_words": words})

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    dana.refresh_from_db()
    assert dana.stop_words == [] and dana.welcome_text == ""


def test_twenty_stop_words_are_accepted(dana):
    words = ", ".join(f"word{n}" for n in range(20))

    assert client_for(dana, "dora").post("/settings/", {**VALID, "stop_words": words}).status_code == 302
    dana.refresh_from_db()
    assert len(dana.stop_words) == 20


def test_a_stop_word_that_is_one_of_the_leaders_keyword_replies_is_refused_and_the_reverse(dana):
    client = client_for(dana, "dora")
    assert (
        client.post("/settings/keywords/", {"keyword": "Réunion", "reply": "Tonight 7pm"}).status_code == 302
    )

    clash = client.post("/settings/", {**VALID, "stop_words": "reunion"})

    assert clash.status_code == 400
    assert "REUNION is one of your keyword replies" in clash.content.decode()
    assert client.post("/settings/", {**VALID, "stop_words": "no more"}).status_code == 302
    reverse = client.post("/settings/keywords/", {"keyword": "No-more!", "reply": "x"})
    assert reverse.status_code == 400
    assert "NO MORE is one of your stop words." in reverse.content.decode()
    with schema_context(dana.schema_name):
        assert list(KeywordReply.objects.values_list("keyword", flat=True)) == ["RÉUNION"]


@pytest.mark.parametrize(
    "keyword", ["arrêt", "ARRET", "désabonner", "baja", "Alto!", "cancelar", "stopp", "abmelden", "توقف",
                "الغاء", "aide", "ayuda", "hilfe", "مساعدة", "opt-out", "restart"],
)  # fmt: skip
def test_every_stop_start_and_help_word_in_any_language_is_refused_as_a_keyword_reply(dana, keyword):
    response = client_for(dana, "dora").post("/settings/keywords/", {"keyword": keyword, "reply": "x"})

    assert response.status_code == 400 and "is reserved" in response.content.decode()
    with schema_context(dana.schema_name):
        assert not KeywordReply.objects.exists()


def test_a_keyword_reply_that_became_a_stop_word_is_marked_never_answered(dana):
    with schema_context(dana.schema_name):
        KeywordReply.objects.create(keyword="ALTO", reply="Our rally is in Alto Park")  # before issue 12
        KeywordReply.objects.create(keyword="RALLY", reply="See you at 7pm")

    page = client_for(dana, "dora").get("/settings/").content.decode()

    assert page.count("Never answered: a stop, start or help word.") == 1
    assert '<td>ALTO<span class="help">Never answered' in page


def test_the_stop_words_field_is_translated(dana):
    page = client_for(dana, "dora").get("/settings/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Vos propres mots d’arrêt" in page
    assert "Ceux-ci arrêtent toujours les textos et ne peuvent pas être retirés :" in page


def test_the_time_zone_and_the_language_are_chosen_from_lists(dana):
    page = client_for(dana, "dora").get("/settings/").content.decode()
    assert re.search(r'<select name="time_zone"[^>]*>', page)
    assert '<option value="America/Toronto" selected>America/Toronto</option>' in page
    assert '<option value="America/Argentina/Buenos_Aires">America/Argentina/Buenos Aires</option>' in page
    assert re.search(r'<select name="default_language"[^>]*>', page)
