"""Builders for Twilio's webhook posts, signed as Twilio signs them, for the messaging tests."""

from __future__ import annotations

import itertools
import uuid
from urllib.parse import urlencode

from django.conf import settings
from twilio.request_validator import RequestValidator

from messaging.twilio.transport import local_auth_token

SMS_PATH = "/webhooks/twilio/sms/"
VOICE_PATH = "/webhooks/twilio/voice/"
STATUS_PATH = "/webhooks/twilio/status/"
_sids = itertools.count()


def auth_token() -> str:
    """The token Twilio signs with: the configured one (the fake's, under the twilio fixture), else the
    local one LocalTransport derives from SECRET_KEY."""
    return settings.TWILIO_AUTH_TOKEN or local_auth_token()


def sign(path: str, params: dict[str, str], *, token: str | None = None, base: str | None = None) -> str:
    url = (base or settings.PUBLIC_BASE_URL) + path
    return RequestValidator(token or auth_token()).compute_signature(url, params)


def new_sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def sms_params(*, from_: str, to: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    """The form Twilio posts for an inbound text, with its usual extra parameters."""
    sid = sid or new_sid()
    return {
        "ToCountry": "US",
        "ToState": "DC",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "WASHINGTON",
        "FromZip": "20001",
        "SmsSid": sid,
        "FromState": "DC",
        "SmsStatus": "received",
        "FromCity": "WASHINGTON",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "20001",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_signed(client, path: str, params: dict[str, str], **kwargs):
    """Post as Twilio does: an urlencoded form, signed."""
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(path, params),
        **kwargs,
    )


def text(client, leader, phone: str, body: str, **extra: str):
    """A fan at `phone` texts `leader`'s number; returns the webhook's response."""
    params = sms_params(from_=phone, to=str(leader.phone_number), body=body, **extra)
    return post_signed(client, SMS_PATH, params)


def twiml_messages(response) -> list[str]:
    """The texts a TwiML answer tells Twilio to send back."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == "Response"
    return [element.text or "" for element in root.iter("Message")]
