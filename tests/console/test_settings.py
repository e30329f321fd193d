"""The owner's settings: texts, limits, photo; keyword replies."""

from __future__ import annotations

import datetime
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
        ("time_zone", "Mars/Olympus", "Unknown time zone"),
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
