"""The events pages: the list (upcoming, past), an event's form (create, edit), its alert (an audience with
its count, then a broadcast under the broadcasts' rules), its page with live counts by region, the attendees
with the teammates' check-in, and the CSV of attendees. Thin views over events.services and the selectors.

Every teammate reads the list and an event's page and checks members in at the door (responders staff
doors too); owners and managers create, edit, alert and download the CSV, which is members one by one."""

from __future__ import annotations

import functools
import itertools

from django.contrib import messages
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from console.broadcasts.views import duration_text
from console.csvexport import csv_lines
from console.decorators import manager_required, teammate_required
from console.events import selectors
from console.events.forms import AlertForm, CheckInForm, EventForm
from console.masking import phone_for, phones_visible
from events import selectors as engine_selectors
from events import services
from events.models import CHECK_IN_MARGIN, Event, Source
from events.texts import event_text, rsvp_instructions
from members.audience import AudienceError
from members.models import ExportRecord
from members.services import export_record_start
from messaging.broadcasts import compose
from messaging.models import Broadcast, BroadcastError
from messaging.segments import segment_info_for_template

POLL_SECONDS = 5
# A teammate may check members in until this long after the end (the engine refuses later ones).
CHECK_IN_LATE = CHECK_IN_MARGIN * 12


def _status_labels() -> dict[str, str]:
    # Built per request: the labels are in the reader's language.
    return {
        "confirmed": _("Yes"),
        "waitlisted": _("Waitlist"),
        "declined": _("No"),
        "checked_in": _("Checked in"),
        "": _("No answer"),
    }


# --- the list -------------------------------------------------------------------------------------------------
@teammate_required
def events(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    past = request.GET.get("when") == "past"
    return render(
        request,
        "console/events/events.html",
        {
            "section": "events",
            "past": past,
            "summaries": selectors.events_summaries(upcoming=not past, now=now),
        },
    )


# --- create and edit ------------------------------------------------------------------------------------------
def _edit(request: HttpRequest, event: Event | None) -> HttpResponse:
    leader = request.tenant
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST, leader=leader, event=event)
        if form.is_valid():
            try:
                if event is None:
                    saved = services.event_create(
                        leader=leader, data=form.event_fields(), created_by=request.user
                    )
                else:
                    saved = services.event_update(leader=leader, event=event, data=form.event_fields())
            except services.EventError as error:  # a rule only the engine knows (a reserved code word…)
                field = error.field if error.field in form.fields else None
                if error.field == "place_id":
                    field = "place"
                elif error.field == "reminder_offsets":
                    field = "reminders"
                form.add_error(field, str(error))
            else:
                messages.success(request, _("Event “%(title)s” saved.") % {"title": saved.title})
                return redirect("console:event", event_id=saved.pk)
        status = 400
    else:
        initial = EventForm.initial_for(event) if event is not None else None
        form = EventForm(initial=initial, leader=leader, event=event)
    return render(
        request,
        "console/events/event_form.html",
        {"section": "events", "form": form, "event": event},
        status=status,
    )


@manager_required
def event_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@manager_required
def event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(Event, pk=event_id)
    if event.is_cancelled:
        messages.error(request, _("This event was cancelled; it cannot be changed."))
        return redirect("console:event", event_id=event.pk)
    return _edit(request, event)


@manager_required
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    """GET asks first; POST cancels: no more answers, reminders or check-ins. What was sent stays sent."""
    event = get_object_or_404(Event, pk=event_id)
    if request.method == "POST" and not event.is_cancelled:
        services.event_cancel(event=event)
        messages.success(request, _("Event “%(title)s” cancelled.") % {"title": event.title})
        return redirect("console:event", event_id=event.pk)
    if event.is_cancelled:
        return redirect("console:event", event_id=event.pk)
    return render(request, "console/events/event_cancel.html", {"section": "events", "event": event})


# --- the alert ------------------------------------------------------------------------------------------------
def _alert_form(request: HttpRequest, event: Event, data=None) -> AlertForm:
    initial = {"body": event_text("alert", language=event.languages[0], leader=request.tenant, event=event)}
    return AlertForm(data, event=event, suffixes=rsvp_instructions(event), initial=initial)


def _preview(request: HttpRequest, form: AlertForm, event: Event) -> dict:
    body = form.cleaned_data["body"]
    # The costliest copy decides the estimate: the instruction in the language that takes most segments.
    longest = max(
        (Broadcast.with_suffix(body, text) for text in form.suffixes.values()),
        key=lambda copy: segment_info_for_template(copy).segments,
        default=body,
    )
    preview = compose.broadcast_preview(leader=request.tenant, filters=form.filters(), body=longest)
    preview["estimated"] = duration_text(preview["estimated_seconds"])
    preview["needs_approval"] = compose.broadcast_needs_approval(
        leader=request.tenant, recipients=preview["count"]
    )
    return preview


@manager_required
def event_alert(request: HttpRequest, event_id: int) -> HttpResponse:
    """The audience with its count, then the alert: a broadcast with "Reply YES or NO" added in each
    member's language, sent, scheduled or held for approval by the broadcasts' own rules."""
    event = get_object_or_404(Event, pk=event_id)
    form = _alert_form(request, event, request.POST or None)
    preview = None
    closed = not event.rsvp_open()
    status = 400 if closed else 200
    if request.method == "POST" and not closed:
        if not form.is_valid():
            status = 400
        else:
            try:
                preview = _preview(request, form, event)
                if request.POST.get("step") == "send":
                    if not preview["count"]:
                        raise ValueError(_("No member matches this audience."))
                    broadcast = _alert_send(request, form, event)
                    if broadcast.status == Broadcast.Status.AWAITING_APPROVAL:
                        messages.info(request, _("The alert waits for another teammate's approval."))
                    else:
                        messages.success(request, _("The alert is on its way."))
                    return redirect("console:event", event_id=event.pk)
            except (ValueError, BroadcastError, services.EventError) as error:
                form.add_error(None, str(error))
                status = 400
    suffix = rsvp_instructions(event).get(event.language_for(request.LANGUAGE_CODE or ""), "")
    return render(
        request,
        "console/events/event_alert.html",
        {
            "section": "events",
            "event": event,
            "form": form,
            "preview": preview,
            "suffix": suffix,
            "closed": closed,
        },
        status=status,
    )


def _alert_send(request: HttpRequest, form: AlertForm, event: Event) -> Broadcast:
    """The engine makes the draft (linked to the event, with its instruction); the broadcasts' compose
    submits it in the same transaction: approval, the weekly cap, quiet hours are theirs."""
    with transaction.atomic():
        broadcast = services.event_alert_create(
            leader=request.tenant,
            event=event,
            filters=form.filters(),
            body=form.cleaned_data["body"],
            created_by=request.user,
        )
        if not form.cleaned_data["quiet_hours"]:
            Broadcast.objects.filter(pk=broadcast.pk).update(ignore_quiet_hours=True)
            broadcast.ignore_quiet_hours = True
        return compose.broadcast_submit(leader=request.tenant, broadcast=broadcast)


@manager_required
@require_GET
def event_alert_count(request: HttpRequest, event_id: int) -> JsonResponse:
    """The live audience count: the alert form's fields as a query string."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return JsonResponse({"error": _("No such event.")}, status=404)
    data = request.GET.copy()
    if not data.get("body"):
        data["body"] = "x"  # the count does not depend on the message
    form = _alert_form(request, event, data)
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return JsonResponse({"error": _("Check the audience."), "fields": fields}, status=400)
    try:
        preview = _preview(request, form, event)
    except (AudienceError, BroadcastError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"count": preview["count"], "needs_approval": preview["needs_approval"]})


# --- the event's page -----------------------------------------------------------------------------------------
def _column(key: str | None) -> str:
    if key is None:
        return _("Other regions")
    return key or _("Unknown place")


def _page_context(request: HttpRequest, event: Event) -> dict:
    counts = selectors.event_counts(event=event)
    for region in counts.regions:
        region.label = _column(region.key)  # the dataclass' label field, in the reader's language
    status = request.GET.get("status") or ""
    if status not in ("confirmed", "waitlisted", "declined", "checked_in"):
        status = ""
    attendees, attendee_total = selectors.event_attendees(event=event, status=status or None)
    labels = _status_labels()
    for attendee in attendees:
        attendee.status_label = labels.get(attendee.status, attendee.status)
    return {
        "section": "events",
        "event": event,
        "counts": counts,
        "attendees": attendees,
        "attendee_total": attendee_total,
        "attendees_cut": attendee_total > len(attendees),
        "status": status,
        "status_filters": [
            (key, labels[key]) for key in ("confirmed", "waitlisted", "declined", "checked_in")
        ],
        "alerts": list(event.alerts.select_related("broadcast")),
        "poll_seconds": POLL_SECONDS,
        "check_in_allowed": not event.is_cancelled and timezone.now() <= event.ends_at + CHECK_IN_LATE,
        "check_in_form": CheckInForm(leader=request.tenant),
    }


@teammate_required
def event_page(request: HttpRequest, event_id: int) -> HttpResponse:
    """An event's page: its figures by region and its attendees, refreshed every few seconds (?partial=1 is
    that part alone, which static/console/events.js swaps in)."""
    event = get_object_or_404(Event, pk=event_id)
    context = _page_context(request, event)
    if request.GET.get("partial"):
        return render(request, "console/events/_live.html", context)
    return render(request, "console/events/event.html", context)


@teammate_required
@require_POST
def event_check_in(request: HttpRequest, event_id: int) -> HttpResponse:
    """A teammate at the door checks a member in (once: a second press says so), from the list's button or
    by the member's number."""
    event = get_object_or_404(Event, pk=event_id)
    form = CheckInForm(request.POST, leader=request.tenant)
    if not form.is_valid():
        for error in form.non_field_errors() or [_("No such member.")]:
            messages.error(request, error)
        return redirect(reverse("console:event", kwargs={"event_id": event.pk}) + "#check-in")
    member = form.cleaned_data["found"]
    name = member.first_name or phone_for(request.user, request.tenant, member.phone)
    try:
        _check_in, created = services.check_in_record(
            event=event, member=member, source=Source.CONSOLE, by=request.user
        )
    except services.EventError as error:
        messages.error(request, str(error))
    else:
        if created:
            messages.success(request, _("%(name)s is checked in.") % {"name": name})
        else:
            messages.info(request, _("%(name)s was already checked in.") % {"name": name})
    return redirect(reverse("console:event", kwargs={"event_id": event.pk}) + "#attendees")


# --- CSV --------------------------------------------------------------------------------------------------------
@manager_required
def event_export(request: HttpRequest, event_id: int) -> StreamingHttpResponse:
    """The attendees as CSV, streamed; recorded for the owners first, like every export of members."""
    event = get_object_or_404(Event, pk=event_id)
    record = export_record_start(
        user=request.user,
        filters={"event": event.pk, "event_title": event.title},
        kind=ExportRecord.Kind.EVENT_ATTENDEES,
    )
    filename = f"{request.tenant.slug}-event-{event.pk}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(
        csv_lines(
            # The engine's rows after their header (csv_lines writes its own, and masks the phone column).
            columns=engine_selectors.ATTENDEE_COLUMNS,
            rows=itertools.islice(engine_selectors.attendee_rows(event=event), 1, None),
            schema_name=connection.schema_name,
            record_id=record.pk,
            mask=None
            if phones_visible(request.user, request.tenant)
            else functools.partial(phone_for, request.user, request.tenant),
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
