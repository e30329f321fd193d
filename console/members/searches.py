"""The members page's search text, kept out of URLs.

What a teammate types in the search box is often a phone number or an email, and a URL is copied into
access logs (ours, a proxy's), browser history and Referer headers. So the search is submitted by POST, kept
in the teammate's session, and the page's URL carries only an opaque id for it (`?search=…`): the list's
pages and its CSV export read the text back from the session. An id from another session, or one forgotten
since, matches nothing, so an export never widens to every member.
"""

from __future__ import annotations

import secrets

SESSION_KEY = "members_searches"
PARAMETER = "search"
KEPT = 20  # the latest searches of a session; older ids are forgotten


def search_remember(session, text: str) -> str:
    """Keeps `text` in the session; returns the id a URL may carry instead."""
    searches = dict(session.get(SESSION_KEY) or {})
    for search_id, kept in searches.items():
        if kept == text:
            return search_id
    search_id = secrets.token_urlsafe(9)
    searches[search_id] = text
    session[SESSION_KEY] = dict(list(searches.items())[-KEPT:])
    return search_id


def search_recall(session, search_id: str) -> str | None:
    """The text behind an id of this session; None when unknown."""
    text = (session.get(SESSION_KEY) or {}).get(search_id)
    return text if isinstance(text, str) else None
