"""The team page's invitations and the API token page: every string translated in every language and
compiled into the .mo files, and the pages speaking each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

BASE = Path(settings.BASE_DIR)
CODE = [
    "console/models.py",
    "console/navigation.py",
    "console/team/views.py",
    "console/team/services.py",
    "api/forms.py",
    "api/pages.py",
]
TEMPLATES = [
    "templates/accounts/team.html",
    "templates/accounts/invitation_accept.html",
    "templates/accounts/invitation_invalid.html",
    "templates/api/tokens.html",
]


def page_strings() -> set[str]:
    return marked_strings(code=CODE, templates=TEMPLATES)


def test_the_pages_mark_their_strings():
    found = page_strings()
    assert "Pending invitations" in found and "API tokens" in found
    assert "Revoke the token %(name)s" in found
    assert "This invitation is no longer valid: it has expired. Ask the team for a new one." in found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for text in page_strings() if not entries.get((None, text)))
    assert missing == []


PAGES = {
    "/settings/api-tokens/": {
        "fr": "Jetons d’API",
        "de": "API-Tokens",
        "es": "Tokens de API",
        "ar": "رموز واجهة البرمجة",
    },
    "/team/": {
        "fr": "Invitations en attente",
        "de": "Offene Einladungen",
        "es": "Invitaciones pendientes",
        "ar": "دعوات معلّقة",
    },
}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
@pytest.mark.parametrize("path", list(PAGES))
def test_the_pages_speak_each_language(olivia, path, language):
    page = olivia.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert PAGES[path][language] in page
    assert f'lang="{language}"' in page
