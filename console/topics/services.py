"""Workflows of the topics page: save a topic in its place, delete one, move one up or down, set the
leader's threshold. Topics live in the leader's schema; the threshold on the leader (public schema)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from topics.models import Topic


class TopicNameTakenError(ValueError):
    """Two teammates saved the same name at once: the unique index refused the second."""


def topic_save(*, topic: Topic) -> Topic:
    """A new topic goes last. The model was checked by the form (Topic.clean); the unique index on the
    name, whatever its case, settles a race between two teammates."""
    if topic._state.adding:
        topic.position = (Topic.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError as error:
        raise TopicNameTakenError(topic.name) from error
    return topic


def topic_delete(*, topic: Topic) -> None:
    """Its texts become unsorted (triage.Label.topic is SET_NULL); members lose it from what they wrote
    about (members.MemberTopic cascades)."""
    topic.delete()


@transaction.atomic
def topic_move(*, topic: Topic, step: int) -> None:
    """Up (step -1) or down (+1) one place; positions are renumbered 1..n so they stay distinct."""
    ids = list(Topic.objects.select_for_update().order_by("position", "id").values_list("id", flat=True))
    index = ids.index(topic.pk)
    target = index + step
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    for position, topic_id in enumerate(ids, start=1):
        Topic.objects.filter(pk=topic_id).exclude(position=position).update(position=position)


def threshold_set(*, leader, threshold: float | None) -> None:
    """The leader's triage threshold (None: triage.DEFAULT_THRESHOLD). Saved through the model so the
    leader caches (leaders.routing) are cleared."""
    leader.triage_threshold = threshold
    leader.save(update_fields=["triage_threshold"])
