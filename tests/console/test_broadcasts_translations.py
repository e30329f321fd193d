"""The broadcasts pages' strings: each one translated in every language and compiled into the .mo files."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

BASE = Path(settings.BASE_DIR)
CODE = [
    "console/broadcasts/views.py",
    "console/broadcasts/forms.py",
    "console/broadcasts/selectors.py",
    "console/members/forms.py",
    "console/settings/forms.py",
]
TEMPLATES = [
    "templates/console/broadcast_new.html",
    "templates/console/broadcast_confirm.html",
    "templates/console/broadcast_detail.html",
    "templates/console/broadcast_cancel.html",
    "templates/console/broadcasts.html",
    "templates/console/_segment_counter.html",
    "templates/console/_phone_preview.html",
    "templates/console/_recent_broadcasts.html",
]


def broadcast_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_broadcast_pages_mark_their_strings():
    found = broadcast_strings()
    assert "New broadcast" in found and "Matching members: %(count)s" in found
    assert "%(n)s × %(s)s = %(total)s segments" in found
    assert len(found) > 80


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_broadcast_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in broadcast_strings() if not entries.get((None, text)))
    assert missing == []


@pytest.mark.parametrize("language", ["fr", "de", "es", "ar"])
def test_the_broadcast_pages_are_translated(olivia, language):
    headings = {
        "fr": "Nouvel envoi groupé",
        "de": "Neue Rundsendung",
        "es": "Nueva difusión",
        "ar": "رسالة جماعية جديدة",
    }
    page = olivia.get("/broadcasts/new/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{headings[language]}</h1>" in page
