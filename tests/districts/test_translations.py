"""The districts pages and the volunteer marks: every string translated in every language and compiled,
and the Districts page speaking each language (Arabic right to left)."""

from __future__ import annotations

import pytest

from tests.console.conftest import client_for
from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

CODE = [
    "console/districts/views.py",
    "console/districts/forms.py",
    "districts/services.py",
    "console/inbox/forms.py",
    "console/navigation.py",
]
TEMPLATES = [
    "templates/console/districts.html",
    "templates/console/district_edit.html",
    "templates/console/_volunteer_badge.html",
    "templates/console/member_detail.html",
]


def page_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pages_mark_their_strings():
    found = page_strings()
    assert {"Districts", "Add a district", "Volunteer · %(district)s", "Make a volunteer"} <= found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in page_strings() if not entries.get((None, text)))
    assert missing == []


HEADINGS = {"fr": "Circonscriptions", "de": "Bezirke", "es": "Distritos", "ar": "الدوائر"}


@pytest.mark.parametrize("language", sorted(HEADINGS))
def test_the_districts_page_speaks_each_language(db, world, language):
    client = client_for(world.alice, "mark")
    page = client.get("/districts/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{HEADINGS[language]}</h1>" in page
    assert ('dir="rtl"' in page) == (language == "ar")
