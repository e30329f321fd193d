"""API tokens in the `Authorization: Bearer cmt_…` header, looked up by hash in the leader's schema."""

from __future__ import annotations

import datetime

from django.utils import timezone
from rest_framework import authentication, exceptions

from api.models import TOKEN_PREFIX, ApiToken
from api.services import api_token_hash

# Writing last_used_at on every request would turn each read into a write; once a minute is enough to see
# which tokens are alive.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
MAX_TOKEN_LENGTH = 100


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        try:
            keyword, raw = header.decode("ascii").split(" ", 1)
        except (UnicodeDecodeError, ValueError):
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer cmt_…`."
            ) from None
        raw = raw.strip()
        if keyword != self.keyword or not raw.startswith(TOKEN_PREFIX) or len(raw) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Bearer cmt_…`.")
        # The tokens table is the current leader's: another leader's token is simply not found here.
        token = ApiToken.objects.select_related("user").filter(token_hash=api_token_hash(raw)).first()
        if token is None or not token.is_active or not token.user.is_active or not token.user.role:
            raise exceptions.AuthenticationFailed("This token is not valid for this leader, or was revoked.")
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Answering 401 (not 403) to a missing token needs a WWW-Authenticate challenge.
        return 'Bearer realm="api"'
