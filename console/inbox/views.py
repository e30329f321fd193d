"""The inbox: every role answers fans one to one. Thin views: parse, call one selector or service, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from console.decorators import MANAGER, manager_required, teammate_required, user_may
from console.inbox import selectors, services
from console.inbox.forms import AssignForm, CannedReplyForm, InboxFilterForm, LabelMoveForm, ReplyForm
from console.listening.forms import UNSORTED_VALUE, cell_query
from console.listening.names import language_name
from console.models import CannedReply
from messaging.models import Conversation, Message
from messaging.segments import segment_info
from messaging.services import reply_signature
from topics.models import Topic
from triage import selectors as triage_selectors
from triage.models import Label, PlaceSource
from triage.services import label_move


@teammate_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET)
    segment_link = None
    if form.is_valid():
        inbox_filter = form.to_filter()
        queryset = selectors.conversations_filter(inbox_filter, user=request.user)
        folder = form.cleaned_data.get("folder") or "open"
        if not inbox_filter.cell.is_any and user_may(request.user, MANAGER):
            segment_link = (
                f"{reverse('console:listening_segment')}?{urlencode(cell_query(inbox_filter.cell))}"
            )
    else:
        queryset, folder = Conversation.objects.none(), "open"
    page = selectors.conversations_page(queryset, after=request.GET.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    folders = []
    overdue = selectors.conversations_overdue_count()
    for value, label in form.fields["folder"].choices:
        if value == "overdue":
            label = _("Overdue (%(count)s)") % {"count": overdue}
        link = request.GET.copy()
        link.pop("after", None)
        link["folder"] = value
        folders.append(
            {"value": value, "label": label, "query": link.urlencode(), "current": value == folder}
        )
    return render(
        request,
        "console/inbox.html",
        {
            "section": "inbox",
            "form": form,
            "page": page,
            "folders": folders,
            "query": query.urlencode(),
            "is_first_page": "after" not in request.GET,
            "segment_link": segment_link,
        },
        status=200 if form.is_valid() else 400,
    )


def _thread(request: HttpRequest, conversation: Conversation, *, reply_form=None, status: int = 200):
    canned = list(CannedReply.objects.all())
    if reply_form is None:
        initial = {}
        chosen = request.GET.get("canned")
        if chosen and chosen.isdecimal():
            found = next((c for c in canned if c.pk == int(chosen)), None)
            if found is not None:
                initial["body"] = found.body
        reply_form = ReplyForm(initial=initial)
    body = reply_form.data.get("body") if reply_form.is_bound else reply_form.initial.get("body", "")
    signature = reply_signature(leader=request.tenant, user=request.user)
    signed = (body or "") + signature
    info = segment_info(signed)
    texts = selectors.thread_messages(conversation)
    topics = _thread_triage(texts)
    thread = selectors.thread_with_broadcasts(texts, conversation.member)
    return render(
        request,
        "console/inbox_thread.html",
        {
            "section": "inbox",
            "conversation": conversation,
            "thread": thread,
            "topics": topics,
            "unsorted_value": UNSORTED_VALUE,
            "reply_form": reply_form,
            "assign_form": AssignForm(
                initial={"user": conversation.assigned_to_id}, users=selectors.team_users()
            ),
            "canned": canned,
            "count": {"characters": len(signed), "segments": info.segments, "encoding": info.encoding},
            "limit": services.REPLY_MAX_LENGTH,
            "signature": signature.strip(),
        },
        status=status,
    )


def place_source_label(source: str) -> str:
    return {
        PlaceSource.MEMBER: _("the member's city"),
        PlaceSource.CARRIER: _("the carrier"),
        PlaceSource.PHONE: _("the phone number"),
        PlaceSource.TEXT: _("named in the text"),
    }.get(source, "")


def _thread_triage(thread: list[Message]) -> list[Topic]:
    """Each fan's text gets `triage`: its label (topic or unsorted, confidence, language, place and where
    the place came from), or None before triage reached it. Returns the topics a text can move to."""
    inbound = [message.pk for message in thread if message.direction == Message.Direction.INBOUND]
    labels = triage_selectors.labels_by_message(inbound)
    for message in thread:
        label = labels.get(message.pk)
        message.triage = label
        if label is not None:
            label.confidence_percent = f"{round(label.confidence * 100)}%"
            label.language_text = language_name(label.language) if label.language else ""
            label.place_text = ", ".join(part for part in (label.city, label.region, label.country) if part)
            label.source_text = place_source_label(label.place_source)
    return list(Topic.objects.all()) if labels else []


def _conversation(pk: int) -> Conversation:
    return get_object_or_404(Conversation.objects.select_related("member", "assigned_to"), pk=pk)


@teammate_required
@require_GET
def inbox_thread(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    services.conversation_mark_read(conversation=conversation)
    return _thread(request, conversation)


@teammate_required
@require_POST
def inbox_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.conversation_reply(
                leader=request.tenant,
                conversation=conversation,
                body=form.cleaned_data["body"],
                user=request.user,
            )
        except ValidationError as error:
            form.add_error("body", error)
        else:
            messages.success(request, _("Reply queued."))
            return redirect("inbox_thread", conversation_id=conversation.pk)
    return _thread(request, conversation, reply_form=form, status=400)


@teammate_required
@require_POST
def inbox_assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    form = AssignForm(request.POST, users=selectors.team_users())
    if not form.is_valid():
        messages.error(request, _("Choose a teammate from the list."))
        return redirect("inbox_thread", conversation_id=conversation.pk)
    services.conversation_assign(conversation=conversation, user=form.cleaned_data["user"])
    messages.success(request, _("Assignment saved."))
    return redirect("inbox_thread", conversation_id=conversation.pk)


@teammate_required
@require_POST
def inbox_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(conversation_id)
    action = request.POST.get("action")
    if action == "done":
        services.conversation_close(conversation=conversation, user=request.user)
        messages.success(request, _("Marked as done."))
        return redirect(reverse("inbox"))
    if action == "reopen":
        services.conversation_reopen(conversation=conversation)
        messages.success(request, _("Conversation reopened."))
        return redirect("inbox_thread", conversation_id=conversation.pk)
    messages.error(request, _("Unknown action."))
    return redirect("inbox_thread", conversation_id=conversation.pk)


@teammate_required
@require_GET
def inbox_segments(request: HttpRequest) -> JsonResponse:
    """The live count under the reply box: characters, segments, encoding."""
    text = request.GET.get("text", "")[: services.REPLY_MAX_LENGTH * 4]
    # Counted as the fan gets it: with the teammate's signature when the leader signs replies.
    text += reply_signature(leader=request.tenant, user=request.user)
    info = segment_info(text)
    return JsonResponse(
        {
            "characters": len(text),
            "segments": info.segments,
            "encoding": info.encoding,
            "limit": services.REPLY_MAX_LENGTH,
            "too_long": len(text) > services.REPLY_MAX_LENGTH,
        }
    )


@manager_required
def canned_replies(request: HttpRequest) -> HttpResponse:
    form = CannedReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Canned reply added."))
        return redirect("inbox_canned")
    return render(
        request,
        "console/inbox_canned.html",
        {"section": "inbox", "form": form, "canned": CannedReply.objects.all()},
        status=400 if form.errors else 200,
    )


@manager_required
@require_POST
def canned_reply_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    CannedReply.objects.filter(pk=canned_id).delete()
    messages.success(request, _("Canned reply removed."))
    return redirect("inbox_canned")


@teammate_required
@require_POST
def inbox_label_move(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """A teammate says what a fan's text is about (another topic, or unsorted): the text becomes an example
    for the leader's classifier, and the thread shows the new topic at once."""
    conversation = _conversation(conversation_id)
    label = get_object_or_404(
        Label.objects.select_related("message"), message_id=message_id, message__phone=conversation.phone
    )
    form = LabelMoveForm(request.POST, topics=Topic.objects.all())
    if not form.is_valid():
        messages.error(request, _("Choose a topic from the list."))
        return redirect("inbox_thread", conversation_id=conversation.pk)
    topic = form.chosen_topic()
    label_move(label=label, topic=topic, by=request.user)
    if topic is None:
        messages.success(request, _("The text is now unsorted."))
    else:
        messages.success(request, _("The text is now about “%(topic)s”.") % {"topic": topic.name})
    return redirect(
        f"{reverse('inbox_thread', kwargs={'conversation_id': conversation.pk})}#text-{message_id}"
    )
