"""Routing pages (owners and managers): teams of teammates and the ordered rules "topic and/or region →
team, response time". Display names (a teammate's own, or any teammate's by an owner) are saved here too,
from the password and team pages. Thin views: a form, one workflow of triage.routing, a redirect."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.decorators import manager_required, owner_required, teammate_required
from console.routing.forms import DisplayNameForm, RuleForm, TeamForm
from triage import routing as workflows
from triage.models import Rule, Team


def _page(request: HttpRequest, *, team_form=None, rule_form=None, status: int = 200) -> HttpResponse:
    rules = list(Rule.objects.select_related("team", "topic"))
    return render(
        request,
        "console/routing.html",
        {
            "section": "routing",
            "teams": Team.objects.prefetch_related("users"),
            "rules": rules,
            "team_form": team_form or TeamForm(),
            "rule_form": rule_form or RuleForm(),
        },
        status=status,
    )


@manager_required
def routing(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _team_saved(request: HttpRequest, form: TeamForm, team: Team | None) -> bool:
    if not form.is_valid():
        return False
    try:
        workflows.team_save(
            team=team, name=form.cleaned_data["name"], user_ids=[u.pk for u in form.cleaned_data["users"]]
        )
    except ValidationError as exc:
        form.add_error("name", exc)
        return False
    messages.success(request, _("Team “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
    return True


@manager_required
@require_POST
def team_new(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if _team_saved(request, form, None):
        return redirect("routing")
    return _page(request, team_form=form, status=400)


@manager_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    if request.method == "POST":
        form = TeamForm(request.POST)
        if _team_saved(request, form, team):
            return redirect("routing")
        status = 400
    else:
        form = TeamForm(initial={"name": team.name, "users": list(team.users.values_list("pk", flat=True))})
        status = 200
    return render(
        request,
        "console/routing_team.html",
        {"section": "routing", "team": team, "form": form},
        status=status,
    )


@manager_required
@require_POST
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    workflows.team_delete(team=team)
    messages.success(request, _("Team “%(name)s” deleted, with its rules.") % {"name": team.name})
    return redirect("routing")


def _rule_saved(request: HttpRequest, form: RuleForm, rule: Rule | None) -> bool:
    if not form.is_valid():
        return False
    data = form.cleaned_data
    try:
        workflows.rule_save(
            rule=rule,
            team=data["team"],
            topic=data["topic"],
            country=data["country"],
            region=data["region"],
            response_minutes=data["response_minutes"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, _("Rule saved."))
    return True


@manager_required
@require_POST
def rule_new(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST)
    if _rule_saved(request, form, None):
        return redirect("routing")
    return _page(request, rule_form=form, status=400)


@manager_required
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    if request.method == "POST":
        form = RuleForm(request.POST)
        if _rule_saved(request, form, rule):
            return redirect("routing")
        status = 400
    else:
        form = RuleForm(
            initial={
                "topic": rule.topic_id,
                "country": rule.country,
                "region": rule.region,
                "team": rule.team_id,
                "response_minutes": rule.response_minutes,
            }
        )
        status = 200
    return render(
        request,
        "console/routing_rule.html",
        {"section": "routing", "rule": rule, "form": form},
        status=status,
    )


@manager_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    workflows.rule_delete(rule=get_object_or_404(Rule, pk=rule_id))
    messages.success(request, _("Rule deleted."))
    return redirect("routing")


@manager_required
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=rule_id)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, _("Unknown action."))
    else:
        workflows.rule_move(rule=rule, offset=offset)
    return redirect("routing")


def _display_name_saved(request: HttpRequest, user) -> bool:
    form = DisplayNameForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("display_name", [])))
        return False
    user.display_name = " ".join(form.cleaned_data["display_name"].split())
    user.save(update_fields=["display_name"])
    messages.success(request, _("Display name saved."))
    return True


@teammate_required
@require_POST
def display_name_own(request: HttpRequest) -> HttpResponse:
    """Each teammate names themselves (from their password page)."""
    _display_name_saved(request, request.user)
    return redirect("accounts:password_change")


@owner_required
@require_POST
def display_name_set(request: HttpRequest, user_id: int) -> HttpResponse:
    """An owner names a teammate (from the team page)."""
    user = get_object_or_404(get_user_model(), pk=user_id)
    _display_name_saved(request, user)
    return redirect("accounts:team")
