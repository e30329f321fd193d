"""How listening names what triage stores as codes: a language, in the reader's language."""

from __future__ import annotations

from django.utils.translation import get_language_info


def language_name(code: str) -> str:
    """ "es" → "Spanish" (in the page's language); a code Django does not know stays as it is."""
    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code
