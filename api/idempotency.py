"""`Idempotency-Key` on POST: a retried request gets the first answer again instead of acting twice.

The key is stored with the response in the same transaction as the work, so a crash leaves neither; a
second request with the same key waits on the row's unique index until the first commits, then replays.
Keys belong to one token and live 24 hours.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.errors import BadRequest, Unprocessable
from api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# 1 to 255 printable ASCII characters, not starting or ending with a space (HTTP would strip it): a UUID, or
# "import-2026-04-30-row-1". The OpenAPI document states this same pattern (api/views.py).
KEY_PATTERN = rf"^[\x21-\x7e](?:[\x20-\x7e]{{0,{MAX_KEY_LENGTH - 2}}}[\x21-\x7e])?$"
_KEY = re.compile(KEY_PATTERN)


class KeyReused(Unprocessable):
    default_detail = (
        "This Idempotency-Key was used with a different request; use a new key for a new request."
    )
    default_code = "idempotency_key_reused"


def _request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    digest.update(json.dumps(request.data, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _replay(record: IdempotencyKey) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(handler):
    """Wrap a view's `post`: with an Idempotency-Key header, act once and replay the answer."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY.fullmatch(key):
            raise BadRequest(
                f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable ASCII characters, not starting or "
                "ending with a space.",
                code="invalid_idempotency_key",
            )
        token = request.auth
        request_hash = _request_hash(request)
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                token=token, created_at__lt=timezone.now() - IdempotencyKey.LIFETIME
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        token=token, key=key, request_hash=request_hash, status_code=0, response_body=None
                    )
            except IntegrityError:
                record = IdempotencyKey.objects.get(token=token, key=key)
                if record.request_hash != request_hash:
                    raise KeyReused() from None
                return _replay(record)
            response = handler(view, request, *args, **kwargs)
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["status_code", "response_body"])
            return response

    return wrapper
