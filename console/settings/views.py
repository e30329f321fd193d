"""The leader's settings and keyword replies (owner only)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.decorators import owner_required
from console.settings.forms import KeywordReplyForm, LeaderSettingsForm, keyword_replies_listed
from leaders.services import leader_pilot_changed
from messaging.models import KeywordReply


def _settings_page(
    request: HttpRequest, *, form: LeaderSettingsForm, keyword_form: KeywordReplyForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "console/settings.html",
        {
            "section": "settings",
            "form": form,
            "keywords": keyword_replies_listed(request.tenant),
            "keyword_form": keyword_form,
        },
        status=status,
    )


@owner_required
def settings_edit(request: HttpRequest) -> HttpResponse:
    pilot_before = list(request.tenant.pilot_regions)
    form = LeaderSettingsForm(request.POST or None, request.FILES or None, instance=request.tenant)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            leader = form.save()
            # A region added (or the pilot ended) invites its waitlist (signup.waitlist), on commit.
            leader_pilot_changed(leader=leader, before=pilot_before)
        messages.success(request, _("Settings saved."))
        return redirect("console:settings")
    return _settings_page(
        request, form=form, keyword_form=KeywordReplyForm(), status=400 if form.errors else 200
    )


@owner_required
@require_POST
def keyword_add(request: HttpRequest) -> HttpResponse:
    form = KeywordReplyForm(request.POST, leader=request.tenant)
    if form.is_valid():
        form.save()
        messages.success(request, _("Keyword added."))
        return redirect("console:settings")
    return _settings_page(
        request, form=LeaderSettingsForm(instance=request.tenant), keyword_form=form, status=400
    )


@owner_required
@require_POST
def keyword_delete(request: HttpRequest, keyword_id: int) -> HttpResponse:
    KeywordReply.objects.filter(pk=keyword_id).delete()
    messages.success(request, _("Keyword removed."))
    return redirect("console:settings")
