"""The interests pages' strings (the member page's topics, the composer's filters, the cap, the signup form's
question): each one translated in every language and compiled into the .mo files."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from django.conf import settings

from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

BASE = Path(settings.BASE_DIR)
CODE = [
    "members/services.py",
    "console/members/views.py",
    "console/members/forms.py",
    "console/broadcasts/forms.py",
    "console/settings/forms.py",
    "console/templatetags/console_tags.py",
    "signup/forms.py",
]
TEMPLATES = [
    "templates/console/member_detail.html",
    "templates/console/broadcast_detail.html",
    "templates/console/broadcast_confirm.html",
    "templates/signup/join.html",
]
OURS = {
    "What matters to you?",
    "Follows topic",
    "Answered to a survey question",
    "Over the weekly cap",
    "Broadcasts per member per week",
    "followed since %(when)s (%(source)s)",
    "Add the topic",
    "Survey answer",
}


def test_the_pages_mark_their_strings():
    assert marked_strings(code=CODE, templates=TEMPLATES) >= OURS


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation_compiled_into_the_mo(language):
    entries = po_entries(language)
    found = marked_strings(code=CODE, templates=TEMPLATES)
    missing = sorted(text for text in found if not entries.get((None, text)))
    assert missing == []
    catalogue = gettext.GNUTranslations((BASE / "locale" / language / "LC_MESSAGES" / "django.mo").open("rb"))
    stale = sorted(text for text in OURS if catalogue.gettext(text) != entries[(None, text)])
    assert stale == []
