"""The surveys pages: the list, a survey's page (create, edit), sending it to a segment, its results (live)
and the CSV of its answers. Thin views over surveys.editing, surveys.selectors and surveys.services.

Owners and managers do everything; responders read the list and the results (aggregates, like the
listening matrix they already read), not the CSV, which holds members' numbers and answers one by one."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.csvexport import csv_lines
from console.decorators import manager_required, teammate_required
from console.listening.names import language_name
from console.masking import phone_for, phones_visible
from console.surveys.forms import (
    KIND_LABELS,
    STATE_LABELS,
    TRIGGER_LABELS,
    ResultsFilterForm,
    SurveyEditor,
    SurveyForm,
    SurveySendForm,
)
from members.audience import AudienceError, AudienceFilter
from members.models import ExportRecord
from members.services import export_record_start
from surveys import editing, selectors
from surveys.models import Survey
from surveys.services import survey_send

POLL_SECONDS = 5
# A survey with many answers refreshes less often: its results cost about 0.25 s per 100,000 answers to count
# (docs/architecture.md), for each reader with the page open.
BUSY_ANSWERS, BUSY_POLL_SECONDS = 50_000, 15
STATE_ORDER = ("queued", "active", "completed", "expired", "stopped", "skipped")


def _states(by_state: dict[str, int]) -> list[dict]:
    return [
        {"state": state, "label": STATE_LABELS[state], "count": by_state.get(state, 0)}
        for state in STATE_ORDER
    ]


def _yes_no() -> tuple[str, str]:
    return _("Yes"), _("No")


# --- the list -----------------------------------------------------------------------------------------------
@teammate_required
def surveys(request: HttpRequest) -> HttpResponse:
    summaries = selectors.surveys_summaries()
    for summary in summaries:
        summary.states = _states(summary.by_state)
        summary.trigger_label = TRIGGER_LABELS.get(summary.survey.trigger, summary.survey.trigger)
    return render(request, "console/surveys/surveys.html", {"section": "surveys", "summaries": summaries})


# --- create and edit ----------------------------------------------------------------------------------------
def _edit(request: HttpRequest, survey: Survey | None) -> HttpResponse:
    leader = request.tenant
    default_language = leader.default_language
    runs = selectors.survey_reach(survey=survey) if survey is not None else 0
    status = 200
    if request.method == "POST":
        form = SurveyForm(request.POST, default_language=default_language)
        editor = SurveyEditor(default_language=default_language, locked=bool(runs)).from_post(request.POST)
        action = request.POST.get("action", "save")
        if action == "more-questions":
            editor.more_questions()
        elif action == "more-choices":
            editor.more_choices()
        elif form.is_valid():
            data = {**form.survey_fields(), "questions": editor.questions()}
            try:
                saved = editing.survey_save(
                    survey=survey or Survey(), data=data, default_language=default_language
                )
            except editing.SurveyInvalidError as error:
                rest = editor.errors_set(error.fields)
                for path, problems in rest.items():
                    name = path if path in form.fields else f"{path}_{default_language}"
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
                status = 400
            else:
                messages.success(request, _("Survey “%(name)s” saved.") % {"name": saved.name})
                return redirect("console:survey", survey_id=saved.pk)
        else:
            # The survey's own fields are wrong: the questions' problems are shown with theirs all the same.
            try:
                editing.survey_check(
                    survey=survey or Survey(),
                    data={"questions": editor.questions()},
                    default_language=default_language,
                )
            except editing.SurveyInvalidError as error:
                editor.errors_set(error.fields)
            status = 400
    else:
        initial = SurveyForm.initial_for(survey) if survey is not None else None
        form = SurveyForm(initial=initial, default_language=default_language)
        editor = SurveyEditor(default_language=default_language, locked=bool(runs))
        if survey is not None:
            editor.from_survey(survey)
        else:
            editor.more_questions()
    return render(
        request,
        "console/surveys/survey_form.html",
        {
            "section": "surveys",
            "form": form,
            "survey": survey,
            "runs": runs,
            "default_language": default_language,
            **editor.context(),
        },
        status=status,
    )


@manager_required
def survey_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@manager_required
def survey_edit(request: HttpRequest, survey_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Survey, pk=survey_id))


@manager_required
def survey_delete(request: HttpRequest, survey_id: int) -> HttpResponse:
    """GET asks first; POST deletes a survey that never went out (one that did is kept: close it)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    runs = selectors.survey_reach(survey=survey)
    if request.method == "POST":
        try:
            editing.survey_delete(survey=survey)
        except editing.SurveyInUseError as error:
            messages.error(request, str(error))
            return redirect("console:survey", survey_id=survey.pk)
        messages.success(request, _("Survey “%(name)s” deleted.") % {"name": survey.name})
        return redirect("console:surveys")
    return render(
        request, "console/surveys/survey_delete.html", {"section": "surveys", "survey": survey, "runs": runs}
    )


# --- sending to a segment -----------------------------------------------------------------------------------
def _audience(form: SurveySendForm) -> AudienceFilter:
    return AudienceFilter.from_dict(form.filters())


@manager_required
def survey_send_page(request: HttpRequest, survey_id: int) -> HttpResponse:
    """The audience (the broadcasts' controls) with its count, then the send: every member it selects who
    never had this survey gets it, paced by the survey engine."""
    survey = get_object_or_404(Survey, pk=survey_id)
    form = SurveySendForm(request.POST or None, leader=request.tenant)
    count = None
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        else:
            try:
                audience = _audience(form)
                count = selectors.survey_audience_count(survey=survey, audience=audience)
                if request.POST.get("step") == "send":
                    if not count:
                        raise ValueError(
                            _("No member matches this audience who has not had this survey yet.")
                        )
                    queued = survey_send(survey=survey, audience=audience, user=request.user)
                    messages.success(
                        request, _("The survey is on its way to %(count)s members.") % {"count": queued}
                    )
                    return redirect("console:survey", survey_id=survey.pk)
            except ValueError as error:  # AudienceError, SurveyError, no one to send to: one line each
                form.add_error(None, str(error))
                status = 400
    return render(
        request,
        "console/surveys/survey_send.html",
        {"section": "surveys", "survey": survey, "form": form, "count": count},
        status=status,
    )


@manager_required
@require_GET
def survey_send_count(request: HttpRequest, survey_id: int) -> JsonResponse:
    """The live audience count: the send form's fields as a query string."""
    survey = Survey.objects.filter(pk=survey_id).first()
    if survey is None:
        return JsonResponse({"error": _("No such survey.")}, status=404)
    form = SurveySendForm(request.GET, leader=request.tenant)
    if not form.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in form.errors.items()}
        return JsonResponse({"error": _("Check the audience filters."), "fields": fields}, status=400)
    try:
        count = selectors.survey_audience_count(survey=survey, audience=_audience(form))
    except AudienceError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"count": count})


# --- results ------------------------------------------------------------------------------------------------
def _column(axis: str, key: str | None) -> str:
    if key is None:
        return _("Other regions")
    if key == "":
        return _("Unknown place") if axis == "region" else _("Unknown language")
    return language_name(key) if axis == "language" else key


def _results_context(request: HttpRequest, survey: Survey, form: ResultsFilterForm) -> dict:
    region = language = None
    if form.is_valid():
        region = form.cleaned_data.get("region") or None
        language = form.cleaned_data.get("language") or None
    results = selectors.survey_results(
        survey=survey,
        default_language=request.tenant.default_language,
        language_shown=get_language() or "",
        region=region,
        language=language,
        yes_no=_yes_no(),
    )
    for question in results.questions:
        question.kind_label = KIND_LABELS.get(question.question.kind, question.question.kind)
        for groups, axis in ((question.by_region, "region"), (question.by_language, "language")):
            for group in groups:
                group.label = _column(axis, group.key)
                group.cells = [
                    {"count": group.counts.get(c.position, 0), "share": group.shares.get(c.position)}
                    for c in question.choices
                ]
    asked = sum(n for state, n in results.runs_by_state.items() if state not in ("queued", "skipped"))
    return {
        "section": "surveys",
        "survey": survey,
        "results": results,
        "states": _states(results.runs_by_state),
        "asked": asked,
        "answered_share": round(100 * results.answered / asked, 1) if asked else None,
        "filter_form": form,
        "region_options": [key for key in results.regions if key],
        "poll_seconds": BUSY_POLL_SECONDS if results.answered > BUSY_ANSWERS else POLL_SECONDS,
        "trigger_label": TRIGGER_LABELS.get(survey.trigger, survey.trigger),
    }


@teammate_required
def survey_results(request: HttpRequest, survey_id: int) -> HttpResponse:
    """A survey's page: its figures and results, refreshed every few seconds (?partial=1 is the results
    alone, which static/console/surveys.js swaps in)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    form = ResultsFilterForm(request.GET)
    context = _results_context(request, survey, form)
    if request.GET.get("partial"):
        return render(request, "console/surveys/_results.html", context)
    return render(request, "console/surveys/survey.html", context, status=200 if form.is_valid() else 400)


# --- CSV ------------------------------------------------------------------------------------------------------
@manager_required
def survey_export(request: HttpRequest, survey_id: int) -> StreamingHttpResponse:
    """The answers as CSV, one row per member who answered, streamed; recorded for the owners first, like
    every export of members (members.ExportRecord, /members/exports/)."""
    survey = get_object_or_404(Survey, pk=survey_id)
    record = export_record_start(
        user=request.user,
        filters={"survey": survey.pk, "survey_name": survey.name},
        kind=ExportRecord.Kind.SURVEY_ANSWERS,
    )
    filename = f"{request.tenant.slug}-survey-{survey.pk}-{timezone.localdate().isoformat()}.csv"
    response = StreamingHttpResponse(
        csv_lines(
            columns=selectors.survey_export_columns(
                survey=survey, default_language=request.tenant.default_language
            ),
            rows=selectors.survey_export_rows(
                survey=survey, default_language=request.tenant.default_language, yes_no=_yes_no()
            ),
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
