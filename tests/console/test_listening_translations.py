"""Listening, topics and the inbox's triage: every string translated in every language and compiled into
the .mo files, the pages speaking each language, Arabic right to left."""

from __future__ import annotations

import pytest

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

CODE = [
    "console/listening/forms.py",
    "console/listening/views.py",
    "console/topics/forms.py",
    "console/topics/views.py",
    "console/inbox/forms.py",
    "console/inbox/views.py",
    "console/navigation.py",
    "console/broadcasts/forms.py",
    "triage/segments.py",
    "topics/models.py",
]
TEMPLATES = [
    "templates/console/listening/matrix.html",
    "templates/console/listening/_table.html",
    "templates/console/listening/segment.html",
    "templates/console/topics/topics.html",
    "templates/console/topics/topic_form.html",
    "templates/console/topics/topic_delete.html",
    "templates/console/inbox.html",
    "templates/console/inbox_thread.html",
    "templates/console/broadcast_new.html",
]


def page_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pages_mark_their_strings():
    found = page_strings()
    assert {"Listening", "Topics", "Make a segment from %(name)s", "Wrote about topic"} <= found
    assert "Place: %(place)s (from %(source)s)" in found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in page_strings() if not entries.get((None, text)))
    assert missing == []


PAGES = {
    "/listening/": {"fr": "Écoute", "de": "Zuhören", "es": "Escucha", "ar": "الاستماع"},
    "/topics/": {
        "fr": "Aucune correction pour l’instant",
        "de": "Noch keine Korrekturen",
        "es": "Aún no hay correcciones",
        "ar": "لا توجد تصحيحات بعد",
    },
    "/topics/new/": {
        "fr": "Mots-clés",
        "de": "Stichwörter",
        "es": "Palabras clave",
        "ar": "الكلمات المفتاحية",
    },
    "/inbox/": {
        "fr": "La file des textos non classés",
        "de": "Die Warteschlange der unsortierten Texte",
        "es": "La cola de textos sin clasificar",
        "ar": "قائمة النصوص غير المصنّفة",
    },
}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
@pytest.mark.parametrize("path", list(PAGES))
def test_the_pages_speak_each_language(olivia, path, language):
    page = olivia.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert PAGES[path][language] in page
    assert f'lang="{language}"' in page
    assert ('dir="rtl"' in page) == (language == "ar")
