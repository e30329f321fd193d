"""One JSON shape for every error the API answers: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is valid but the resource's state refuses it (an opted-out member, a reused key)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "Bad request."
    default_code = "bad_request"


# DRF's exception classes, in the words clients see.
_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "unauthenticated",
    exceptions.AuthenticationFailed: "unauthenticated",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "rate_limited",
}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> list[str]:
    if isinstance(detail, dict):
        return [message for value in detail.values() for message in _flatten(value)]
    if isinstance(detail, list):
        return [message for value in detail for message in _flatten(value)]
    return [str(detail)]


def _fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """Field errors as {"field": [...], "consent.text": [...], "tags.2": [...]}: one level, dotted paths."""
    result: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) or (
                isinstance(value, list) and any(isinstance(v, dict) for v in value)
            ):
                result.update(_fields(value, name))
            elif isinstance(value, list) and value and all(isinstance(v, list) for v in value):
                for index, item in enumerate(value):
                    if item:
                        result[f"{name}.{index}"] = _flatten(item)
            else:
                result[name] = _flatten(value)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                result.update(_fields(value, f"{prefix}.{index}" if prefix else str(index)))
    return result


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict]:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = _fields({k: v for k, v in detail.items() if k != "non_field_errors"})
            general = _flatten(detail.get("non_field_errors", []))
            message = " ".join(general) or "Some fields are not valid: " + ", ".join(sorted(fields)) + "."
            return "invalid", message, fields
        return "invalid", " ".join(_flatten(detail)), {}
    for cls in type(exc).__mro__:
        if cls in _CODES:
            return _CODES[cls], str(exc.detail), {}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return code, " ".join(_flatten(exc.detail)), {}


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's handler, reshaped into the error envelope; anything unexpected is a logged JSON 500."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, RequestDataTooBig):
        exc = BadRequest("The request body is too large.", code="request_too_large")
    elif isinstance(exc, SuspiciousOperation):
        exc = BadRequest("This request cannot be read.", code="malformed_request")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("API error in %s", type(view).__name__ if view else "?", exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side. Try again later."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    code, message, fields = _describe(exc)
    response.data = error_body(code, message, fields)
    return response


@csrf_exempt  # a POST to an unknown API path is a JSON 404, not the CSRF middleware's HTML 403
def json_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer in JSON, never with the site's HTML page."""
    return JsonResponse(error_body("not_found", "There is no such API endpoint."), status=404)
