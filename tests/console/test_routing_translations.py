"""Routing, overdue marks, signatures and the masking settings: every string translated in every language
and compiled, and the routing page speaking each language (Arabic right to left)."""

from __future__ import annotations

import pytest

from tests.console.conftest import client_for
from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

CODE = [
    "console/routing/views.py",
    "console/routing/forms.py",
    "triage/routing.py",
    "console/inbox/forms.py",
    "console/inbox/views.py",
    "console/templatetags/console_tags.py",
    "console/settings/forms.py",
    "console/navigation.py",
]
TEMPLATES = [
    "templates/console/routing.html",
    "templates/console/routing_team.html",
    "templates/console/routing_rule.html",
    "templates/console/inbox.html",
    "templates/console/inbox_thread.html",
    "templates/console/dashboard.html",
    "templates/accounts/password_change.html",
    "templates/accounts/team.html",
]


def page_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pages_mark_their_strings():
    found = page_strings()
    assert {"Routing", "Add a rule", "Overdue by %(n)d h", "Sign the team's replies"} <= found
    assert "Managers see phone numbers" in found and "Your display name" in found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in page_strings() if not entries.get((None, text)))
    assert missing == []


HEADINGS = {"fr": "Routage", "de": "Zuweisung", "es": "Asignación", "ar": "التوجيه"}


@pytest.mark.parametrize("language", sorted(HEADINGS))
def test_the_routing_page_speaks_each_language(db, world, language):
    client = client_for(world.alice, "mark")
    page = client.get("/routing/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<h1>{HEADINGS[language]}</h1>" in page
    assert ('dir="rtl"' in page) == (language == "ar")
