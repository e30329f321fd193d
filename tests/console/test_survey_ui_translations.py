"""The surveys pages and the rules' messages (surveys.editing): every string translated in every language and
compiled into the .mo files, the pages speaking each language, Arabic right to left."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries
from tests.surveys import survey_ui_builders as build

CODE = [
    "console/surveys/forms.py",
    "console/surveys/views.py",
    "console/navigation.py",
    "console/members/forms.py",
    "surveys/editing.py",
]
TEMPLATES = [
    "templates/console/surveys/surveys.html",
    "templates/console/surveys/survey_form.html",
    "templates/console/surveys/survey_delete.html",
    "templates/console/surveys/survey_send.html",
    "templates/console/surveys/survey.html",
    "templates/console/surveys/_results.html",
    "templates/console/surveys/_breakdown.html",
]


def page_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pages_mark_their_strings():
    found = page_strings()
    assert {"Surveys", "Send to a segment", "Write it in the default language (%(language)s)."} <= found
    assert "Question (%(language)s)" in found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in page_strings() if not entries.get((None, text)))
    assert missing == []


PAGES = {
    "fr": ("Sondages", "Question (Anglais)", "Envoyer à un segment"),
    "es": ("Encuestas", "Pregunta (Inglés)", "Enviar a un segmento"),
    "de": ("Umfragen", "Frage (Englisch)", "An ein Segment senden"),
    "ar": ("الاستطلاعات", "السؤال (الإنجليزيّة)", "إرسال إلى شريحة"),
}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_pages_speak_each_language(world, olivia, language):
    with schema_context(world.alice.schema_name):
        survey = build.survey()
    olivia.cookies["django_language"] = language
    title, question, send = PAGES[language]
    assert title in olivia.get("/surveys/").content.decode()
    assert question in olivia.get("/surveys/new/").content.decode()
    page = olivia.get(f"/surveys/{survey.pk}/").content.decode()
    assert send in page
    assert ('dir="rtl"' in page) == (language == "ar")
