"""Twilio's refusals, in one place: the error codes that decide what the caller does next, and
``TransportError``, what any failure to hand a message to Twilio becomes (``_transport_error``).

Twilio echoes numbers in its error messages ("The 'To' number +12025550142 is not a valid phone number"):
they are masked (``common.phones.phones_scrub``) so an error stored or logged never carries a full number.
"""

from __future__ import annotations

import aiohttp
import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from common.phones import phones_scrub

# Twilio error codes (https://www.twilio.com/docs/api/errors) that decide what the caller does next.
OPT_OUT_CODES = frozenset({21610})  # the recipient replied STOP at the carrier: treat as an opt-out
# Codes that say the number itself cannot get texts: not a valid number (21211), not a mobile (21614).
# Deliberately absent: 21612 (not reachable *from this sender*, e.g. a short code and an unsupported carrier)
# and 21408 (our account lacks the geographic permission): both depend on the sender or the account, not on
# the member's number, so the member must not be flagged. They are not retryable either.
INVALID_RECIPIENT_CODES = frozenset({21211, 21614})
# 20429: too many requests; 21611: the sender's queue is full (Twilio queues at most ~10 hours of traffic);
# 30001: queue overflow reported later, in a status callback. All clear up if we slow down and try again.
RETRYABLE_CODES = frozenset({20429, 21611, 30001})


class TransportError(Exception):
    """Why a message was not accepted by Twilio (or never reached it).

    ``code`` is Twilio's error code from the JSON body (21610, 20429...) or None; ``http_status`` is None when
    no HTTP answer came back (``connection_error``: refused, reset, timed out, DNS). The same class can
    describe a delivery failure from a status callback: ``TransportError(msg, code=int(ErrorCode))``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        connection_error: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.connection_error = connection_error

    @property
    def retryable(self) -> bool:
        """Whether sending the same message later may succeed (after a back-off)."""
        if self.connection_error or self.code in RETRYABLE_CODES:
            return True
        # 429 and 5xx are Twilio (or a proxy in front of it) being busy. Any other 4xx is about the request
        # itself (bad number, opted out, bad credentials) and would fail again identically.
        return self.http_status is not None and (self.http_status == 429 or self.http_status >= 500)

    @property
    def opts_out_recipient(self) -> bool:
        """The recipient unsubscribed at the carrier: record an opt-out, never text them again."""
        return self.code in OPT_OUT_CODES

    @property
    def invalid_recipient(self) -> bool:
        """The number cannot receive texts at all (not a valid number, or not a mobile)."""
        return self.code in INVALID_RECIPIENT_CODES

    def __str__(self) -> str:
        if self.connection_error:
            return f"connection error: {self.message}"
        return f"Twilio error {self.code or '-'} (HTTP {self.http_status or '-'}): {self.message}"

    def __repr__(self) -> str:
        return (
            f"TransportError({self.message!r}, code={self.code!r}, http_status={self.http_status!r}, "
            f"connection_error={self.connection_error!r})"
        )


def _twilio_code(code: object) -> int | None:
    # twilio-python puts the HTTP status in ``code`` when the body has no Twilio code (an HTML 502 from a
    # load balancer, say). Twilio's own codes have 5 digits, so anything below 1000 is not one.
    try:
        value = int(code)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return value if value >= 1000 else None


# What a request to Twilio can fail with, short of a bug. requests' and aiohttp's errors and TimeoutError
# are all OSErrors, listed anyway so that the intent reads here.
_TRANSPORT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    TwilioRestException,
    TwilioServiceException,
    requests.RequestException,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)


def _transport_error(exc: BaseException) -> TransportError:
    if isinstance(exc, TwilioRestException):
        # twilio-python prefixes Twilio's message with "Unable to create record: ".
        message = str(exc.msg)
        if message.startswith("Unable to ") and ": " in message:
            message = message.split(": ", 1)[1]
        return TransportError(phones_scrub(message), code=_twilio_code(exc.code), http_status=int(exc.status))
    if isinstance(exc, TwilioServiceException):
        message = f"{exc.title}: {exc.detail}" if exc.detail else str(exc.title)
        return TransportError(phones_scrub(message), code=_twilio_code(exc.code), http_status=int(exc.status))
    detail = str(exc) or "no detail"
    return TransportError(f"{type(exc).__name__}: {phones_scrub(detail)}", connection_error=True)
