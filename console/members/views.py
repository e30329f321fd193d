"""The members pages: the list with its filters, CSV export (and the owners' record of exports) and import,
a member's page, erasure. Thin views: parse, call one selector or service, render. Role checks are the
decorators in console/decorators.py."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from common.phones import phone_normalize
from console.csvexport import csv_lines
from console.dashboard.selectors import dashboard_stats_forget
from console.decorators import manager_required, owner_required
from console.inbox.services import conversation_start
from console.masking import phone_for, phones_visible
from console.members import searches, services
from console.members.forms import (
    MEMBER_GENDER_LABELS,
    MEMBER_STATUS_LABELS,
    ImportForm,
    MembersFilterForm,
    TagsForm,
    TopicFollowForm,
    export_filters,
    export_filters_described,
)
from console.members.selectors import member_messages
from districts.selectors import member_district
from members import importing, selectors
from members.models import Member, MemberInterest
from members.services import (
    export_record_start,
    member_tags_set,
    member_topic_follow,
    member_topic_leave,
)
from messaging.broadcasts.selectors import conversation_with_broadcasts


def _filtered_members(request: HttpRequest) -> tuple[MembersFilterForm, object]:
    """The filter of the query string, its search text read back from the session (console/members/
    searches.py); an unknown search id is an error on the search box and matches nobody."""
    data = request.GET.copy() if request.GET else None
    search_id = data.pop(searches.PARAMETER, [""])[-1] if data is not None else ""
    text = searches.search_recall(request.session, search_id) if search_id else None
    if text is not None:
        data["q"] = text
    form = MembersFilterForm(data)
    # Erased members are anonymous rows kept for the counts: nobody to list (or to find by a search).
    queryset = Member.objects.exclude(phone__startswith=Member.ERASED_PREFIX)
    valid = form.is_valid() if form.is_bound else False
    if valid and search_id and text is None:
        form.add_error("q", _("This search is no longer available: search again."))
        valid = False
    if valid:
        filters = form.to_filters()
        if not phones_visible(request.user, request.tenant):
            queryset, filters = _masked_phone_search(request, queryset, filters)
        queryset = selectors.members_filter(queryset, filters)
    elif form.is_bound:
        queryset = Member.objects.none()
    return form, queryset


def _masked_phone_search(request: HttpRequest, queryset, filters: dict):
    """For a reader who sees numbers masked, a search that is a phone number finds that exact number only:
    matching its first or last digits would let them read a hidden number one guess at a time."""
    text = (filters.get("q") or "").strip()
    if not text or not set(text) <= set("+0123456789 -().") or not any(ch.isdigit() for ch in text):
        return queryset, filters
    countries = request.tenant.allowed_countries or [None]
    number = phone_normalize(text, country=countries[0])
    filters = {**filters, "q": ""}
    return (queryset.filter(phone=number) if number else queryset.none()), filters


def _search_out_of_url(request: HttpRequest) -> HttpResponse | None:
    """A URL that carries the search text itself (an old link, a bookmark, a hand-typed `?q=`): the same
    page with the text moved into the session, so it is not left in the address bar and history."""
    if "q" not in request.GET:
        return None
    query = request.GET.copy()
    text = query.pop("q")[-1].strip()
    query.pop(searches.PARAMETER, None)
    if text:
        query[searches.PARAMETER] = searches.search_remember(request.session, text)
    return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)


def _search_submitted(request: HttpRequest, form: MembersFilterForm) -> HttpResponse:
    """The filters a teammate submitted (POST) as the list's URL: the filters as typed, the search text
    as the id of its copy in the session."""
    query = QueryDict(mutable=True)
    for name in form.fields:
        value = (request.POST.get(name) or "").strip()
        if value and name != "q":
            query[name] = value
    if form.cleaned_data.get("q"):
        query[searches.PARAMETER] = searches.search_remember(request.session, form.cleaned_data["q"])
    url = reverse("console:members")
    return redirect(f"{url}?{query.urlencode()}" if query else url)


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@manager_required
def members(request: HttpRequest) -> HttpResponse:
    """The list. Its search and filters are submitted by POST and redirect to the list's URL, which holds
    no search text (console/members/searches.py)."""
    status = 200
    if request.method == "POST":
        form = MembersFilterForm(request.POST)
        if form.is_valid():
            return _search_submitted(request, form)
        queryset, status = Member.objects.none(), 400
    else:
        moved = _search_out_of_url(request)
        if moved is not None:
            return moved
        form, queryset = _filtered_members(request)
    page = selectors.members_page(queryset, after=request.GET.get("after") or None)
    return render(
        request,
        "console/members.html",
        {
            "section": "members",
            "form": form,
            "page": page,
            "total": selectors.members_total(queryset),
            "query": _query_without(request, "after"),
            "is_first_page": not request.GET.get("after"),
            "status_labels": MEMBER_STATUS_LABELS,
        },
        status=status,
    )


@manager_required
def members_export(request: HttpRequest) -> StreamingHttpResponse:
    """The current filter as CSV, streamed: rows leave as the server-side cursor reads them. Who exported,
    when and with which filter is recorded first (members.models.ExportRecord), for the owners."""
    moved = _search_out_of_url(request)
    if moved is not None:
        return moved
    form, queryset = _filtered_members(request)
    record = export_record_start(user=request.user, filters=export_filters(form))
    filename = f"{request.tenant.slug}-members-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(
        csv_lines(
            columns=selectors.EXPORT_COLUMNS,
            rows=selectors.members_export_rows(queryset),
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


@owner_required
def members_exports(request: HttpRequest) -> HttpResponse:
    """The owners' view of who exported members, when, with which filter, and how many rows."""
    records = [
        (record, export_filters_described(record.filters)) for record in selectors.export_records_recent()
    ]
    return render(request, "console/members_exports.html", {"section": "members", "records": records})


@manager_required
def members_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        report = importing.members_import(
            leader=request.tenant,
            upload=form.cleaned_data["file"],
            consent_description=form.cleaned_data["consent_description"],
            default_country=form.cleaned_data["default_country"],
            imported_by=request.user,
        )
        if report.ok:
            dashboard_stats_forget()
        else:
            status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "console/members_import.html",
        {"section": "members", "form": form, "report": report, "max_rows": importing.IMPORT_MAX_ROWS},
        status=status,
    )


@manager_required
def member_detail(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=member_id)
    tags_form = TagsForm(request.POST or None, initial={"tags": ", ".join(member.tags)})
    if request.method == "POST" and tags_form.is_valid():
        try:
            member_tags_set(member=member, tags=tags_form.cleaned_data["tags"])
        except ValidationError as exc:
            tags_form.add_error("tags", exc)
        else:
            messages.success(request, _("Tags saved."))
            return redirect("console:member", member_id=member.pk)
    return _member_page(request, member, tags_form=tags_form)


@manager_required
@require_POST
def member_topics(request: HttpRequest, member_id: int) -> HttpResponse:
    """Add a topic to what the member follows, or remove one. A topic the member left themselves is theirs
    to follow again: the refusal says so on the page."""
    member = get_object_or_404(Member, pk=member_id)
    form = TopicFollowForm(request.POST)
    if form.is_valid():
        topic, action = form.cleaned_data["topic"], form.cleaned_data["action"]
        try:
            if action == "follow":
                member_topic_follow(member=member, topic=topic, source=MemberInterest.Source.CONSOLE)
                messages.success(request, _("%(name)s now follows “%(topic)s”.") % _names(member, topic))
            else:
                member_topic_leave(member=member, topic=topic, source=MemberInterest.Source.CONSOLE)
                messages.success(
                    request, _("%(name)s no longer follows “%(topic)s”.") % _names(member, topic)
                )
        except ValidationError as exc:
            form.add_error("topic", exc)
        else:
            return redirect("console:member", member_id=member.pk)
    return _member_page(request, member, topic_form=form)


def _names(member: Member, topic) -> dict[str, str]:
    return {"name": member.full_name or _("The member"), "topic": topic.name}


def _member_page(
    request: HttpRequest,
    member: Member,
    *,
    tags_form: TagsForm | None = None,
    topic_form: TopicFollowForm | None = None,
) -> HttpResponse:
    tags_form = tags_form or TagsForm(initial={"tags": ", ".join(member.tags)})
    interests = selectors.member_interests(member)
    following = {row.topic_id for row in interests if row.following}
    topic_form = topic_form or TopicFollowForm(initial={"action": "follow"})
    # What a teammate may add: the topics not followed now (one the member left stays offered, and adding
    # it is refused with the reason: the rule is the workflow's, not the page's).
    topic_form.fields["topic"].queryset = topic_form.fields["topic"].queryset.exclude(pk__in=following)
    district_of, volunteer = member_district(member)
    return render(
        request,
        "console/member_detail.html",
        {
            "section": "members",
            "member": member,
            "district_of": district_of,
            "volunteer": volunteer,
            "age": member.age_on(timezone.localdate()),
            "tags_form": tags_form,
            "topic_form": topic_form,
            "interests": interests,
            "consents": selectors.member_consents(member),
            "texts": conversation_with_broadcasts(list(member_messages(member)), member),
            "gender_label": MEMBER_GENDER_LABELS.get(member.gender, ""),
            "status_label": MEMBER_STATUS_LABELS.get(member.status, member.status),
        },
        status=400 if tags_form.errors or topic_form.errors else 200,
    )


@manager_required
@require_POST
def member_message(request: HttpRequest, member_id: int) -> HttpResponse:
    """Text this member one to one: their conversation in the inbox (started if they have none)."""
    member = get_object_or_404(Member, pk=member_id)
    if member.phone.startswith(Member.ERASED_PREFIX):
        messages.error(request, _("This member was erased: there is no one to text."))
        return redirect("console:member", member_id=member.pk)
    conversation = conversation_start(member=member, user=request.user)
    return redirect(f"{reverse('inbox_thread', args=[conversation.pk])}#reply-heading")


@manager_required
def member_erase(request: HttpRequest, member_id: int) -> HttpResponse:
    """Asks first (GET), erases on the confirming POST."""
    member = get_object_or_404(Member, pk=member_id)
    if request.method == "POST":
        services.member_erase(member=member, leader=request.tenant)
        dashboard_stats_forget()
        messages.success(request, _("The member's personal data was erased."))
        return redirect("console:members")
    return render(request, "console/member_erase.html", {"section": "members", "member": member})
