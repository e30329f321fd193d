"""The owners' API token page, in the console at /settings/api-tokens/: create (the secret shown once),
list, revoke.

The API app serves it, not the console: tokens are the API's own table and workflow (api.services), and
the console may not import the api (sibling interfaces never import each other). The page uses the
console's layout and is listed in its navigation by URL name (`api_tokens`), which needs no import either.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from api.forms import ApiTokenForm
from api.models import ApiToken
from api.selectors import api_tokens_active
from api.services import api_token_create, api_token_revoke


def owner_required(view: Callable) -> Callable:
    """Owners only: anonymous visitors go to the login page, other roles get 403. The same rule as the
    console's pages (console/decorators.py), which this app may not import; the role is accounts'."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_owner):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _tokens_page(
    request: HttpRequest, *, form: ApiTokenForm, created: ApiToken | None = None, raw: str = "", status=200
) -> HttpResponse:
    return render(
        request,
        "api/tokens.html",
        {
            "section": "api_tokens",
            "tokens": api_tokens_active(),
            "form": form,
            "created": created,
            "raw": raw,
        },
        status=status,
    )


@owner_required
@never_cache  # the page may carry a new token's secret: no cache keeps a copy
def api_tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None, actor=request.user)
    if request.method != "POST":
        return _tokens_page(request, form=form)
    if not form.is_valid():
        return _tokens_page(request, form=form, status=400)
    token, raw = api_token_create(
        user=form.cleaned_data["user"], name=form.cleaned_data["name"], created_by=request.user
    )
    # Shown in this answer only (no redirect): storing the secret for a next page would keep a copy.
    return _tokens_page(request, form=ApiTokenForm(actor=request.user), created=token, raw=raw)


@owner_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id)
    if api_token_revoke(token=token):
        messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    else:
        messages.error(request, _("This token was already revoked."))
    return redirect("api_tokens")
