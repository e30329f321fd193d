"""The pilot's strings (the Waitlist page, the settings field, the checks of region names, the signup form's
refusals): every one translated in every language and compiled, and the page speaking each language, right
to left in Arabic."""

from __future__ import annotations

import pytest

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

CODE = [
    "console/waitlist/views.py",
    "console/settings/forms.py",
    "console/navigation.py",
    "leaders/models.py",
    "signup/forms.py",
]
TEMPLATES = ["templates/console/waitlist.html"]


def pilot_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pilots_strings_are_marked():
    found = pilot_strings()
    assert "Open %(region)s" in found and "Open everywhere" in found
    assert "We're not in %(region)s yet. We'll text you when we are." in found
    assert "No region is called %(name)s." in found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    assert sorted(text for text in pilot_strings() if not entries.get((None, text))) == []


HEADINGS = {"fr": "Liste d’attente", "de": "Warteliste", "es": "Lista de espera", "ar": "قائمة الانتظار"}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_waitlist_page_speaks_each_language(olivia, language):
    page = olivia.get("/waitlist/", HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f"<h1>{HEADINGS[language]}</h1>" in page
    assert f'lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}"' in page
