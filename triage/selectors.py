"""Reads of triage, in the current leader's schema: the topic × region (or language) matrix, the labels of
one of its cells, and what the topics page shows (texts labelled this week, the classifier's accuracy on the
team's corrections).

The matrix sums `Count` rows (one per hour × topic × place × language), never COUNT(*) over the labels: at a
million texts over 48 hours that is under 80,000 counter rows against a million labels
(bench/triage_matrix.py).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import QuerySet, Sum
from django.utils import timezone

from topics.models import Topic
from triage.classifier import TopicSpec
from triage.models import Count, Label

AXES = ("region", "language")
MEASURES = ("open", "texts")
UNSORTED = 0  # Count.topic_id of the texts no topic was given
COLUMNS_SHOWN = 12  # the busiest regions or languages get a column each; the rest add up in "Other"
CORRECTIONS_READ = 1000  # the newest corrections the accuracy is measured on


@dataclass(frozen=True)
class Cell:
    """A slice of the leader's inbound texts: the matrix's cell, the inbox's filter, a segment's source.

    `topic`: a topic id, UNSORTED (0) for texts without a topic, None for any. `region` and `language`: a
    value, "" for an unknown place or language, None for any. `since` ≤ received < `until`, when given."""

    topic: int | None = None
    region: str | None = None
    language: str | None = None
    since: datetime.datetime | None = None
    until: datetime.datetime | None = None

    @property
    def is_any(self) -> bool:
        return self == Cell()


def cell_labels(cell: Cell) -> QuerySet[Label]:
    """The labels of the texts in `cell`. A topic narrows along the (topic, received_at) index."""
    labels = Label.objects.all()
    if cell.topic == UNSORTED:
        labels = labels.filter(topic__isnull=True)
    elif cell.topic is not None:
        labels = labels.filter(topic_id=cell.topic)
    if cell.region is not None:
        labels = labels.filter(region=cell.region)
    if cell.language is not None:
        labels = labels.filter(language=cell.language)
    if cell.since is not None:
        labels = labels.filter(received_at__gte=cell.since)
    if cell.until is not None:
        labels = labels.filter(received_at__lt=cell.until)
    return labels


@dataclass
class Column:
    key: str | None  # a region or language; "" unknown; None: "Other", the sum of the columns not shown
    total: int = 0


@dataclass
class Row:
    topic_id: int  # UNSORTED for the unsorted row
    name: str
    cells: list[int] = field(default_factory=list)
    total: int = 0


@dataclass
class Matrix:
    axis: str
    measure: str
    since: datetime.datetime | None
    until: datetime.datetime | None
    columns: list[Column]
    rows: list[Row]
    total: int


def hour_floor(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def matrix(
    *,
    since: datetime.datetime | None,
    until: datetime.datetime | None = None,
    axis: str = "region",
    measure: str = "open",
    columns_shown: int | None = COLUMNS_SHOWN,
) -> Matrix:
    """Topics (in the leader's order, then "Unsorted") × regions or languages, summed from the counters of
    the hours from `since` (rounded down to its hour: counters are hourly) to `until`. `measure` is "open"
    (texts whose conversation still waits for an answer) or "texts" (all). Columns: the busiest
    `columns_shown` values (None: all of them), then "Other", with the unknown place or language last."""
    if axis not in AXES or measure not in MEASURES:
        raise ValueError(f"axis is one of {AXES}, measure one of {MEASURES}")
    counts = Count.objects.all()
    if since is not None:
        since = hour_floor(since)
        counts = counts.filter(hour__gte=since)
    if until is not None:
        counts = counts.filter(hour__lt=until)
    sums = counts.values_list("topic_id", axis).annotate(n=Sum(measure)).order_by()

    topics = list(Topic.objects.values_list("id", "name"))
    known = {topic_id for topic_id, _name in topics}
    by_cell: dict[tuple[int, str], int] = defaultdict(int)
    by_key: dict[str, int] = defaultdict(int)
    for topic_id, key, n in sums:
        if not n:
            continue
        # A deleted topic's texts lost their topic (Label.topic is SET_NULL): they count as unsorted.
        topic_id = topic_id if topic_id in known else UNSORTED
        by_cell[(topic_id, key)] += n
        by_key[key] += n

    ranked = sorted((key for key in by_key if key), key=lambda key: (-by_key[key], key))
    shown = ranked if columns_shown is None else ranked[:columns_shown]
    columns = [Column(key, by_key[key]) for key in shown]
    rest = set(ranked) - set(shown)
    if rest:
        columns.append(Column(None, sum(by_key[key] for key in rest)))
    if by_key.get(""):
        columns.append(Column("", by_key[""]))

    rows = []
    for topic_id, name in [*topics, (UNSORTED, "")]:
        row = Row(topic_id, name)
        for column in columns:
            if column.key is None:
                value = sum(by_cell.get((topic_id, key), 0) for key in rest)
            else:
                value = by_cell.get((topic_id, column.key), 0)
            row.cells.append(value)
        row.total = sum(row.cells)
        rows.append(row)
    return Matrix(
        axis=axis,
        measure=measure,
        since=since,
        until=until,
        columns=columns,
        rows=rows,
        total=sum(column.total for column in columns),
    )


def labels_by_message(message_ids: Iterable[int]) -> dict[int, Label]:
    """The labels of these texts, by message id, with their topics (texts not triaged yet have none)."""
    ids = list(message_ids)
    if not ids:
        return {}
    return {
        label.message_id: label for label in Label.objects.filter(message_id__in=ids).select_related("topic")
    }


def topic_specs() -> list[TopicSpec]:
    """The leader's topics as the classifier reads them."""
    return [
        TopicSpec(
            id=topic.id,
            name=topic.name,
            description=topic.description,
            examples=tuple(topic.examples),
            keywords=tuple(topic.keywords),
        )
        for topic in Topic.objects.all()
    ]


def corrections(*, limit: int = CORRECTIONS_READ) -> list[tuple[str, int | None]]:
    """The texts a teammate moved, newest first, as (text, topic id or None for "not any topic"): along the
    partial index on corrected_at."""
    rows = (
        Label.objects.filter(corrected_at__isnull=False)
        .order_by("-corrected_at")
        .values_list("message__body", "topic_id")[:limit]
    )
    return [(body, topic_id) for body, topic_id in rows]


def topic_texts_since(since: datetime.datetime | None = None) -> dict[int, int]:
    """Texts labelled per topic (UNSORTED included) since `since` (default: the last 7 days), from the
    counters."""
    since = since or timezone.now() - datetime.timedelta(days=7)
    rows = (
        Count.objects.filter(hour__gte=hour_floor(since))
        .values_list("topic_id")
        .annotate(n=Sum("texts"))
        .order_by()
    )
    return dict(rows)
