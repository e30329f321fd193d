"""Twilio's webhooks (inbound texts, calls, delivery statuses) and the staff's phone simulator.

The webhooks are on the platform's public host, one URL each for every leader: the leader is found by the
number (`To` for texts and calls, `From` for the statuses of what we sent), then everything happens inside
that leader's schema. Each request is signed by Twilio (`X-Twilio-Signature`); the signature is checked
against PUBLIC_BASE_URL + the path, the URL Twilio was given, never the Host header Django sees behind a
proxy.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import schema_context
from twilio.twiml.voice_response import VoiceResponse

from common.phones import E164, language_for_country, phone_country, phone_mask
from inbound import receiver
from inbound.receiver import SID, TWIML, WebhookAnswer, error_answer, forbidden_answer, missing_params
from inbound.services import status_callback_apply
from leaders.routing import leader_for_number
from messaging.texts import auto_text, language_or_default

logger = logging.getLogger(__name__)

# The language a <Say> speaks for each of our languages.
SAY_LANGUAGES = {"en": "en-US", "fr": "fr-FR", "es": "es-MX", "de": "de-DE", "ar": "ar-XA"}


def signature_valid(request: HttpRequest) -> bool:
    """Whether Twilio signed this request (the URL it was given, and the form), with our auth token."""
    return receiver.signature_valid(
        full_path=request.get_full_path(),
        params=request.POST,
        signature=request.headers.get("X-Twilio-Signature", ""),
    )


def _response(answer: WebhookAnswer) -> HttpResponse:
    return HttpResponse(answer.body, content_type=answer.content_type, status=answer.status)


def _forbidden() -> HttpResponse:
    return _response(forbidden_answer())


def _twiml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=TWIML)


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> HttpResponse:
    """A fan texted a leader's number. In production `community.wsgi` answers this path before Django
    (inbound.receiver); this view serves it everywhere else (the test client, the simulator), the same."""
    return _response(
        receiver.sms_webhook_answer(
            params=request.POST,
            signature=request.headers.get("X-Twilio-Signature", ""),
            full_path=request.get_full_path(),
        )
    )


@csrf_exempt
@require_POST
def voice_webhook(request: HttpRequest) -> HttpResponse:
    """Someone called a leader's number: the leader's greeting, spoken in the caller's likely language."""
    if not signature_valid(request):
        return _forbidden()
    missing = missing_params(request.POST, ("CallSid", "To"))
    if missing:
        return _response(error_answer(400, f"missing parameter(s): {', '.join(missing)}"))
    to = request.POST["To"].strip()
    leader = leader_for_number(to) if E164.match(to) else None
    response = VoiceResponse()
    if leader is None:
        logger.warning("call to %s, which is no leader's number: ignored", phone_mask(to))
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
    missing = missing_params(post, ("MessageSid", "MessageStatus"))
    if missing:
        return _response(error_answer(400, f"missing parameter(s): {', '.join(missing)}"))
    sid = post["MessageSid"]
    raw_code = (post.get("ErrorCode") or "").strip()
    error_code = int(raw_code) if raw_code.isdecimal() and len(raw_code) < 9 else None
    sender = (post.get("From") or "").strip()
    leader = leader_for_number(sender) if E164.match(sender) else None
    if leader is None or not SID.match(sid):
        return HttpResponse(status=200)
    broadcast = request.GET.get("broadcast", "")  # in the callback URL of a broadcast's texts
    broadcast_id = int(broadcast) if broadcast.isdecimal() and len(broadcast) < 10 else None
    with schema_context(leader.schema_name):
        found = status_callback_apply(
            sid=sid, status=post["MessageStatus"], error_code=error_code, broadcast_id=broadcast_id
        )
    if not found:
        logger.info("status callback for an unknown message on %s: ignored", leader.slug)
    return HttpResponse(status=200)
