"""The console's navigation: one entry per page, shown only when the page exists and the role allows it.

An entry whose URL name does not resolve yet is left out, so the broadcasts and inbox pages appear in the
menu as soon as their apps register `broadcasts` and `inbox` URL names: nothing here needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from console.decorators import ANSWER, MANAGER, OWNER, user_may


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str
    section: str  # what the current page's `section` context names, to mark it aria-current


NAV_ITEMS = (
    NavItem(_("Dashboard"), "console:dashboard", ANSWER, "dashboard"),
    NavItem(_("Members"), "console:members", MANAGER, "members"),
    NavItem(_("Broadcasts"), "broadcasts", MANAGER, "broadcasts"),
    NavItem(_("Inbox"), "inbox", ANSWER, "inbox"),
    NavItem(_("Routing"), "routing", MANAGER, "routing"),
    NavItem(_("Districts"), "console:districts", MANAGER, "districts"),
    NavItem(_("Listening"), "console:listening", ANSWER, "listening"),
    NavItem(_("Topics"), "console:topics", MANAGER, "topics"),
    NavItem(_("Surveys"), "console:surveys", ANSWER, "surveys"),
    NavItem(_("Events"), "console:events", ANSWER, "events"),
    NavItem(_("Settings"), "console:settings", OWNER, "settings"),
    NavItem(_("Waitlist"), "console:waitlist", OWNER, "waitlist"),
    NavItem(_("Team"), "accounts:team", OWNER, "team"),
    # Served by the api app (api/pages.py): named here by URL only, as the console may not import the api.
    NavItem(_("API tokens"), "api_tokens", OWNER, "api_tokens"),
)


def nav_for(user) -> list[dict]:
    items = []
    for item in NAV_ITEMS:
        if not user_may(user, item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "section": item.section})
    return items
