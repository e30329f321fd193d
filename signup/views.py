"""The signup page a fan opens from their personal link, on the leader's host: /j/<token>.

Fans are on a phone, in a hurry, in their language: one small page (inline CSS, one tiny deferred script that
only enhances the city field), every message translated, and never a 500 whatever is posted.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import zoneinfo

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.clientip import client_ip
from common.phones import phone_country, phone_mask_for_fan
from members.consent import phone_hash
from members.models import Member
from members.waitlist import waitlist_record
from places.gazetteer import is_loaded, preload_in_background, suggest_cities
from signup.forms import SignupForm
from signup.models import SignupToken
from signup.services import (
    SignupLinkUnusableError,
    member_signup,
    signup_link_stopped,
    signup_token_find,
    signup_update_link_send,
)
from topics.cache import topics_cached

logger = logging.getLogger(__name__)

# Raise the version whenever the consent wording changes: the ledger stores which one each member saw.
CONSENT_TEXT_VERSION = "web-2026-11"

# Rate limits as (requests, seconds), per client IP and leader. Generous: fans behind one carrier NAT share
# an address. Settings of the same name override them (tests do).
SIGNUP_POST_RATE = (30, 600)
CITY_SUGGEST_RATE = (240, 60)
UPDATE_LINK_INTERVAL = 300  # at most one "update my details" text per phone every five minutes

# The form's fields in page order; the consent box and the honeypot are laid out on their own.
VISIBLE_FIELDS = ("first_name", "last_name", "gender", "birth_date", "city", "email")

SUPPORTED_LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _limit(name: str):
    """A limit above, or the Django setting of the same name when there is one (tests set them)."""
    return getattr(settings, name, globals()[name])


def _client_key(request: HttpRequest) -> str:
    """The client's IP as the rate limits count it: a keyed hash, so the shared cache (a table or Redis)
    never holds a fan's address, which erasing the fan could not find there."""
    address = (client_ip(request) or "").encode()
    return hmac.new(settings.SECRET_KEY.encode(), address, hashlib.sha256).hexdigest()[:32]


# Type-ahead runs on every keystroke, so its limit is counted in this process's memory (no database round
# trip): each web process allows the full rate, which only bounds the CPU a client can spend on lookups.
_process_cache = LocMemCache("signup-process", {"TIMEOUT": 300, "OPTIONS": {"MAX_ENTRIES": 20_000}})


def _over_limit(request: HttpRequest, scope: str, rate: tuple[int, int], *, shared: bool = True) -> bool:
    """Count this request in a fixed window per (leader, IP, scope); True past the limit.

    `shared`: counted in the cache all web processes share (database or Redis, settings.CACHES), so the limit
    holds across them; otherwise in this process only. A cache failure lets the request through: a broken
    limiter must not lock fans out.
    """
    limit, window = rate
    bucket = int(timezone.now().timestamp()) // window
    key = f"signup:rate:{scope}:{request.tenant.schema_name}:{_client_key(request)}:{bucket}"
    counter = cache if shared else _process_cache
    try:
        counter.add(key, 0, timeout=window)
        count = counter.incr(key)
    except Exception:  # noqa: BLE001 - any cache backend error
        logger.warning("signup rate limiter unavailable", exc_info=True)
        return False
    return count > limit


def _page_language(request: HttpRequest, token: SignupToken | None) -> str:
    """?lang= (the switcher), else the language of the text that asked for the link, else the browser's."""
    chosen = request.GET.get("lang", "")
    if chosen in SUPPORTED_LANGUAGES:
        return chosen
    if token is not None and token.language in SUPPORTED_LANGUAGES:
        return token.language
    return translation.get_language_from_request(request)


def _render(request: HttpRequest, template: str, context: dict, *, language: str, status: int = 200):
    leader = request.tenant
    with translation.override(language):
        request.LANGUAGE_CODE = language
        response = render(
            request,
            template,
            {
                "leader": leader,
                "leader_number": leader.phone_number.as_international if leader.phone_number else "",
                "language": language,
                "languages": settings.LANGUAGES,
                **context,
            },
            status=status,
        )
    response["Content-Language"] = language
    # Personal pages: no shared cache may keep one, and a browser's back button should not show stale state.
    response["Cache-Control"] = "private, no-store"
    return response


def _today_for(leader) -> datetime.date:
    try:
        return timezone.localtime(timezone=zoneinfo.ZoneInfo(leader.time_zone)).date()
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.now().date()


def consent_text(leader) -> str:
    """The consent wording, in the active language, exactly as shown next to the box and stored."""
    return _(
        "I agree to get recurring texts from %(leader)s at this number. Message and data rates may apply. "
        "Reply STOP to stop at any time, HELP for help."
    ) % {"leader": leader.name}


def _link_problem(request: HttpRequest, token: SignupToken | None, language: str) -> HttpResponse | None:
    """The page for a link that cannot be used to sign up: unknown (404), expired (410), used, or issued
    before the phone asked to stop (410)."""
    if token is None:
        return _render(request, "signup/link_unknown.html", {}, language=language, status=404)
    if token.used_at is not None:
        return _render(
            request,
            "signup/link_used.html",
            {"token_raw": request.resolver_match.kwargs["token"]},
            language=language,
        )
    if not token.is_usable():
        return _render(request, "signup/link_expired.html", {}, language=language, status=410)
    if signup_link_stopped(token):
        return _render(request, "signup/link_stopped.html", {}, language=language, status=410)
    return None


def _pilot_for(leader, link: SignupToken) -> list[str]:
    """The pilot regions the form holds the city to: the leader's, for a phone that is not a member yet (a
    member updating their details is in already, wherever they moved)."""
    if not leader.pilot_regions or Member.objects.filter(phone=link.phone).exists():
        return []
    return list(leader.pilot_regions)


@require_http_methods(["GET", "POST"])
def signup_join(request: HttpRequest, token: str) -> HttpResponse:
    leader = request.tenant
    preload_in_background()  # the city field needs the gazetteer: build it while the fan reads the page
    link = signup_token_find(token)
    language = _page_language(request, link)
    problem = _link_problem(request, link, language)
    if problem is not None:
        return problem
    assert link is not None
    country = phone_country(link.phone)
    with translation.override(language):
        if request.method == "POST":
            if _over_limit(request, "post", _limit("SIGNUP_POST_RATE")):
                return _render(request, "signup/too_many.html", {}, language=language, status=429)
            form = SignupForm(
                request.POST,
                minimum_age=leader.minimum_age,
                today=_today_for(leader),
                country=country,
                pilot_regions=_pilot_for(leader, link),
                topics=topics_cached(),
            )
            if form.is_bot:
                # Looks like success, stores nothing, and leaves the link usable for the real fan.
                return _render(request, "signup/thanks.html", {}, language=language)
            if not form.is_valid() and form.outside_pilot is not None:
                # "We'll text you when we are": the phone waits for its region (the form's error says so).
                waitlist_record(
                    phone=link.phone,
                    country=form.outside_pilot.country,
                    region=form.outside_pilot.region,
                    language=language,
                )
            if form.is_valid():
                try:
                    result = member_signup(
                        leader=leader,
                        token=link,
                        details=form.details(),
                        language=language,
                        consent_text=consent_text(leader),
                        consent_version=CONSENT_TEXT_VERSION,
                        ip_address=client_ip(request),
                    )
                except SignupLinkUnusableError:
                    # Used (another tab, a double tap), expired or stopped since the page was opened.
                    link.refresh_from_db()
                    return _link_problem(request, link, language) or _render(
                        request, "signup/link_expired.html", {}, language=language, status=410
                    )
                return _render(
                    request,
                    "signup/thanks.html",
                    {"first_name": result.member.first_name, "updated": not result.created},
                    language=language,
                )
        else:
            form = SignupForm(
                minimum_age=leader.minimum_age,
                today=_today_for(leader),
                country=country,
                topics=topics_cached(),
            )
        form.fields["city"].widget.attrs.update(
            {"data-suggest-url": reverse("signup_city_suggest"), "data-country": country or ""}
        )
        form.fields["birth_date"].widget.attrs["max"] = _today_for(leader).isoformat()
        hints = {
            "birth_date": _("We ask to check that you are old enough to join."),
            "city": _("Start typing, then pick your city from the list."),
        }
        context = {
            "form": form,
            "fields": [(form[name], hints.get(name, "")) for name in VISIBLE_FIELDS],
            "token_raw": token,
            "masked_phone": phone_mask_for_fan(link.phone),
            "country": country or "",
            "intro": leader.signup_intro,
            "consent_text": consent_text(leader),
            "topics": form.topic_choices(),
        }
    status = 400 if request.method == "POST" else 200
    return _render(request, "signup/join.html", context, language=language, status=status)


@require_POST
def signup_update_link(request: HttpRequest, token: str) -> HttpResponse:
    """ "Send me a fresh link": only for a used link, only to its own phone, at most once per few minutes."""
    leader = request.tenant
    link = signup_token_find(token)
    language = _page_language(request, link)
    if link is None or link.used_at is None:
        # Only a used link offers a fresh one (an unused one works as it is): anything else is a made-up POST.
        return _render(request, "signup/link_unknown.html", {}, language=language, status=404)
    interval = _limit("UPDATE_LINK_INTERVAL")
    key = f"signup:update-link:{leader.schema_name}:{phone_hash(link.phone)}"
    try:
        first_in_interval = cache.add(key, 1, timeout=interval)
    except Exception:  # noqa: BLE001 - without the limiter, refuse rather than risk a flood of texts
        logger.warning("signup update-link limiter unavailable", exc_info=True)
        first_in_interval = False
    if first_in_interval:
        signup_update_link_send(leader=leader, token=link, language=language)
    # The same answer either way: the page never says whether a text went out, nor to which number.
    return _render(
        request, "signup/link_used.html", {"token_raw": token, "link_sent": True}, language=language
    )


@require_GET
def signup_demo(request: HttpRequest) -> HttpResponse:
    """/join/: links are personal, so this page explains how to get one."""
    language = _page_language(request, None)
    return _render(request, "signup/demo.html", {}, language=language)


@require_GET
def signup_city_suggest(request: HttpRequest) -> JsonResponse:
    """Type-ahead for the city field: {"results": [{"label": "Montréal, Quebec, Canada", ...}]}."""
    if _over_limit(request, "suggest", _limit("CITY_SUGGEST_RATE"), shared=False):
        response = JsonResponse({"error": "too many requests", "results": []}, status=429)
        response["Cache-Control"] = "no-store"
        return response
    if not is_loaded():
        # Type-ahead is a nicety: never make it wait for the gazetteer to load; the submit resolves the city.
        preload_in_background()
        return JsonResponse({"results": [], "loading": True}, headers={"Cache-Control": "no-store"})
    prefix = request.GET.get("q", "")
    country = request.GET.get("country", "")
    country = country if len(country) == 2 and country.isascii() and country.isalpha() else None
    places = suggest_cities(prefix, country=country, limit=8)
    response = JsonResponse(
        {
            "results": [
                {"id": place.geoname_id, "name": place.name, "label": place.label, "country": place.country}
                for place in places
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )
    # The same question always gets the same answer: let the browser keep it.
    response["Cache-Control"] = "public, max-age=3600"
    return response
