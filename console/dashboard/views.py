"""The leader's host at "/": the dashboard for the team, the "text to join" page for everyone else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from console.broadcasts.selectors import recent_broadcasts
from console.dashboard import charts, selectors
from console.decorators import teammate_required
from console.inbox.selectors import conversations_overdue_count
from console.members.forms import MEMBER_GENDER_LABELS
from messaging.models import Conversation


def home(request: HttpRequest) -> HttpResponse:
    """The leader's host: the console for the team, the "text to join" page for everyone else."""
    if request.user.is_authenticated:
        return dashboard(request)
    return render(request, "leader_home.html", {"leader": request.tenant})


@teammate_required
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {"section": "dashboard"}
    if request.user.can_manage:
        stats = selectors.dashboard_stats(leader=request.tenant)
        context.update(
            stats=stats,
            growth=charts.daily_bars(stats.daily_joins),
            cities=charts.horizontal_bars(stats.cities),
            genders=charts.horizontal_bars(
                [(str(MEMBER_GENDER_LABELS.get(g, g or _("Not given"))), n) for g, n in stats.genders]
            ),
            age_bands=charts.horizontal_bars([(label or _("Not given"), n) for label, n in stats.age_bands]),
            languages=charts.horizontal_bars(stats.languages),
            broadcasts=recent_broadcasts(),
        )
    else:
        context["unread_conversations"] = Conversation.objects.filter(unread_count__gt=0).count()
    # Live, not from the cached stats: a conversation turns overdue by the minute.
    context["overdue_conversations"] = conversations_overdue_count()
    return render(request, "console/dashboard.html", context)
