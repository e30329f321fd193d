"""Twilio's webhooks (inbound texts, calls, delivery statuses) and the staff's phone simulator.

The webhooks are on the platform's public host, one URL each for every leader: the leader is found by the
number (`To` for texts and calls, `From` for the statuses of what we sent), then everything happens inside
that leader's schema. Each request is signed by Twilio (`X-Twilio-Signature`); the signature is checked
against PUBLIC_BASE_URL + the path, the URL Twilio was given, never the Host header Django sees behind a
proxy.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from messaging.services import InboundSms, inbound_sms_receive, leader_for_number, status_callback_apply
from messaging.transport import get_transport, mask_phone

logger = logging.getLogger(__name__)

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SID = re.compile(r"^[A-Za-z0-9]{2,40}$")
EMPTY_TWIML = str(MessagingResponse())
TWIML = "text/xml; charset=utf-8"
# Parameters kept with an inbound text for the inbox (where the fan is, attached pictures); the rest of
# what Twilio sends (and it adds parameters without notice) is ignored, never refused.
_DETAIL = re.compile(r"^(From(City|State|Zip|Country)|NumMedia|NumSegments|Media(Url|ContentType)\d{1,2})$")
_MAX_DETAIL = 500

# The language a <Say> speaks for each of our languages.
SAY_LANGUAGES = {"en": "en-US", "fr": "fr-FR", "es": "es-MX", "de": "de-DE", "ar": "ar-XA"}


def signature_valid(request: HttpRequest) -> bool:
    """Whether Twilio signed this request (the URL it was given, and the form), with our auth token."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return get_transport().request_validator().validate(url, request.POST, signature)


def _clean(value: str) -> str:
    # PostgreSQL refuses NUL in text; Twilio never sends one, but a bad answer is a 4xx, never a 500.
    return value.replace("\x00", "")


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _forbidden() -> JsonResponse:
    return JsonResponse({"error": "invalid or missing X-Twilio-Signature"}, status=403)


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=TWIML)


def _missing(post, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not post.get(name)]


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    """A fan texted a leader's number. Answers TwiML at once: the automatic answer, if any, or nothing."""
    if not signature_valid(request):
        return _forbidden()
    post = request.POST
    missing = _missing(post, ("MessageSid", "From", "To"))
    if missing:
        return _bad_request(f"missing parameter(s): {', '.join(missing)}")
    sid, from_, to = post["MessageSid"], post["From"].strip(), post["To"].strip()
    if not SID.match(sid):
        return _bad_request("MessageSid is not a Twilio SID")
    if not E164.match(from_) or not E164.match(to):
        return _bad_request("From and To must be phone numbers in E.164 form (+12025550142)")
    leader = leader_for_number(to)
    if leader is None:
        logger.warning("inbound text to %s, which is no leader's number: ignored", mask_phone(to))
        return _twiml(EMPTY_TWIML)
    details = {
        key: _clean(value)[:_MAX_DETAIL] for key, value in post.items() if _DETAIL.match(key) and value
    }
    sms = InboundSms(sid=sid, from_=from_, to=to, body=_clean(post.get("Body", "")), details=details or None)
    with schema_context(leader.schema_name):
        result = inbound_sms_receive(leader=leader, sms=sms)
    if not result.reply:
        return _twiml(EMPTY_TWIML)
    response = MessagingResponse()
    response.message(result.reply)
    return _twiml(str(response))


@csrf_exempt
@require_POST
def voice_webhook(request: HttpRequest) -> HttpResponse:
    """Someone called a leader's number: the leader's greeting, spoken in the caller's likely language."""
    from messaging.keywords import language_for_country
    from messaging.services import phone_country
    from messaging.texts import auto_text, language_or_default

    if not signature_valid(request):
        return _forbidden()
    missing = _missing(request.POST, ("CallSid", "To"))
    if missing:
        return _bad_request(f"missing parameter(s): {', '.join(missing)}")
    to = request.POST["To"].strip()
    leader = leader_for_number(to) if E164.match(to) else None
    response = VoiceResponse()
    if leader is None:
        logger.warning("call to %s, which is no leader's number: ignored", mask_phone(to))
        return _twiml(str(response))
    if not leader.is_active:
        return _twiml(str(response))  # a suspended leader says nothing; Twilio hangs up
    caller = request.POST.get("From", "").strip()
    country = (request.POST.get("CallerCountry") or "").upper() or (
        phone_country(caller) if E164.match(caller) else None
    )
    language = language_or_default(language_for_country(country) or leader.default_language)
    greeting = auto_text("voice_greeting", language=language, leader=leader)
    response.say(greeting, language=SAY_LANGUAGES[language])
    return _twiml(str(response))


@csrf_exempt
@require_POST
def status_webhook(request: HttpRequest) -> HttpResponse:
    """Twilio reports what became of a text we sent. Always 200 once signed and complete: an unknown sid
    is someone else's business (or a broadcast's), and a 4xx would only make Twilio retry."""
    if not signature_valid(request):
        return _forbidden()
    post = request.POST
    missing = _missing(post, ("MessageSid", "MessageStatus"))
    if missing:
        return _bad_request(f"missing parameter(s): {', '.join(missing)}")
    sid = post["MessageSid"]
    raw_code = (post.get("ErrorCode") or "").strip()
    error_code = int(raw_code) if raw_code.isdecimal() and len(raw_code) < 9 else None
    sender = (post.get("From") or "").strip()
    leader = leader_for_number(sender) if E164.match(sender) else None
    if leader is None or not SID.match(sid):
        return HttpResponse(status=200)
    with schema_context(leader.schema_name):
        found = status_callback_apply(sid=sid, status=post["MessageStatus"], error_code=error_code)
    if not found:
        logger.info("status callback for an unknown message on %s: ignored", leader.slug)
    return HttpResponse(status=200)
