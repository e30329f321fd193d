"""Districts (owners and managers): list with volunteers and overlaps, create, edit, delete; and the member
page's "Make a volunteer" / "No longer a volunteer". Thin views: a form, one workflow of districts.services,
a redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.decorators import manager_required
from console.districts.forms import DistrictForm
from districts import selectors, services
from districts.models import District, Volunteer
from members.models import Member


def _saved(request: HttpRequest, form: DistrictForm, district: District | None) -> District | None:
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        saved = services.district_save(
            district=district,
            name=data["name"],
            place_ids=data["places"],
            regions=data["regions"],
            coordinator_ids=[user.pk for user in data["coordinators"]],
            countries=request.tenant.allowed_countries,
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return None
    messages.success(request, _("District “%(name)s” saved.") % {"name": saved.name})
    return saved


@manager_required
def districts(request: HttpRequest) -> HttpResponse:
    countries = request.tenant.allowed_countries
    form = DistrictForm(request.POST or None, countries=countries)
    if request.method == "POST" and _saved(request, form, None):
        return redirect("console:districts")
    return render(
        request,
        "console/districts.html",
        {"section": "districts", "form": form, **selectors.districts_overview()},
        status=400 if form.errors else 200,
    )


@manager_required
def district_edit(request: HttpRequest, district_id: int) -> HttpResponse:
    district = get_object_or_404(District, pk=district_id)
    countries = request.tenant.allowed_countries
    if request.method == "POST":
        form = DistrictForm(request.POST, countries=countries)
        if _saved(request, form, district):
            return redirect("console:districts")
    else:
        form = DistrictForm(initial=DistrictForm.initial_for(district), countries=countries)
    return render(
        request,
        "console/district_edit.html",
        {"section": "districts", "district": district, "form": form},
        status=400 if form.errors else 200,
    )


@manager_required
@require_POST
def district_delete(request: HttpRequest, district_id: int) -> HttpResponse:
    district = get_object_or_404(District, pk=district_id)
    services.district_delete(district=district)
    messages.success(
        request, _("District “%(name)s” deleted; its volunteers stay volunteers.") % {"name": district.name}
    )
    return redirect("console:districts")


@manager_required
@require_POST
def member_volunteer(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(Member, pk=member_id)
    if request.POST.get("action") == "remove":
        services.volunteer_remove(member=member)
        messages.success(request, _("No longer a volunteer."))
        return redirect("console:member", member_id=member.pk)
    try:
        done = services.member_volunteer(
            leader=request.tenant, member=member, source=Volunteer.Source.CONSOLE, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("console:member", member_id=member.pk)
    if not done.created:
        messages.info(request, _("Already a volunteer."))
    elif done.coordinator is not None:
        messages.success(
            request,
            _(
                "Now a volunteer of %(district)s: their conversation is with %(coordinator)s, and they were texted."
            )
            % {"district": done.volunteer.district.name, "coordinator": done.coordinator.username},
        )
    else:
        messages.success(
            request,
            _("Now a volunteer, with no district coordinator: give their conversation out from the inbox."),
        )
    return redirect("console:member", member_id=member.pk)
