"""The API's surveys (docs/api.md, "Surveys"): create and change them through surveys.editing (the
console's rules), read their results, runs and answers, send one to a segment. Kept beside api/views.py,
whose base classes and conventions it uses."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from api import permissions as roles
from api.errors import Conflict
from api.filters import LANGUAGE_PATTERN, MAX_TEXT, moment_parse
from api.idempotency import idempotent
from api.pagination import AnswerPagination, RunPagination, SurveyPagination
from api.serializers import ErrorSerializer
from api.survey_serializers import (
    AnswerSerializer,
    ResultsSerializer,
    RunSerializer,
    SendRequestSerializer,
    SendSerializer,
    SurveySerializer,
    SurveyWriteSerializer,
)
from api.views import IDEMPOTENCY_PARAMETER, ApiListView, ApiView, _audience
from surveys import editing, selectors
from surveys.models import Answer, Run, Survey
from surveys.services import SurveyError, survey_send


def _moment_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]},
        required=False,
        description=description + " A date is midnight UTC; a time without a zone is UTC.",
    )


_STATE = OpenApiParameter(
    "state",
    {"type": "string", "enum": list(Run.State.values)},
    required=False,
    description="The run's state.",
)
_QUESTION = OpenApiParameter(
    "question",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    required=False,
    description="A question's id: runs waiting for its answer; answers to it.",
)
_UPDATED = [
    _moment_parameter("updated_after", "Changed at or after (a run: its last move; an answer: when given)."),
    _moment_parameter("updated_before", "Changed before."),
]


def _listing_filters(request: Request, *, question: bool = True) -> dict:
    """The runs' and answers' filters from the query string; a 400 naming each bad one."""
    params = request.query_params
    errors: dict[str, list[str]] = {}
    found: dict = {}
    state = params.get("state")
    if state is not None:
        if state not in Run.State.values:
            errors["state"] = ["One of: " + ", ".join(Run.State.values) + "."]
        else:
            found["state"] = state
    raw = params.get("question")
    if question and raw is not None:
        if not raw.isdecimal() or not 1 <= int(raw) <= 2**63 - 1:
            errors["question"] = ["A question's id."]
        else:
            found["question_id"] = int(raw)
    for name in ("updated_after", "updated_before"):
        raw = params.get(name)
        if raw is not None:
            moment = moment_parse(raw) if len(raw) <= 64 else None
            if moment is None:
                errors[name] = ["An ISO 8601 date or date and time (2026-05-01 or 2026-05-01T09:00:00Z)."]
            else:
                found[name] = moment
    if errors:
        raise serializers.ValidationError(errors)
    return found


class _SurveysView(ApiView):
    """Every teammate reads surveys; owners and managers change and send them, as in the console."""

    @property
    def allowed_roles(self) -> frozenset[str]:
        return roles.SURVEYS_READ if self.request.method in ("GET", "HEAD", "OPTIONS") else roles.SURVEYS

    def survey_data(self, survey: Survey) -> dict:
        survey = Survey.objects.prefetch_related("questions__choices").get(pk=survey.pk)
        runs = selectors.surveys_runs_by_state([survey.pk])
        return SurveySerializer(survey, context={"runs": runs}).data

    def save(self, survey: Survey, data: dict) -> Survey:
        try:
            return editing.survey_save(
                survey=survey, data=data, default_language=self.leader.default_language
            )
        except editing.SurveyInvalidError as exc:
            fields = dict(exc.fields)
            general = fields.pop("", [])
            raise serializers.ValidationError(
                {**fields, **({"non_field_errors": general} if general else {})}
            ) from None


class SurveyListView(_SurveysView, ApiListView):
    pagination_class = SurveyPagination
    serializer_class = SurveySerializer

    @extend_schema(
        operation_id="surveys_list",
        summary="List surveys, newest first",
        responses=SurveySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(Survey.objects.prefetch_related("questions__choices"))
        runs = selectors.surveys_runs_by_state([survey.pk for survey in page])
        return self.get_paginated_response(SurveySerializer(page, many=True, context={"runs": runs}).data)

    @extend_schema(
        operation_id="surveys_create",
        summary="Create a survey with its questions",
        request=SurveyWriteSerializer,
        responses={201: SurveySerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request) -> Response:
        serializer = SurveyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        survey = self.save(Survey(), serializer.editing_data())
        return Response(self.survey_data(survey), status=status.HTTP_201_CREATED)


class SurveyDetailView(_SurveysView):
    @extend_schema(operation_id="surveys_retrieve", summary="Get a survey", responses=SurveySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.survey_data(get_object_or_404(Survey, pk=pk)))

    @extend_schema(
        operation_id="surveys_update",
        summary="Change some of a survey's fields",
        request=SurveyWriteSerializer(partial=True),
        responses=SurveySerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        serializer = SurveyWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(self.survey_data(self.save(survey, serializer.editing_data())))

    @extend_schema(
        operation_id="surveys_replace",
        summary="Replace a survey's fields (those left out take their defaults)",
        request=SurveyWriteSerializer,
        responses=SurveySerializer,
    )
    def put(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        serializer = SurveyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = {
            "trigger": Survey.Trigger.MANUAL,
            "window_hours": Survey._meta.get_field("window_hours").default,
            "is_active": True,
            "intro": {},
            "thanks": {},
            **serializer.editing_data(),
        }
        return Response(self.survey_data(self.save(survey, data)))

    @extend_schema(
        operation_id="surveys_delete",
        summary="Delete a survey that never went to anyone",
        responses={
            204: None,
            409: OpenApiResponse(
                ErrorSerializer,
                description="`survey_has_runs`: it went to members; close it (`is_active`) instead.",
            ),
        },
    )
    def delete(self, request: Request, pk: int) -> Response:
        try:
            editing.survey_delete(survey=get_object_or_404(Survey, pk=pk))
        except editing.SurveyInUseError as exc:
            raise Conflict(str(exc), code="survey_has_runs") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class SurveyResultsView(_SurveysView):
    @extend_schema(
        operation_id="surveys_results",
        summary="A survey's results: per question, by region and by language",
        responses=ResultsSerializer,
        parameters=[
            OpenApiParameter(
                "region",
                {"type": "string", "maxLength": MAX_TEXT, "pattern": r"^[^\x00]*$"},
                required=False,
                description="Only members of this region, as `Member.region` holds it (empty: region unknown).",
            ),
            OpenApiParameter(
                "language",
                {"type": "string", "pattern": LANGUAGE_PATTERN},
                required=False,
                description="Only answers given in this language (an ISO 639-1 code).",
            ),
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        region = request.query_params.get("region")
        language = request.query_params.get("language")
        errors = {}
        if region is not None and (len(region) > MAX_TEXT or "\x00" in region):
            errors["region"] = [f"A region's name, at most {MAX_TEXT} characters."]
        if language is not None and not re.fullmatch(LANGUAGE_PATTERN, language):
            errors["language"] = ["A language code (en, fr…)."]
        if errors:
            raise serializers.ValidationError(errors)
        results = selectors.survey_results(
            survey=survey,
            default_language=self.leader.default_language,
            language_shown=self.leader.default_language,
            region=region,
            language=language.lower() if language else None,
        )
        return Response(ResultsSerializer(results).data)


class SurveyRunListView(_SurveysView, ApiListView):
    # Members one by one, with what they wrote: owners and managers, as the console's CSV (responders read
    # the results, and each fan's texts in the inbox).
    allowed_roles = roles.SURVEYS
    pagination_class = RunPagination
    serializer_class = RunSerializer

    def get_queryset(self) -> QuerySet[Run]:
        survey = get_object_or_404(Survey, pk=self.kwargs["pk"])
        return selectors.survey_runs(survey=survey, **_listing_filters(self.request))

    @extend_schema(
        operation_id="surveys_runs_list",
        summary="A survey's runs (one per member its first question went to, or could not), oldest first",
        description=(
            "Members still queued for the survey have no run yet: the survey's `runs` figures count them "
            "as `queued`."
        ),
        responses=RunSerializer(many=True),
        parameters=[_STATE, _QUESTION, *_UPDATED],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            RunSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class SurveyAnswerListView(_SurveysView, ApiListView):
    # Members one by one, with what they wrote: owners and managers, as the console's CSV (responders read
    # the results, and each fan's texts in the inbox).
    allowed_roles = roles.SURVEYS
    pagination_class = AnswerPagination
    serializer_class = AnswerSerializer

    def get_queryset(self) -> QuerySet[Answer]:
        survey = get_object_or_404(Survey, pk=self.kwargs["pk"])
        return selectors.survey_answers(survey=survey, **_listing_filters(self.request))

    @extend_schema(
        operation_id="surveys_answers_list",
        summary="A survey's answers, in the order they came",
        responses=AnswerSerializer(many=True),
        parameters=[
            _QUESTION,
            OpenApiParameter(
                "state",
                {"type": "string", "enum": list(Run.State.values)},
                required=False,
                description="Answers of runs in this state (`completed`: members who answered everything).",
            ),
            *_UPDATED,
        ],
    )
    def get(self, request: Request, pk: int) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            AnswerSerializer(page, many=True, context=self.get_serializer_context()).data
        )


class SurveySendView(_SurveysView):
    @extend_schema(
        operation_id="surveys_send",
        summary="Send a survey to the members a filter selects (each member gets it once, ever)",
        request=SendRequestSerializer,
        responses={202: SendSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        serializer = SendRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        audience = _audience(serializer.validated_data)
        try:
            queued = survey_send(survey=survey, audience=audience, user=request.user)
        except SurveyError as exc:  # closed, no question, a suspended leader
            raise Conflict(str(exc), code="survey_not_sendable") from None
        return Response(
            SendSerializer({"queued": queued, "filter": audience.to_dict()}).data,
            status=status.HTTP_202_ACCEPTED,
        )
