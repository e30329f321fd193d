"""The phone simulator: staff (or anyone, in DEBUG) text a leader's number as a fan, from a browser.

A text typed here becomes the form Twilio would post, signed with the transport's own validator (the
configured auth token, or LocalTransport's local one), and goes through the real webhook view in-process:
the code path is production's. The page then shows everything between that phone and the leader: the
fan's texts, the answers in the webhook's TwiML, and texts queued or sent through the API.
"""

from __future__ import annotations

import random
import uuid
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_tenants.utils import schema_context

from common.phones import E164, phone_country
from inbound.receiver import sms_webhook_answer
from leaders.models import Leader
from members.demo import FICTIONAL_LINES, fictional_number
from members.models import Member
from messaging.broadcasts.selectors import member_broadcasts_received
from messaging.models import Message
from messaging.twilio.transport import get_transport

MAX_BODY = 1600  # Twilio's longest inbound text
SHOWN_MESSAGES = 100


def staff_or_debug(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        user = getattr(request, "user", None)
        if settings.DEBUG or (user is not None and user.is_authenticated and user.is_staff):
            return view(request, *args, **kwargs)
        if request.method == "GET" and not request.headers.get("Accept", "").startswith("application/json"):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return JsonResponse({"error": "staff only"}, status=403)

    return wrapper


def default_fan_phone() -> str:
    """A number that belongs to no one, from the end of the fictional range (the demo seed starts at 0)."""
    return fictional_number(FICTIONAL_LINES - 1 - random.randrange(2_000))


@require_GET
@staff_or_debug
def simulator_page(request: HttpRequest) -> HttpResponse:
    leaders = list(Leader.objects.order_by("name").values("slug", "name", "phone_number", "status"))
    return render(
        request,
        "inbound/simulator.html",
        {"leaders": leaders, "phone": default_fan_phone(), "selected": request.GET.get("leader", "")},
    )


def _leader_and_phone(data) -> tuple[Leader | None, str, JsonResponse | None]:
    leader = Leader.objects.filter(slug=(data.get("leader") or "").strip()).first()
    if leader is None:
        return None, "", JsonResponse({"error": "choose a leader"}, status=400)
    phone = (data.get("phone") or "").strip().replace(" ", "")
    if not E164.match(phone):
        return (
            leader,
            "",
            JsonResponse({"error": "the fan's phone must be in E.164 form, like +12025550199"}, status=400),
        )
    return leader, phone, None


@require_POST
@staff_or_debug
def simulator_send(request: HttpRequest) -> JsonResponse:
    """Post this text to our own SMS webhook exactly as Twilio would, signed, and report its answer."""
    leader, phone, error = _leader_and_phone(request.POST)
    if error is not None:
        return error
    body = request.POST.get("body", "")
    if not body.strip():
        return JsonResponse({"error": "type a text to send"}, status=400)
    if len(body) > MAX_BODY:
        return JsonResponse({"error": f"a text is at most {MAX_BODY} characters"}, status=400)
    transport = get_transport()
    sid = "SM" + uuid.uuid4().hex
    params = {
        "ToCountry": phone_country(str(leader.phone_number)) or "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "FromCountry": phone_country(phone) or "",
        "To": str(leader.phone_number),
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": getattr(transport, "account_sid", "AC" + "0" * 32),
        "From": phone,
        "ApiVersion": "2010-04-01",
    }
    path = reverse("twilio_sms", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    signature = transport.request_validator().compute_signature(settings.PUBLIC_BASE_URL + path, params)
    answer = sms_webhook_answer(params=params, signature=signature, full_path=path)
    return JsonResponse(
        {"status": answer.status, "twiml": answer.body, "sid": sid},
        status=200 if answer.status == 200 else 502,
    )


@require_GET
@staff_or_debug
def simulator_messages(request: HttpRequest) -> JsonResponse:
    """Every text between this phone and the leader, oldest first."""
    leader, phone, error = _leader_and_phone(request.GET)
    if error is not None:
        return error
    with schema_context(leader.schema_name):
        rows = list(
            Message.objects.filter(phone=phone)
            .order_by("-created_at", "-pk")
            .values("id", "direction", "kind", "body", "status", "failure_reason", "created_at")[
                :SHOWN_MESSAGES
            ]
        )
        rows.reverse()
        # The broadcasts this phone's member got, where a phone shows them: among the other texts.
        member = Member.objects.filter(phone=phone).first()
        since = rows[0]["created_at"] if len(rows) >= SHOWN_MESSAGES else None
        received = member_broadcasts_received(member, since=since) if member is not None else []
    messages = [
        {
            "id": row["id"],
            "direction": row["direction"],
            "kind": row["kind"],
            "body": row["body"],
            "status": row["status"],
            "failure_reason": row["failure_reason"],
            "at": row["created_at"].isoformat(),
        }
        for row in rows
    ] + [
        {
            "id": f"broadcast-{item.broadcast_id}",
            "direction": Message.Direction.OUTBOUND,
            "kind": "broadcast",
            "body": item.body,
            "status": "sent",
            "failure_reason": "",
            "at": item.sent_at.isoformat(),
        }
        for item in received
    ]
    messages.sort(key=lambda message: message["at"])
    return JsonResponse({"leader": leader.slug, "phone": phone, "messages": messages})
