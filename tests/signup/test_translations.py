"""The signup page's catalogues: complete, compiled, and actually used by the page in every language.

These tests need no gettext tools: they read the .po files as text and the committed .mo files with Python's
own gettext module, so a translation added to a .po without recompiling, or a new string in the code or the
templates without a translation, fails here.
"""

from __future__ import annotations

import ast
import gettext
import html
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.signup.helpers import host, link_issue, valid_form

BASE = Path(settings.BASE_DIR)
TRANSLATED_LANGUAGES = ["fr", "de", "es", "ar"]
GETTEXT_FUNCTIONS = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}


def po_entries(language: str) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) -> msgstr for every entry of the .po file, the header left out."""
    entries: dict[tuple[str | None, str], str] = {}
    current: dict[str, str] = {}
    key = ""
    fuzzy = False

    def flush() -> None:
        nonlocal current, fuzzy
        if current.get("msgid"):
            assert not fuzzy, f"{language}: fuzzy entry {current['msgid']!r}"
            entries[(current.get("msgctxt"), current["msgid"])] = current.get("msgstr", "")
        current, fuzzy = {}, False

    path = BASE / "locale" / language / "LC_MESSAGES" / "django.po"
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            flush()
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line):
            # A plural entry's first form stands for its msgstr; the others are kept under their own keys.
            key = "msgstr" if match.group(1) == "msgstr[0]" else match.group(1)
            current[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
    return entries


def marked_strings(*, code: list[str], templates: list[str]) -> set[str]:
    """The msgids a set of modules and templates mark (no contexts): the console pages' translation tests."""
    found: set[str] = set()
    for name in code:
        for node in ast.walk(ast.parse((BASE / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {
                "_",
                "gettext",
                "gettext_lazy",
                "ngettext",
            }:
                texts = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
                if texts and isinstance(texts[0], str):
                    found.add(texts[0])
    for name in templates:
        source = (BASE / name).read_text(encoding="utf-8")
        found |= set(re.findall(r'{% translate "([^"]+)"', source))
        found |= set(re.findall(r"{% translate '([^']+)'", source))
        for body in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", source, re.S):
            singular = body.split("{% plural %}")[0]  # a plural's msgid is its singular
            found.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", singular))
    return found


def strings_in_code() -> set[tuple[str | None, str]]:
    """Every (context, message) the signup app's Python and templates mark for translation."""
    found: set[tuple[str | None, str]] = set()
    for path in (BASE / "signup").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in GETTEXT_FUNCTIONS:
                texts = [arg.value for arg in node.args if isinstance(arg, ast.Constant)]
                if node.func.id.startswith("pgettext") and len(texts) == 2:
                    found.add((texts[0], texts[1]))
                elif len(texts) == 1:
                    found.add((None, texts[0]))
    for path in (BASE / "templates" / "signup").glob("*.html"):
        source = path.read_text(encoding="utf-8")
        found |= {(None, text) for text in re.findall(r'{% translate "([^"]+)"', source)}
        for body in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", source, re.S):
            found.add((None, re.sub(r"{{ (\w+) }}", r"%(\1)s", body)))
    return found


def test_the_code_marks_the_pages_strings_for_translation():
    found = strings_in_code()
    assert (None, "Join %(name)s") in found
    assert ("gender", "Prefer not to say") in found
    assert any(text.startswith("I agree to get recurring texts") for _, text in found)
    assert len(found) > 40


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_of_the_page_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(text for key in strings_in_code() if not entries.get(key) for _, text in [key])
    assert missing == []
    placeholders = re.compile(r"%\(\w+\)[sd]")
    for (_, msgid), msgstr in entries.items():
        assert sorted(placeholders.findall(msgid)) == sorted(placeholders.findall(msgstr)), msgid


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_committed_mo_file_matches_the_po_file(language):
    path = BASE / "locale" / language / "LC_MESSAGES" / "django.mo"
    with path.open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for (context, msgid), msgstr in po_entries(language).items():
        got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert got == msgstr, f"{language}: {msgid!r} is stale in django.mo: run manage.py compilemessages"


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_no_english_is_left_on_the_page_in_another_language(client, world, language):
    """The page with every error showing, rendered in each language, holds none of the English strings."""
    path, _ = link_issue(world.alice, language=language)
    bad = valid_form(first_name="", gender="", birth_date="", city="", email="x@", consent=None)
    pages = [
        client.get(path, HTTP_HOST=host(world.alice)),
        client.post(path, bad, HTTP_HOST=host(world.alice)),
        client.get("/j/unknown-token", HTTP_HOST=host(world.alice), HTTP_ACCEPT_LANGUAGE=language),
        client.get("/join/?lang=" + language, HTTP_HOST=host(world.alice)),
    ]
    text = " ".join(html.unescape(page.content.decode()) for page in pages)
    entries = po_entries(language)
    left_in_english = [
        msgid
        for (_, msgid), msgstr in entries.items()
        if msgid != msgstr and "%(" not in msgid and len(msgid) > 12 and msgid in text
    ]
    assert left_in_english == []
    for msgid in (
        "First name",
        "Birth date",
        "Enter your first name.",
        "Tick the box to agree to get texts, or close this page.",
    ):
        assert entries[(None, msgid)] in text
