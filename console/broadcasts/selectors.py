"""Reads for the broadcasts pages and the dashboard's broadcasts panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from members.audience import AudienceFilter
from messaging.models import Broadcast
from places import gazetteer
from surveys.models import Question, Survey
from surveys.texts import text_for
from topics.models import Topic


def awaiting_approval_by(user) -> int:
    """How many broadcasts wait for this teammate's approval (others' broadcasts awaiting it)."""
    return (
        Broadcast.objects.filter(status=Broadcast.Status.AWAITING_APPROVAL)
        .exclude(created_by_id=user.pk)
        .count()
    )


BROADCAST_STATUS_LABELS = {
    "draft": _("Draft"),
    "awaiting_approval": _("Awaiting approval"),
    "scheduled": _("Scheduled"),
    "queueing": _("Queueing"),
    "sending": _("Sending"),
    "completed": _("Completed"),
    "cancelled": _("Cancelled"),
    "failed": _("Failed"),
    "rejected": _("Rejected"),
}


def broadcast_status_label(status: str, *, starting: bool = False) -> str:
    """The status as the team reads it: a draft sent on its way (`starting`) is "Starting", never "Draft"."""
    if starting and status == "draft":
        return str(_("Starting"))
    return str(BROADCAST_STATUS_LABELS.get(status, status))


def broadcast_label(broadcast) -> str:
    return broadcast_status_label(broadcast.status, starting=broadcast.is_starting)


@dataclass
class BroadcastSummary:
    broadcast: Any  # messaging.models.Broadcast
    recipients: int
    delivered: int
    failed: int
    delivery_rate: float | None  # delivered / sent, percent; None before anything was sent
    status_label: str = ""


def recent_broadcasts(*, limit: int = 5) -> list[BroadcastSummary]:
    """The latest `limit` broadcasts with their delivery rates, from the stored counters (no COUNT over
    deliveries): the dashboard's panel."""
    summaries = []
    for broadcast in Broadcast.objects.order_by("-created_at", "-id")[:limit]:
        sent = broadcast.sent_count
        summaries.append(
            BroadcastSummary(
                broadcast=broadcast,
                recipients=broadcast.recipients_expected,
                delivered=broadcast.delivered_count,
                failed=broadcast.failed_count + broadcast.undelivered_count,
                delivery_rate=round(100 * broadcast.delivered_count / sent, 1) if sent else None,
                status_label=broadcast_label(broadcast),
            )
        )
    return summaries


# The surveys whose questions the composer offers as "answered … to question …" (the newest first).
ANSWER_FILTER_SURVEYS = 20


def answer_filter_choices(*, default_language: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The composer's "Answered" checkboxes: one group per single- or multiple-choice question of the newest
    surveys ("Issues · 1. Which issues matter most?"), one box per choice ("2 Housing"), valued
    "<question id>:<choice position>". Texts in the leader's default language."""
    questions = (
        Question.objects.filter(
            kind__in=(Question.Kind.SINGLE, Question.Kind.MULTIPLE),
            survey__in=Survey.objects.order_by("-created_at", "-id").values("pk")[:ANSWER_FILTER_SURVEYS],
        )
        .select_related("survey")
        .prefetch_related("choices")
        .order_by("-survey__created_at", "-survey_id", "position")
    )
    groups = []
    for question in questions:
        text = text_for(question.text, default_language, default_language)
        boxes = [
            (
                f"{question.pk}:{choice.position}",
                f"{choice.position} {text_for(choice.label, default_language, default_language)}",
            )
            for choice in question.choices.all()
        ]
        if boxes:
            groups.append((f"{question.survey.name} · {question.position}. {text}", boxes))
    return groups


# -- the audience in words ------------------------------------------------------------------------------------

_WHO = {
    "female": _("Women"),
    "male": _("Men"),
    "non_binary": _("Non-binary members"),
    "": _("Members who did not give their gender"),
}


def _listed(items: list[str], *, conjunction: str) -> str:
    """ "a, b or c" / "a, b and c"."""
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _place_label(place_id: int) -> str:
    place = gazetteer.get_place(place_id)
    return place.label if place is not None else f"#{place_id}"


def audience_in_words(audience: AudienceFilter) -> str:
    """Who a broadcast goes to, as a sentence a teammate checks before it goes: "Women, 18–34, in Montréal,
    Quebec, Canada, who speak Français". In the page's language; names of places, topics and languages
    as the console shows them elsewhere."""
    word_or, word_and = str(_("or")), str(_("and"))
    who = [_WHO.get(gender, gender) for gender in audience.genders]
    parts = [_listed(who, conjunction=word_and) if who else str(_("Members"))]
    if audience.age_min is not None and audience.age_max is not None:
        parts.append(
            str(_("%(low)s–%(high)s years old")) % {"low": audience.age_min, "high": audience.age_max}
        )
    elif audience.age_min is not None:
        parts.append(str(_("%(low)s years old and over")) % {"low": audience.age_min})
    elif audience.age_max is not None:
        parts.append(str(_("up to %(high)s years old")) % {"high": audience.age_max})
    places = [_place_label(place_id) for place_id in audience.place_ids]
    places += list(audience.regions) + list(audience.countries)
    if places:
        parts.append(str(_("in %(places)s")) % {"places": _listed(places, conjunction=word_or)})
    if audience.near is not None:
        near = audience.near
        where = _place_label(near.place_id) if near.place_id else f"{near.latitude:.3f}, {near.longitude:.3f}"
        parts.append(str(_("within %(km)s km of %(place)s")) % {"km": f"{near.km:g}", "place": where})
    if audience.languages:
        names = dict(settings.LANGUAGES)
        spoken = [names.get(code, code) for code in audience.languages]
        parts.append(str(_("who speak %(languages)s")) % {"languages": _listed(spoken, conjunction=word_or)})
    if audience.joined_after is not None:
        parts.append(
            str(_("joined after %(date)s")) % {"date": date_format(audience.joined_after, "DATE_FORMAT")}
        )
    if audience.joined_before is not None:
        parts.append(
            str(_("joined before %(date)s")) % {"date": date_format(audience.joined_before, "DATE_FORMAT")}
        )
    if audience.tags_any:
        parts.append(
            str(_("tagged %(tags)s")) % {"tags": _listed(list(audience.tags_any), conjunction=word_or)}
        )
    if audience.tags_all:
        parts.append(
            str(_("tagged %(tags)s")) % {"tags": _listed(list(audience.tags_all), conjunction=word_and)}
        )
    topic_ids = set(audience.wrote_about) | set(audience.follows)
    topics = dict(Topic.objects.filter(pk__in=topic_ids).values_list("pk", "name")) if topic_ids else {}
    if audience.wrote_about:
        names = [topics.get(pk, f"#{pk}") for pk in audience.wrote_about]
        parts.append(str(_("who wrote about %(topics)s")) % {"topics": _listed(names, conjunction=word_or)})
    if audience.follows:
        names = [topics.get(pk, f"#{pk}") for pk in audience.follows]
        parts.append(str(_("following %(topics)s")) % {"topics": _listed(names, conjunction=word_or)})
    if audience.answered:
        parts.append(str(_("with the survey answers chosen")))
    if len(parts) == 1 and not who:
        return str(_("All members"))
    return ", ".join(parts)
