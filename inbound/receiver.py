"""Twilio's inbound-text webhook, answered ahead of Django's request handling.

Every fan's text is one `POST /webhooks/twilio/sms/`, and a busy number gets thousands a second. Storing a
text costs one prepared SQL statement (`inbound.services.inbound_sms_receive`); going through Django's
request handler and its middleware (tenant lookup by host, sessions, CSRF, locale, messages) cost several
times that, for a request that needs none of it. So the WSGI application (`community.wsgi`) hands this one
path to `sms_receiver_app` before Django sees it: parse the form, check Twilio's signature, route by `To`,
store, answer TwiML. RapidPro makes the same split for the same reason (its courier receives messages,
the Django app does the rest).

`sms_webhook_answer` is the whole webhook, framework-free; the Django view (`inbound.views.sms_webhook`,
the same URL when the app is served without `community.wsgi`, and the phone simulator) calls it too, so the
two can never answer differently.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from twilio.twiml.messaging_response import MessagingResponse

from common.phones import E164, phone_mask
from inbound.services import InboundSms, inbound_sms_receive
from leaders.routing import leader_for_number
from messaging.twilio.transport import get_transport

logger = logging.getLogger("inbound.views")

SMS_PATH = "/webhooks/twilio/sms/"
SID = re.compile(r"^[A-Za-z0-9]{2,40}$")
EMPTY_TWIML = str(MessagingResponse())
TWIML = "text/xml; charset=utf-8"
JSON = "application/json"
# Twilio's inbound forms are a few kilobytes (a 1,600-character body, ten media URLs); anything much larger
# is no text from Twilio.
MAX_FORM_BYTES = 64 * 1024
# Parameters kept with an inbound text for the inbox (where the fan is, attached pictures); the rest of
# what Twilio sends (and it adds parameters without notice) is ignored, never refused.
_DETAIL = re.compile(r"^(From(City|State|Zip|Country)|NumMedia|NumSegments|Media(Url|ContentType)\d{1,2})$")
_MAX_DETAIL = 500


@dataclasses.dataclass(frozen=True)
class WebhookAnswer:
    status: int
    content_type: str
    body: str


def twiml_answer(body: str = EMPTY_TWIML) -> WebhookAnswer:
    return WebhookAnswer(200, TWIML, body)


def error_answer(status: int, message: str) -> WebhookAnswer:
    return WebhookAnswer(status, JSON, json.dumps({"error": message}))


def forbidden_answer() -> WebhookAnswer:
    """The answer to a request Twilio did not sign, on every webhook."""
    return error_answer(403, "invalid or missing X-Twilio-Signature")


def signature_valid(*, full_path: str, params: Mapping[str, Any], signature: str) -> bool:
    """Whether Twilio signed this request (the URL it was given, and the form), with our auth token.

    Checked against PUBLIC_BASE_URL + the path and query, never the Host header: behind a proxy the URL the
    application sees is not the one Twilio signed.
    """
    if not signature:
        return False
    url = settings.PUBLIC_BASE_URL + full_path
    validator = get_transport().request_validator()
    # Twilio signs the URL exactly as the number's webhook is configured, PUBLIC_BASE_URL + path: one HMAC
    # settles the common case. validate() then tries the variants Twilio may also use (with or without the
    # default port), so no genuine request is refused.
    if hmac.compare_digest(validator.compute_signature(url, params).encode(), signature.encode()):
        return True
    return validator.validate(url, params, signature)


def _clean(value: str) -> str:
    # PostgreSQL refuses NUL in text; Twilio never sends one, but a bad answer is a 4xx, never a 500.
    return value.replace("\x00", "")


def missing_params(params: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not params.get(name)]


def sms_webhook_answer(*, params: Mapping[str, Any], signature: str, full_path: str) -> WebhookAnswer:
    """A fan texted a leader's number: what to answer Twilio. `params` is the posted form (a mapping of
    first values with `getlist`, as Django's QueryDict or `Form`), `full_path` the path and query string."""
    if not signature_valid(full_path=full_path, params=params, signature=signature):
        return forbidden_answer()
    missing = missing_params(params, ("MessageSid", "From", "To"))
    if missing:
        return error_answer(400, f"missing parameter(s): {', '.join(missing)}")
    sid, from_, to = params["MessageSid"], params["From"].strip(), params["To"].strip()
    if not SID.match(sid):
        return error_answer(400, "MessageSid is not a Twilio SID")
    if not E164.match(from_) or not E164.match(to):
        return error_answer(400, "From and To must be phone numbers in E.164 form (+12025550142)")
    leader = leader_for_number(to)
    if leader is None:
        logger.warning("inbound text to %s, which is no leader's number: ignored", phone_mask(to))
        return twiml_answer()
    details = {
        key: _clean(value)[:_MAX_DETAIL] for key, value in params.items() if _DETAIL.match(key) and value
    }
    sms = InboundSms(
        sid=sid, from_=from_, to=to, body=_clean(params.get("Body", "")), details=details or None
    )
    result = inbound_sms_receive(leader=leader, sms=sms)
    if not result.reply:
        return twiml_answer()
    response = MessagingResponse()
    response.message(result.reply)
    return twiml_answer(str(response))


class Form(dict):
    """An urlencoded form: each name's first value, and `getlist` for all of them (what twilio's
    RequestValidator reads, as it does Django's QueryDict)."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        self._lists: dict[str, list[str]] = {}
        for name, value in pairs:
            if name in self._lists:
                self._lists[name].append(value)
            else:
                self._lists[name] = [value]
                self[name] = value

    def getlist(self, name: str) -> list[str]:
        return self._lists.get(name, [])

    getall = getlist  # the name the validator tries first (Flask's MultiDict)


_REASONS = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    413: "413 Payload Too Large",
    500: "500 Internal Server Error",
}


def _form_read(environ: dict[str, Any]) -> Form | WebhookAnswer:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_answer(400, "Content-Length is not a number")
    if length > MAX_FORM_BYTES:
        return error_answer(413, f"a webhook form is at most {MAX_FORM_BYTES} bytes")
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    try:
        text = raw.decode("utf-8")
        return Form(parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=1000))
    except (UnicodeDecodeError, ValueError):
        return error_answer(400, "the body is not an urlencoded UTF-8 form")


def sms_receiver_app(environ: dict[str, Any], start_response: Callable) -> list[bytes]:
    """The WSGI application for `POST /webhooks/twilio/sms/` (see the module's docstring)."""
    # What Django does around each request (close_old_connections), for the one database this path uses:
    # drop a connection that failed or is too old, before and after. Never in the middle of a transaction
    # (a request never starts in one; a test that calls this in its own does, as Django's test client
    # disconnects close_old_connections for the same reason).
    database = connections[DEFAULT_DB_ALIAS]
    recycle = not database.in_atomic_block
    if recycle:
        database.close_if_unusable_or_obsolete()
    try:
        form = _form_read(environ)
        if isinstance(form, WebhookAnswer):
            answer = form
        else:
            query = environ.get("QUERY_STRING", "")
            full_path = environ.get("SCRIPT_NAME", "") + SMS_PATH + ("?" + query if query else "")
            answer = sms_webhook_answer(
                params=form, signature=environ.get("HTTP_X_TWILIO_SIGNATURE", ""), full_path=full_path
            )
    except Exception:
        # As Django's handler would: logged with the traceback, a 500 to Twilio (which then tries the
        # number's fallback URL, if any), and the process goes on.
        logger.exception("inbound text webhook failed")
        answer = error_answer(500, "internal error")
    finally:
        if recycle:
            database.close_if_unusable_or_obsolete()
    body = answer.body.encode("utf-8")
    start_response(
        _REASONS.get(answer.status, f"{answer.status} Error"),
        [("Content-Type", answer.content_type), ("Content-Length", str(len(body)))],
    )
    return [body]


def with_sms_receiver(django_app: Callable) -> Callable:
    """Django's WSGI application, with `POST /webhooks/twilio/sms/` answered by `sms_receiver_app` first.
    Other methods on that path still reach Django (and its 405)."""

    def application(environ: dict[str, Any], start_response: Callable):
        if environ.get("PATH_INFO") == SMS_PATH and environ.get("REQUEST_METHOD") == "POST":
            return sms_receiver_app(environ, start_response)
        return django_app(environ, start_response)

    return application
