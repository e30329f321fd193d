"""The console's broadcasts: compose (with live counts), confirm, list, detail with live progress, cancel,
and the second teammate's approval. Thin views over messaging.broadcasts (compose, selectors);
every page works without JavaScript, which only makes the counters live."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from console.broadcasts.forms import BroadcastForm
from console.broadcasts.selectors import audience_in_words, awaiting_approval_by, broadcast_label
from console.decorators import manager_required
from members.audience import AudienceFilter
from messaging.broadcasts import compose, queueing
from messaging.broadcasts.selectors import broadcast_list, broadcast_progress
from messaging.models import Broadcast, BroadcastError
from messaging.segments import gsm7_suggestions, render_template, segment_info_for_template, to_gsm7

LIST_SIZE = 50
PROGRESS_POLL_SECONDS = 3


def duration_text(seconds: float) -> str:
    """A send time the team can read: "12 s", "4 min 10 s", "2 h 5 min"."""
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}


def segments_summary(body: str) -> dict[str, Any]:
    """What the counter under the message shows: length, encoding, segments, and which characters force
    UCS-2 with their GSM-7 replacement when there is one."""
    info = segment_info_for_template(body)
    suggestions = gsm7_suggestions(body)
    characters = [
        {
            "char": char,
            "name": unicodedata.name(char, f"U+{ord(char):04X}").title(),
            "replacement": suggestions.get(char),
        }
        for char in info.non_gsm_characters
    ]
    replaced = to_gsm7(body, transliterate=True)
    return {
        "characters": len(body),
        "limit": Broadcast.MAX_BODY_LENGTH,
        "encoding": info.encoding,
        "segments": info.segments,
        "per_segment": info.per_segment,
        "remaining": info.remaining,
        "non_gsm": characters,
        "gsm7_body": replaced if replaced != body else None,
        "summary": _("%(characters)d characters · %(encoding)s · segments: %(segments)d")
        % {"characters": len(body), "encoding": info.encoding, "segments": info.segments},
    }


def _preview(request: HttpRequest, form: BroadcastForm) -> dict[str, Any]:
    preview = compose.broadcast_preview(
        leader=request.tenant, filters=form.filters(), body=form.cleaned_data["body"]
    )
    preview["estimated"] = duration_text(preview["estimated_seconds"])
    preview["needs_approval"] = compose.broadcast_needs_approval(
        leader=request.tenant, recipients=preview["count"]
    )
    return preview


def _compose(request: HttpRequest, form: BroadcastForm, preview: dict | None = None) -> HttpResponse:
    body = form["body"].value() or ""
    return render(
        request,
        "console/broadcast_new.html",
        {
            "section": "broadcasts",
            "form": form,
            "preview": preview,
            "segments": segments_summary(str(body)[: Broadcast.MAX_BODY_LENGTH * 2]),
            "sample": _sample(str(body)),
        },
    )


def _sample(body: str) -> str:
    return render_template(body, values={"first_name": _("Maya"), "name": _("Maya"), "city": ""})


_ANSWERED = re.compile(r"\d{1,9}:\d{1,4}")
# The audience fields a link may fill in (a segment made in listening opens the composer with its tag).
PRESET_FIELDS = ("tags_any", "tags_all", "regions", "countries")


def _audience_initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {
        name: request.GET[name][:1000] for name in PRESET_FIELDS if request.GET.get(name)
    }
    for name in ("wrote_about", "follows"):
        ids = [value for value in request.GET.getlist(name) if value.isdecimal()]
        if ids:
            initial[name] = ids
    # "<question>:<choice>": a survey's results page links to "everyone who answered 2 to question 7".
    answered = [value for value in request.GET.getlist("answered") if _ANSWERED.fullmatch(value)]
    if answered:
        initial["answered"] = answered
    return initial


@manager_required
def broadcast_new(request: HttpRequest) -> HttpResponse:
    """Compose → review (confirm page) → confirm. Each step re-posts the whole form, nothing is stored
    before the confirmation."""
    if request.method != "POST":
        return _compose(request, BroadcastForm(leader=request.tenant, initial=_audience_initial(request)))
    form = BroadcastForm(request.POST, leader=request.tenant)
    if not form.is_valid():
        return _compose(request, form)
    step = request.POST.get("step", "count")
    preview = _preview(request, form)
    if step == "review":
        send_at = form.cleaned_data["send_at_utc"]
        return render(
            request,
            "console/broadcast_confirm.html",
            {
                "section": "broadcasts",
                "form": form,
                "preview": preview,
                # Who would get it only when their quiet hours end, said before it is sent.
                "held": (
                    queueing.audience_held_count(
                        leader=request.tenant, audience=form.filters(), at=send_at or timezone.now()
                    )
                    if form.cleaned_data["quiet_hours"] and preview["count"]
                    else 0
                ),
                "quiet_opens": request.tenant.quiet_hours_end,
                "audience_words": audience_in_words(AudienceFilter.from_dict(form.filters())),
                "sample": _sample(form.cleaned_data["body"]),
                "send_at": form.cleaned_data["send_at_utc"],
                "zone": request.tenant.zone,
            },
        )
    if step != "confirm":
        return _compose(request, form, preview)
    if not preview["count"]:
        form.add_error(None, _("No member matches this audience."))
        return _compose(request, form, preview)
    try:
        with transaction.atomic():  # a draft that could not be sent or held for approval is not kept
            broadcast = compose.broadcast_create(
                leader=request.tenant,
                body=form.cleaned_data["body"],
                filters=form.filters(),
                send_at=form.cleaned_data["send_at_utc"],
                ignore_quiet_hours=not form.cleaned_data["quiet_hours"],
                created_by=request.user,
            )
            compose.broadcast_submit(leader=request.tenant, broadcast=broadcast)
    except BroadcastError as error:
        form.add_error(None, str(error))
        return _compose(request, form, preview)
    if broadcast.status == Broadcast.Status.AWAITING_APPROVAL:
        messages.info(request, _("The broadcast waits for another teammate's approval."))
    elif broadcast.status == Broadcast.Status.SCHEDULED:
        messages.success(request, _("The broadcast is scheduled."))
    else:
        messages.success(request, _("The broadcast is on its way."))
    return redirect("broadcast", broadcast_id=broadcast.pk)


@manager_required
@require_GET
def broadcast_segments(request: HttpRequest) -> JsonResponse:
    """The live counter under the message: ?body=…"""
    body = request.GET.get("body", "")
    if len(body) > Broadcast.MAX_BODY_LENGTH * 2:
        return JsonResponse({"error": _("The message is far too long.")}, status=400)
    return JsonResponse(segments_summary(body), json_dumps_params={"ensure_ascii": False})


@manager_required
@require_GET
def broadcast_count(request: HttpRequest) -> JsonResponse:
    """The live audience count: the compose form's fields as a query string."""
    data = request.GET.copy()
    if not data.get("body"):
        data["body"] = "x"  # the count does not depend on the message; its cost does
    form = BroadcastForm(data, leader=request.tenant)
    audience_fields = set(form.fields) - {"body", "when", "send_at", "quiet_hours"}
    form.is_valid()
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items() if name in audience_fields}
    if errors:
        return JsonResponse({"error": _("Check the audience filters."), "fields": errors}, status=400)
    try:
        preview = compose.broadcast_preview(
            leader=request.tenant, filters=form.filters(), body=request.GET.get("body", "")
        )
    except BroadcastError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(
        {
            "count": preview["count"],
            "segments_per_message": preview["segments_per_message"],
            "total_segments": preview["total_segments"],
            "estimated_seconds": preview["estimated_seconds"],
            "estimated": duration_text(preview["estimated_seconds"]),
            "needs_approval": compose.broadcast_needs_approval(
                leader=request.tenant, recipients=preview["count"]
            ),
        }
    )


@manager_required
def broadcasts(request: HttpRequest) -> HttpResponse:
    items = list(broadcast_list().select_related("created_by")[:LIST_SIZE])
    for item in items:
        item.status_label = broadcast_label(item)
    return render(
        request,
        "console/broadcasts.html",
        {
            "section": "broadcasts",
            "broadcasts": items,
            "awaiting_you": awaiting_approval_by(request.user),
            "zone": request.tenant.zone,
        },
    )


def held_note(broadcast: Broadcast, *, leader) -> str:
    """ "58 waiting for 09:00 their time (quiet hours) …": deliveries held for their members' quiet hours, so a
    broadcast sent at night never looks stuck. Empty when none wait."""
    waiting = broadcast.held_waiting(timezone.now())
    if not waiting:
        return ""
    # The last time in the leader's zone, which the page names once (templates/console/base.html).
    return ngettext(
        "%(count)s waiting for %(opens)s their time (quiet hours); the last goes by %(last)s.",
        "%(count)s waiting for %(opens)s their time (quiet hours); the last go by %(last)s.",
        waiting,
    ) % {
        "count": waiting,
        "opens": time_format(leader.quiet_hours_end, "TIME_FORMAT"),
        "last": date_format(timezone.localtime(broadcast.held_until, leader.zone), "DATETIME_FORMAT"),
    }


def progress_view(broadcast: Broadcast, *, leader) -> dict[str, Any]:
    """broadcast_progress plus the percentages the bar draws (of recipients), the status as the team reads it
    and what waits for quiet hours."""
    progress = broadcast_progress(broadcast)
    # Before the deliveries exist (approval, its time, a worker): the audience counted when it was submitted.
    progress["recipients"] = broadcast.recipients_expected
    total = progress["recipients"] or 0

    def percent(value: int) -> float:
        return round(100 * value / total, 1) if total else 0.0

    progress["percent_sent"] = percent(progress["sent"])
    progress["percent_delivered"] = percent(progress["delivered"])
    progress["percent_failed"] = percent(progress["failed"] + progress["undelivered"])
    progress["status_label"] = broadcast_label(broadcast)
    progress["is_over"] = broadcast.is_over
    progress["held"] = held_note(broadcast, leader=leader)
    return progress


@manager_required
def broadcast_detail(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = get_object_or_404(
        Broadcast.objects.select_related("created_by", "approved_by"), pk=broadcast_id
    )
    progress = progress_view(broadcast, leader=request.tenant)
    can_approve = (
        broadcast.status == Broadcast.Status.AWAITING_APPROVAL and broadcast.created_by_id != request.user.pk
    )
    return render(
        request,
        "console/broadcast_detail.html",
        {
            "section": "broadcasts",
            "broadcast": broadcast,
            "progress": progress,
            "can_approve": can_approve,
            "can_cancel": not broadcast.is_over,
            "audience_words": audience_in_words(broadcast.audience()),
            "poll_seconds": PROGRESS_POLL_SECONDS,
            "sample": _sample(broadcast.body),
            "zone": request.tenant.zone,
        },
    )


@manager_required
@require_GET
def broadcast_progress_json(request: HttpRequest, broadcast_id: int) -> JsonResponse:
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        return JsonResponse({"error": _("No such broadcast.")}, status=404)
    return JsonResponse(progress_view(broadcast, leader=request.tenant))


@manager_required
def broadcast_cancel(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    """Asks first (GET), cancels on the confirming POST."""
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    if request.method == "POST":
        try:
            compose.broadcast_cancel(broadcast=broadcast)
        except BroadcastError:
            messages.error(request, _("This broadcast is over: it can no longer be cancelled."))
        else:
            messages.success(request, _("The broadcast is cancelled: what had not gone out stays unsent."))
        return redirect("broadcast", broadcast_id=broadcast.pk)
    return render(request, "console/broadcast_cancel.html", {"section": "broadcasts", "broadcast": broadcast})


@manager_required
@require_POST
def broadcast_approve(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    if broadcast.created_by_id == request.user.pk:
        messages.error(request, _("You wrote this broadcast: another teammate must approve it."))
        return redirect("broadcast", broadcast_id=broadcast.pk)
    try:
        compose.broadcast_approve(leader=request.tenant, broadcast=broadcast, user=request.user)
    except BroadcastError:
        messages.error(request, _("This broadcast cannot be approved any more."))
    else:
        messages.success(request, _("Approved: the broadcast is on its way."))
    return redirect("broadcast", broadcast_id=broadcast.pk)


@manager_required
@require_POST
def broadcast_reject(request: HttpRequest, broadcast_id: int) -> HttpResponse:
    """Another teammate refuses a broadcast waiting for approval, with the reason its author reads."""
    broadcast = get_object_or_404(Broadcast, pk=broadcast_id)
    if broadcast.created_by_id == request.user.pk:
        messages.error(request, _("You wrote this broadcast: cancel it instead."))
        return redirect("broadcast", broadcast_id=broadcast.pk)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, _("Say why you reject it: its author reads the reason."))
        return redirect("broadcast", broadcast_id=broadcast.pk)
    try:
        compose.broadcast_reject(leader=request.tenant, broadcast=broadcast, user=request.user, reason=reason)
    except BroadcastError:
        messages.error(request, _("This broadcast cannot be rejected any more."))
    else:
        messages.success(request, _("Rejected: nothing is sent, and its author is told why."))
    return redirect("broadcast", broadcast_id=broadcast.pk)
