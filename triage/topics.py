"""A leader's topics as the console and the API change them: one set of workflows, so both refuse the same
things in the same words. Deleting a topic moves its counts in the matrix, which is why these live in
triage and not in `topics` (below it)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from topics.models import MAX_TOPICS, Topic
from triage.models import Count


class TopicLimitError(Exception):
    """A leader already has MAX_TOPICS topics."""


class TopicInvalidError(Exception):
    """The model refused the topic: {field: [messages]}."""

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items()))
        self.fields = fields


@transaction.atomic
def topic_save(*, topic: Topic, data: dict[str, Any] | None = None) -> Topic:
    """Create or change a topic (with `data`, when given), through the model's own checks (Topic.clean:
    tidy spacing, keywords, at most MAX_TOPICS, a name unique whatever its case). A new topic goes last.
    TopicLimitError when a new topic would be one too many; TopicInvalidError naming the field otherwise."""
    adding = topic._state.adding
    if adding:
        # Creations one at a time, so two at once (console and API) cannot both be the 50th. This leader's
        # schema only.
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Topic._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        if Topic.objects.count() >= MAX_TOPICS:
            raise TopicLimitError(_("A leader has at most %(n)d topics.") % {"n": MAX_TOPICS})
        topic.position = (Topic.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    for field, value in (data or {}).items():
        setattr(topic, field, value)
    try:
        topic.full_clean()
    except ValidationError as exc:
        fields = exc.message_dict
        general = fields.pop(NON_FIELD_ERRORS, [])
        if general:  # the model's only rule beyond its fields: the case-blind unique name
            fields.setdefault("name", general)
        raise TopicInvalidError(fields) from None
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError:  # the same name saved a moment ago by another teammate
        raise TopicInvalidError({"name": [_("A topic with this name already exists.")]}) from None
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic) -> None:
    """Delete a topic. Its texts stay, unsorted (triage.Label.topic is SET NULL), and the matrix's counters
    move them to the unsorted row (topic 0), so the matrix and the labels keep telling the same story; the
    routing rules of that topic and the members' "wrote about" rows go with it."""
    table = Count._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (hour, topic_id, country, region, language, texts, open)
            SELECT hour, 0, country, region, language, texts, open FROM {table} WHERE topic_id = %s
            ON CONFLICT (hour, topic_id, country, region, language) DO UPDATE
            SET texts = {table}.texts + EXCLUDED.texts, open = {table}.open + EXCLUDED.open
            """,
            [topic.pk],
        )
    Count.objects.filter(topic_id=topic.pk).delete()
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
