"""Cursor pagination: every page costs one index range scan, however deep, so it stays fast at a million
members (an OFFSET would read and discard every row before the page)."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core import signing
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from api.errors import BadRequest

MAX_ID = 2**63 - 1


class InvalidCursor(BadRequest):
    default_detail = "This cursor is not valid: use the `next` or `previous` link of a page as it is."
    default_code = "invalid_cursor"


def _is_id(value: str) -> bool:
    return value.isdecimal() and int(value) <= MAX_ID


def _is_datetime(value: str) -> bool:
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return False
    return isinstance(parsed, datetime.datetime)


class _WithCursor:
    """The request as DRF's decode_cursor reads it (its query parameters), with the cursor unsigned."""

    def __init__(self, request, name: str, value: str):
        self.query_params = request.query_params.copy()
        self.query_params[name] = value


class ApiCursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    ordering = "id"
    # What a position in a cursor must look like for this ordering field; a crafted cursor with anything
    # else is a 400, never a database error.
    position_check = staticmethod(_is_id)

    # Cursors are signed, per pagination class: an edited cursor (another position, another ordering, one
    # from another list) is refused as a whole, not read as a valid position somewhere else.
    def _signer(self) -> signing.Signer:
        return signing.Signer(salt=f"api.cursor.{type(self).__name__}")

    def encode_cursor(self, cursor) -> str:
        url = urlsplit(super().encode_cursor(cursor))
        query = [
            (name, self._signer().sign(value) if name == self.cursor_query_param else value)
            for name, value in parse_qsl(url.query, keep_blank_values=True)
        ]
        return urlunsplit(url._replace(query=urlencode(query)))

    def decode_cursor(self, request):
        signed = request.query_params.get(self.cursor_query_param)
        if signed is None:
            return None
        try:
            unsigned = self._signer().unsign(signed)
        except signing.BadSignature:
            raise InvalidCursor() from None
        try:
            cursor = super().decode_cursor(_WithCursor(request, self.cursor_query_param, unsigned))
        except NotFound:
            raise InvalidCursor() from None
        if cursor is not None and cursor.position is not None and not self.position_check(cursor.position):
            raise InvalidCursor()
        return cursor

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdecimal() or not 1 <= int(raw) <= self.max_page_size:
            raise BadRequest(
                f"`limit` is a whole number from 1 to {self.max_page_size}.", code="invalid_limit"
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class MemberPagination(ApiCursorPagination):
    ordering = "id"  # oldest first: members who join during a walk through the pages still come last


class ConversationPagination(ApiCursorPagination):
    ordering = "-last_message_at"  # the inbox's order
    position_check = staticmethod(_is_datetime)


class MessagePagination(ApiCursorPagination):
    ordering = "-id"  # newest first


class DeliveryPagination(ApiCursorPagination):
    ordering = "-id"


class BroadcastPagination(ApiCursorPagination):
    ordering = "-id"  # newest first


class SurveyPagination(ApiCursorPagination):
    ordering = "-id"  # newest first


class RunPagination(ApiCursorPagination):
    ordering = "id"  # oldest first: runs queued during a walk through the pages come last


class AnswerPagination(ApiCursorPagination):
    ordering = "id"  # in the order they came: a sync resumes where it stopped with `updated_after`
