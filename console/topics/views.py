"""The topics page (owners and managers): the leader's subjects, how many texts each got this week, the
classifier's accuracy on the team's corrections, and the confidence a text needs to be sorted."""

from __future__ import annotations

import hashlib
from collections import Counter

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console.decorators import manager_required
from console.topics.forms import ThresholdForm, TopicForm
from topics.models import MAX_TOPICS, Topic
from triage import selectors
from triage import topics as topics_workflows
from triage.classifier import holdout_accuracy
from triage.models import DEFAULT_THRESHOLD, Rule


def _threshold(leader) -> float:
    return DEFAULT_THRESHOLD if leader.triage_threshold is None else leader.triage_threshold


ACCURACY_CACHE_SECONDS = 24 * 3600


def _accuracy(leader, corrections: list[tuple[str, int | None]]) -> tuple[float | None, int]:
    """One figure for the leader: each corrected text judged by a classifier that learnt from all the
    others. Leave-one-out costs a classifier run per corrected text, so the figure is kept until the
    topics, the corrections or the threshold change (the key is a digest of all three)."""
    specs = selectors.topic_specs()
    threshold = _threshold(leader)
    digest = hashlib.sha256(repr((specs, corrections, threshold)).encode()).hexdigest()
    key = f"topics-accuracy:{leader.schema_name}:{digest}"
    cached = cache.get(key)
    if cached is None:
        cached = holdout_accuracy(topics=specs, corrections=corrections, threshold=threshold)
        cache.set(key, cached, ACCURACY_CACHE_SECONDS)
    return tuple(cached)


def _page(request: HttpRequest, *, threshold_form: ThresholdForm | None = None, status: int = 200):
    topics = list(Topic.objects.all())
    week = selectors.topic_texts_since()
    corrections = selectors.corrections()
    moved_to = Counter(topic_id for _text, topic_id in corrections)
    for topic in topics:
        topic.week_texts = week.get(topic.pk, 0)
        topic.corrected = moved_to.get(topic.pk, 0)
    accuracy, corrected = _accuracy(request.tenant, corrections)
    return render(
        request,
        "console/topics/topics.html",
        {
            "section": "topics",
            "topics": topics,
            "unsorted_week": week.get(selectors.UNSORTED, 0),
            "unsorted_corrected": moved_to.get(None, 0),
            "accuracy": None if accuracy is None else f"{round(accuracy * 100)}%",
            "corrected": corrected,
            "max_topics": MAX_TOPICS,
            "threshold_form": threshold_form
            or ThresholdForm(initial={"threshold": _threshold(request.tenant)}),
            "default_threshold": DEFAULT_THRESHOLD,
        },
        status=status,
    )


@manager_required
def topics(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _edit(request: HttpRequest, topic: Topic | None) -> HttpResponse:
    form = TopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        try:
            saved = topics_workflows.topic_save(topic=form.instance)
        except topics_workflows.TopicLimitError as error:
            form.add_error(None, str(error))
        except topics_workflows.TopicInvalidError as error:
            for field, problems in error.fields.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("Topic “%(name)s” saved.") % {"name": saved.name})
            return redirect("console:topics")
    return render(
        request,
        "console/topics/topic_form.html",
        {"section": "topics", "form": form, "topic": topic},
        status=400 if form.errors else 200,
    )


@manager_required
def topic_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@manager_required
def topic_edit(request: HttpRequest, topic_id: int) -> HttpResponse:
    return _edit(request, get_object_or_404(Topic, pk=topic_id))


@manager_required
def topic_delete(request: HttpRequest, topic_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    topic = get_object_or_404(Topic, pk=topic_id)
    if request.method == "POST":
        topics_workflows.topic_delete(topic=topic)
        messages.success(request, _("Topic “%(name)s” deleted.") % {"name": topic.name})
        return redirect("console:topics")
    rules = Rule.objects.filter(topic=topic).count()
    return render(
        request, "console/topics/topic_delete.html", {"section": "topics", "topic": topic, "rules": rules}
    )


@manager_required
@require_POST
def topic_move(request: HttpRequest, topic_id: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=topic_id)
    step = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if step is None:
        messages.error(request, _("Move a topic up or down."))
    else:
        topics_workflows.topic_move(topic=topic, step=step)
    return redirect("console:topics")


@manager_required
@require_POST
def topics_threshold(request: HttpRequest) -> HttpResponse:
    form = ThresholdForm(request.POST)
    if not form.is_valid():
        return _page(request, threshold_form=form, status=400)
    topics_workflows.threshold_set(leader=request.tenant, threshold=form.cleaned_data["threshold"])
    messages.success(request, _("Threshold saved."))
    return redirect("console:topics")
