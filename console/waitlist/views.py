"""The pilot and its waitlist (owners): who waits where, and opening a region or everywhere.

Opening goes through `leaders.services.leader_pilot_open`, which adds the region to the pilot (or ends it)
and says so (common.events.PILOT_OPENED): the signup app then invites the waitlisted phones now inside,
paced, exactly once (signup.waitlist). Phones are shown as the reader may see them (console/masking.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.decorators import owner_required
from console.masking import phone_for_request
from leaders.services import leader_pilot_open
from members.waitlist import waitlist_by_region, waitlist_recent

RECENT_SHOWN = 50


@owner_required
def waitlist(request: HttpRequest) -> HttpResponse:
    leader = request.tenant
    regions = []
    for row in waitlist_by_region():
        accepted = leader.accepts_country(row.country)
        regions.append(
            {
                "row": row,
                "open": accepted and leader.pilot_admits(row.region),
                # A region the waitlist names and the accepted countries hold can be opened on its own; an
                # unknown one ("") only with everywhere.
                "openable": bool(leader.pilot_regions and row.region and accepted)
                and not leader.pilot_admits(row.region),
                "accepted": accepted,
            }
        )
    recent = [
        {"entry": entry, "phone": phone_for_request(request, entry.phone)}
        for entry in waitlist_recent(RECENT_SHOWN)
    ]
    return render(
        request,
        "console/waitlist.html",
        {
            "section": "waitlist",
            "pilot_regions": leader.pilot_regions,
            "regions": regions,
            "waiting": sum(item["row"].waiting for item in regions),
            "invited": sum(item["row"].invited for item in regions),
            "recent": recent,
        },
    )


@owner_required
@require_POST
def waitlist_open(request: HttpRequest) -> HttpResponse:
    leader = request.tenant
    everywhere = request.POST.get("everywhere") == "1"
    region = " ".join(request.POST.get("region", "").split())[:120]
    if not everywhere and not region:
        messages.error(request, _("Choose a region to open."))
        return redirect("console:waitlist")
    try:
        opened = leader_pilot_open(leader=leader, regions=None if everywhere else [region])
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("console:waitlist")
    if not opened:
        messages.info(request, _("That is open already: nothing changed."))
    elif everywhere:
        messages.success(request, _("Open everywhere: the pilot is over. The waitlist is being invited."))
    else:
        messages.success(
            request,
            _("Opened: %(regions)s. Their waitlist is being invited.") % {"regions": ", ".join(opened)},
        )
    return redirect("console:waitlist")
