"""Triage's workflows: the receiver's kick, a leader's run over its untriaged texts in batches, one batch
(language, topic, place, duplicates, then every row written in one transaction), a teammate's move of a text,
an answered conversation's texts closed. docs/architecture.md, "Triage: the pipeline", says why it is built
this way; the figures are bench/triage.py's.

Off the hot path: the inbound receiver stores a text and calls `triage_kick`, which at most every KICK_INTERVAL
per leader and process runs one statement (KICK) that sets the leader's State.pending only when it was false,
and queues `triage.tasks.triage_run` on the triage cluster (settings.TRIAGE_CLUSTER) when it did. The replies
and broadcasts never wait on triage's CPU.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task
from django_tenants.utils import schema_context

from common import events
from common.runs import batches_run
from common.sql import Statement, advisory_lock_try, prepared_fetchone
from leaders.models import Leader
from members.models import MemberTopic
from messaging.keywords import keyword_find
from topics.models import Topic
from triage import duplicates
from triage.classifier import Classifier, TopicSpec, Verdict
from triage.language import languages_detect
from triage.models import DEFAULT_THRESHOLD, Label, State
from triage.place import place_find
from triage.routing import conversations_route

logger = logging.getLogger(__name__)

TASK = "triage.tasks.triage_run"
SWEEP_SCHEDULE_NAME = "triage-sweep"
KICK_INTERVAL = 0.5  # seconds between two kicks of one leader's triage by one process
BATCH_SIZE = 500  # texts triaged and written together
RUN_SECONDS = 20.0  # a run gives its worker back after this long, and queues itself again, behind others
# A text triaged more than this long after it arrived sets off no `messages.triaged` event (a replay).
LIVE_EVENT_WINDOW = datetime.timedelta(hours=1)
LAST_LOOK_SECONDS = 1.0  # a run looks once more after this long: texts whose kick was throttled
# The cursor passes only texts this old: a text's id is taken when its INSERT starts and it is seen when it
# commits, so a younger id may still have an older neighbour on its way.
SETTLE = datetime.timedelta(seconds=5)
LOST_AFTER = datetime.timedelta(minutes=1)  # pending this long with no run: its task was lost
MAX_CORRECTIONS = 2_000  # the team's most recent corrections a classifier learns from
VERDICT_CACHE = 50_000  # per leader: a copy of a text already classified is not classified again

KICK = Statement(
    "triage_kick",
    "UPDATE {schema}.triage_state SET pending = true, requested_at = now() WHERE id = 1 AND NOT pending "
    "RETURNING 1",
)


def triage_cluster() -> str | None:
    return getattr(settings, "TRIAGE_CLUSTER", "triage") or None


# -- the kick (inbound's hot path) ----------------------------------------------------------------------------

_kicked: dict[str, float] = {}  # schema -> monotonic time of this process's last kick
_sweep_ensured = False


def triage_kick(*, schema_name: str) -> bool:
    """A text was stored in this leader's schema: make sure a triage run follows. True when a run was queued.

    Throttled per process (a burst of a thousand texts a second costs two statements a second); a throttled
    text is still triaged, by the run its predecessor's kick queued, which looks once more LAST_LOOK_SECONDS
    (more than KICK_INTERVAL) after it starts. Nothing is written when a run is already wanted."""
    now = time.monotonic()
    last = _kicked.get(schema_name)
    if last is not None and now - last < KICK_INTERVAL:
        return False
    _kicked[schema_name] = now
    if prepared_fetchone(KICK.in_schema(schema_name), {}) is None:
        return False
    triage_enqueue(schema_name)
    return True


def triage_enqueue(schema_name: str) -> None:
    global _sweep_ensured
    if not _sweep_ensured:
        triage_sweep_ensure()
        _sweep_ensured = True
    async_task(TASK, schema_name, task_name=f"triage-{schema_name}", cluster=triage_cluster())


def triage_sweep_ensure() -> None:
    """The minute-by-minute sweep of leaders whose run was wanted long ago and never came (`triage_sweep`)."""
    if not Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).exists():
        Schedule.objects.create(
            name=SWEEP_SCHEDULE_NAME,
            func="triage.tasks.triage_sweep",
            schedule_type=Schedule.MINUTES,
            minutes=1,
            repeats=-1,
            cluster=triage_cluster(),
        )


def triage_sweep(now: datetime.datetime | None = None) -> int:
    """Queue a run for every leader whose triage was wanted more than LOST_AFTER ago and is still pending
    (its task was lost: a broker restart, a worker killed), or whose last run failed. The number queued."""
    now = now or timezone.now()
    queued = 0
    for schema_name in Leader.objects.exclude(schema_name="public").values_list("schema_name", flat=True):
        with schema_context(schema_name):
            lost = State.objects.filter(pk=1, pending=True, requested_at__lt=now - LOST_AFTER).exists()
        if lost:
            triage_enqueue(schema_name)
            queued += 1
    return queued


# -- a run ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    id: int
    body: str
    phone: str
    member_id: int | None
    conversation_id: int | None
    created_at: datetime.datetime
    details: dict | None


UNLABELLED = """
SELECT m.id, m.body, m.phone, m.member_id, m.conversation_id, m.created_at, m.details
FROM messaging_message AS m
WHERE m.id > %s AND m.direction = 'in' AND m.kind = 'conversation'
    AND NOT EXISTS (SELECT 1 FROM triage_label AS l WHERE l.message_id = m.id)
ORDER BY m.id
LIMIT %s
"""


def _texts_unlabelled(after: int, limit: int) -> list[Text]:
    with connection.cursor() as cursor:
        cursor.execute(UNLABELLED, [after, limit])
        rows = cursor.fetchall()
    texts = []
    for id_, body, phone, member_id, conversation_id, created_at, details in rows:
        if isinstance(details, str):
            details = json.loads(details)
        texts.append(Text(id_, body or "", phone, member_id, conversation_id, created_at, details))
    return texts


def triage_run(
    *,
    schema_name: str,
    seconds: float | None = None,
    last_look: float | None = None,
    batch_size: int | None = None,
) -> int:
    """Triage a leader's untriaged texts, oldest first, in batches, for at most `seconds`; the number of texts
    labelled. Works in that leader's schema only. One run per leader at a time (an advisory lock): a second
    one leaves at once, and the first looks again before it ends."""
    seconds = RUN_SECONDS if seconds is None else seconds
    last_look = LAST_LOOK_SECONDS if last_look is None else last_look
    batch_size = batch_size or BATCH_SIZE
    leader = Leader.objects.filter(schema_name=schema_name).first()
    if leader is None:
        return 0
    with schema_context(schema_name):
        with advisory_lock_try(f"community.triage.{schema_name}") as taken:
            if not taken:
                return 0
            try:
                labelled, more = _run(leader, seconds=seconds, last_look=last_look, batch_size=batch_size)
            except Exception:
                # Wanted again: the sweep retries in a minute, not in a loop.
                State.objects.filter(pk=1).update(pending=True, requested_at=timezone.now())
                raise
        # A kick while this run held the lock queued a run that could not take it: follow it up.
        more = more or State.objects.filter(pk=1, pending=True).exists()
    if more:
        triage_enqueue(schema_name)  # at the end of the queue: other leaders' runs go first
    return labelled


def _run(leader: Leader, *, seconds: float, last_look: float, batch_size: int) -> tuple[int, bool]:
    State.objects.filter(pk=1).update(pending=False)  # first: a text stored from now on kicks again
    cursor = State.objects.values_list("cursor", flat=True).get(pk=1)
    classifier = classifier_for(leader.schema_name)
    mark, top, labelled = cursor, cursor, 0

    def batch() -> int:
        nonlocal mark, top, labelled
        top = _last_id()  # before the read: when it finds nothing, every text up to here is done
        texts = _texts_unlabelled(mark, batch_size)
        if texts:
            labelled += len(texts_triage(leader=leader, texts=texts, classifier=classifier))
            mark = texts[-1].id
        return len(texts)

    _read, more = batches_run(batch, seconds=seconds, last_look=last_look)
    _cursor_advance(cursor, mark if more else max(mark, top))
    return labelled, more


def _last_id() -> int:
    with connection.cursor() as db:
        db.execute("SELECT COALESCE(max(id), 0) FROM messaging_message")
        return db.fetchone()[0]


def _cursor_advance(cursor: int, mark: int) -> None:
    """Past every text up to `mark` that is older than SETTLE: all of them are labelled or need no label
    (a younger one may still have an older neighbour on its way)."""
    with connection.cursor() as db:
        db.execute(
            """
            UPDATE triage_state SET ran_at = now(), cursor = GREATEST(cursor, COALESCE(
                (SELECT max(id) FROM messaging_message WHERE id > %s AND id <= %s AND created_at < %s),
                cursor))
            WHERE id = 1
            """,
            [cursor, mark, timezone.now() - SETTLE],
        )


# -- one leader's classifier ---------------------------------------------------------------------------------


class _Cached:
    def __init__(self, version: tuple, classifier: Classifier) -> None:
        self.version = version
        self.classifier = classifier
        self.verdicts: OrderedDict[tuple[str, float], Verdict] = OrderedDict()


_classifiers: dict[str, _Cached] = {}
_classifiers_lock = threading.Lock()


def _classifier_version() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT max(updated_at) FROM topics_topic), (SELECT count(*) FROM topics_topic), "
            "(SELECT max(corrected_at) FROM triage_label WHERE corrected_at IS NOT NULL)"
        )
        return cursor.fetchone()


def classifier_for(schema_name: str) -> Classifier:
    """The leader's classifier (call in its schema), rebuilt when its topics or the team's corrections
    changed since it was built: checked once per run, with one query."""
    version = _classifier_version()
    cached = _classifiers.get(schema_name)
    if cached is not None and cached.version == version:
        return cached.classifier
    topics = [
        TopicSpec(t.id, t.name, t.description, tuple(t.examples), tuple(t.keywords))
        for t in Topic.objects.all()
    ]
    corrections = [
        (body, topic_id)
        for body, topic_id in Label.objects.filter(corrected_at__isnull=False)
        .order_by("-corrected_at")
        .values_list("message__body", "topic_id")[:MAX_CORRECTIONS]
    ]
    classifier = Classifier(topics=topics, corrections=corrections)
    with _classifiers_lock:
        _classifiers[schema_name] = _Cached(version, classifier)
    return classifier


def classifier_forget(schema_name: str) -> None:
    """Rebuild this leader's classifier at its next run (a correction, a topic changed here)."""
    _classifiers.pop(schema_name, None)


def _classify(
    schema_name: str, classifier: Classifier, texts: list[str], prints: list[str], threshold: float
):
    """Verdicts for `texts`, each distinct text (by fingerprint) classified once, and never again while the
    leader's classifier is the same: a campaign's forty thousand copies cost one classification."""
    cached = _classifiers.get(schema_name)
    memo = cached.verdicts if cached is not None and cached.classifier is classifier else OrderedDict()
    missing: dict[str, str] = {}
    for text, key in zip(texts, prints, strict=True):
        if (key, threshold) not in memo and key not in missing:
            missing[key] = text
    if missing:
        fresh = classifier.classify(list(missing.values()), threshold=threshold)
        for key, verdict in zip(missing, fresh, strict=True):
            memo[(key, threshold)] = verdict
    verdicts = [memo[(key, threshold)] for key in prints]
    for key in prints:  # recently seen, kept longest
        memo.move_to_end((key, threshold))
    while len(memo) > VERDICT_CACHE:
        memo.popitem(last=False)
    return verdicts


_pool: ThreadPoolExecutor | None = None


def _classifying_pool() -> ThreadPoolExecutor:
    """One thread per process that runs the classifier beside the batch's other steps (no database)."""
    global _pool
    if _pool is None:
        with _classifiers_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-classify")
    return _pool


# -- one batch -----------------------------------------------------------------------------------------------

GROUPS_UPSERT = """
INSERT INTO triage_duplicategroup AS g (fingerprint, first_message_id, topic_id, count, first_at, last_at)
SELECT r.fingerprint, m.id, t.id, r.count, r.first_at, r.last_at
FROM unnest(%s::varchar[], %s::bigint[], %s::int[], %s::int[], %s::timestamptz[], %s::timestamptz[])
    AS r(fingerprint, message_id, topic_id, count, first_at, last_at)
LEFT JOIN messaging_message AS m ON m.id = r.message_id
LEFT JOIN topics_topic AS t ON t.id = r.topic_id
ORDER BY r.fingerprint
ON CONFLICT (fingerprint) DO UPDATE SET
    count = g.count + EXCLUDED.count,
    first_at = LEAST(g.first_at, EXCLUDED.first_at),
    last_at = GREATEST(g.last_at, EXCLUDED.last_at)
RETURNING id, fingerprint
"""

LABELS_INSERT = """
INSERT INTO triage_label (message_id, conversation_id, member_id, topic_id, confidence, language, country,
    region, city, place_source, duplicates_id, received_at, triaged_at, open)
SELECT m.id, m.conversation_id, r.member_id, t.id, r.confidence, r.language, r.country, r.region, r.city,
    r.place_source, r.duplicates_id, m.created_at, now(), m.conversation_id IS NOT NULL
FROM unnest(%s::bigint[], %s::bigint[], %s::int[], %s::float8[], %s::varchar[], %s::varchar[], %s::varchar[],
        %s::varchar[], %s::varchar[], %s::bigint[])
    AS r(message_id, member_id, topic_id, confidence, language, country, region, city, place_source,
        duplicates_id)
JOIN messaging_message AS m ON m.id = r.message_id
LEFT JOIN topics_topic AS t ON t.id = r.topic_id
ON CONFLICT (message_id) DO NOTHING
RETURNING message_id, conversation_id, topic_id, open
"""

COUNTS_ADD = """
INSERT INTO triage_count AS c (hour, topic_id, country, region, language, texts, open)
SELECT * FROM unnest(%s::timestamptz[], %s::int[], %s::varchar[], %s::varchar[], %s::varchar[], %s::int[],
    %s::int[])
ON CONFLICT (hour, topic_id, country, region, language) DO UPDATE SET
    texts = c.texts + EXCLUDED.texts, open = c.open + EXCLUDED.open
"""

MEMBER_TOPICS_ADD = """
INSERT INTO members_membertopic AS mt (member_id, topic_id, texts, first_at, last_at)
SELECT r.member_id, r.topic_id, r.texts, r.first_at, r.last_at
FROM unnest(%s::bigint[], %s::int[], %s::int[], %s::timestamptz[], %s::timestamptz[])
    AS r(member_id, topic_id, texts, first_at, last_at)
WHERE EXISTS (SELECT 1 FROM signup_member AS m WHERE m.id = r.member_id)
ON CONFLICT (member_id, topic_id) DO UPDATE SET
    texts = mt.texts + EXCLUDED.texts, last_at = GREATEST(mt.last_at, EXCLUDED.last_at)
"""


def hour_of(moment: datetime.datetime) -> datetime.datetime:
    """The matrix's time cell: the hour of arrival, in UTC."""
    return moment.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def _columns(rows: Sequence[tuple]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


def texts_triage(*, leader: Leader, texts: Sequence[Text], classifier: Classifier | None = None) -> list[int]:
    """One batch, in the leader's schema: language, topic, place and group of each text, then its label, the
    matrix's counters, the members' topics and the groups' counts in one transaction; then routing and
    MESSAGES_TRIAGED. Keyword texts (STOP, HELP, START and the leader's stop words: consent, not
    conversation) get no label. The ids of the texts labelled."""
    schema_name = leader.schema_name
    texts = [t for t in texts if keyword_find(t.body, leader.stop_words) is None]
    if not texts:
        return []
    classifier = classifier or classifier_for(schema_name)
    bodies = [t.body for t in texts]
    prints = [duplicates.fingerprint(body) for body in bodies]
    threshold = leader.triage_threshold if leader.triage_threshold is not None else DEFAULT_THRESHOLD
    # The encoder spends its time in numpy, which lets go of the GIL: the rest of the batch (language, copies,
    # places: plain Python) runs meanwhile on this thread.
    classifying = _classifying_pool().submit(_classify, schema_name, classifier, bodies, prints, threshold)
    try:
        languages = languages_detect(bodies)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT fingerprint FROM triage_duplicategroup WHERE fingerprint = ANY(%s)",
                [list(set(prints))],
            )
            known = {row[0] for row in cursor.fetchall()}
        _, groups = duplicates.groups_assign(schema_name=schema_name, texts=bodies, known=known)
        members = _member_places({t.member_id for t in texts if t.member_id is not None})
        places = [
            place_find(
                member=members.get(t.member_id) if t.member_id is not None else None,
                details=t.details,
                phone=t.phone,
                text=t.body,
            )
            for t in texts
        ]
    finally:
        verdicts = classifying.result()

    # The groups' rows, one per group of the batch: first text, topic, count, times.
    group_rows: dict[str, list] = {}
    for text, group, verdict in zip(texts, groups, verdicts, strict=True):
        row = group_rows.get(group)
        if row is None:
            group_rows[group] = [group, text.id, verdict.topic_id, 1, text.created_at, text.created_at]
        else:
            row[3] += 1
            row[4], row[5] = min(row[4], text.created_at), max(row[5], text.created_at)
    by_id = {t.id: t for t in texts}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(GROUPS_UPSERT, _columns(sorted(group_rows.values())))
        group_ids = {fingerprint: id_ for id_, fingerprint in cursor.fetchall()}
        label_rows = [
            (
                text.id,
                text.member_id,
                verdict.topic_id,
                float(verdict.confidence),
                language or "",
                place.country[:2],
                place.region[:120],
                place.city[:120],
                str(place.source),
                group_ids.get(group),
            )
            for text, verdict, language, place, group in zip(
                texts, verdicts, languages, places, groups, strict=True
            )
        ]
        cursor.execute(LABELS_INSERT, _columns(label_rows))
        written = cursor.fetchall()
        place_of = {row[0]: row for row in label_rows}
        cells: Counter = Counter()
        opens: Counter = Counter()
        member_topics: dict[tuple[int, int], list] = {}
        for message_id, _conversation_id, topic_id, is_open in written:
            text = by_id[message_id]
            row = place_of[message_id]
            cell = (hour_of(text.created_at), topic_id or 0, row[5], row[6], row[4])
            cells[cell] += 1
            opens[cell] += 1 if is_open else 0
            if topic_id is not None and text.member_id is not None:
                entry = member_topics.setdefault(
                    (text.member_id, topic_id), [0, text.created_at, text.created_at]
                )
                entry[0] += 1
                entry[1], entry[2] = min(entry[1], text.created_at), max(entry[2], text.created_at)
        if cells:
            cursor.execute(
                COUNTS_ADD, _columns([(*cell, n, opens[cell]) for cell, n in sorted(cells.items())])
            )
        if member_topics:
            cursor.execute(
                MEMBER_TOPICS_ADD,
                _columns(
                    [(m, t, n, first, last) for (m, t), (n, first, last) in sorted(member_topics.items())]
                ),
            )
    labels = [
        Label(
            message_id=message_id,
            conversation_id=conversation_id,
            member_id=by_id[message_id].member_id,
            topic_id=topic_id,
            confidence=place_of[message_id][3],
            language=place_of[message_id][4],
            country=place_of[message_id][5],
            region=place_of[message_id][6],
            city=place_of[message_id][7],
            place_source=place_of[message_id][8],
            duplicates_id=place_of[message_id][9],
            received_at=by_id[message_id].created_at,
            open=is_open,
        )
        for message_id, conversation_id, topic_id, is_open in written
    ]
    if labels:
        conversations_route(labels=labels)
        # Texts stored long before triage saw them (a replay of a leader's history, a backlog after an
        # outage) are labelled quietly: receivers of `message.triaged` follow texts as they arrive, and a
        # million events for last year's texts would bury the ones that matter.
        live_since = timezone.now() - LIVE_EVENT_WINDOW
        live = [label.message_id for label in labels if label.received_at >= live_since]
        if live:
            events.emit(events.MESSAGES_TRIAGED, message_ids=live)
    return [label.message_id for label in labels]


def _member_places(member_ids: set[int]) -> dict[int, tuple[str, str, str]]:
    if not member_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, city, region, country FROM signup_member WHERE id = ANY(%s)", [list(member_ids)]
        )
        return {
            id_: (city or "", region or "", country or "") for id_, city, region, country in cursor.fetchall()
        }


# -- a teammate's move, an answered conversation, an erased member ------------------------------------------

COUNT_MOVE = """
INSERT INTO triage_count AS c (hour, topic_id, country, region, language, texts, open)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (hour, topic_id, country, region, language) DO UPDATE SET
    texts = c.texts + EXCLUDED.texts, open = c.open + EXCLUDED.open
"""


COUNT_TAKE = """
UPDATE triage_count SET texts = texts - %s, open = open - %s
WHERE hour = %s AND topic_id = %s AND country = %s AND region = %s AND language = %s
"""


def _cell_add(cursor, label: Label, topic_id: int | None, texts: int, open_: int) -> None:
    """Add to (or, with negative numbers, take from) the label's cell of the matrix under `topic_id`."""
    cell = [hour_of(label.received_at), topic_id or 0, label.country, label.region, label.language]
    if texts >= 0:
        cursor.execute(COUNT_MOVE, [*cell, texts, open_])
    else:  # the cell exists: the label was counted in it
        cursor.execute(COUNT_TAKE, [-texts, -open_, *cell])


def _member_topic_add(label: Label, topic_id: int | None, n: int) -> None:
    if topic_id is None or label.member_id is None:
        return
    if n > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                MEMBER_TOPICS_ADD,
                [[label.member_id], [topic_id], [n], [label.received_at], [label.received_at]],
            )
        return
    rows = MemberTopic.objects.filter(member_id=label.member_id, topic_id=topic_id)
    rows.filter(texts__gt=-n).update(texts=F("texts") + n)
    rows.filter(texts__lte=-n).delete()  # they wrote about it no more: no longer in "wrote about X"


def label_move(*, label: Label, topic, by) -> Label:
    """A teammate says this text is about `topic` (a topics.Topic, or None: not any topic). The text becomes
    an example for the leader's classifier; the matrix's counters and the members' topics follow.
    ValidationError when the topic is not one of this leader's."""
    if topic is not None and not Topic.objects.filter(pk=topic.pk).exists():
        raise ValidationError("This topic is not one of this leader's.")
    with transaction.atomic():
        label = Label.objects.select_for_update().get(pk=label.pk)
        old_topic_id = label.topic_id
        new_topic_id = topic.pk if topic is not None else None
        if label.corrected_at is None:
            label.predicted_topic_id = label.topic_id
        label.topic_id = new_topic_id
        label.corrected_by = by
        label.corrected_at = timezone.now()
        label.save(update_fields=["topic", "predicted_topic", "corrected_by", "corrected_at"])
        if old_topic_id != new_topic_id:
            with connection.cursor() as cursor:
                _cell_add(cursor, label, old_topic_id, -1, -1 if label.open else 0)
                _cell_add(cursor, label, new_topic_id, 1, 1 if label.open else 0)
            _member_topic_add(label, old_topic_id, -1)
            _member_topic_add(label, new_topic_id, 1)
    classifier_forget(connection.schema_name)
    return label


LABELS_CLOSE = """
WITH closed AS (
    UPDATE triage_label SET open = false WHERE conversation_id = %s AND open
    RETURNING date_trunc('hour', received_at, 'UTC') AS hour, COALESCE(topic_id, 0) AS topic_id, country, region,
        language
),
cells AS (
    SELECT hour, topic_id, country, region, language, count(*) AS n FROM closed
    GROUP BY hour, topic_id, country, region, language
)
UPDATE triage_count AS c SET open = c.open - cells.n FROM cells
WHERE c.hour = cells.hour AND c.topic_id = cells.topic_id AND c.country = cells.country
    AND c.region = cells.region AND c.language = cells.language
"""


def conversation_labels_close(*, conversation_id: int, by_user_id: int | None = None) -> int:
    """A conversation was answered (common.events.CONVERSATION_ANSWERED): its fan's texts are no longer open
    in the matrix. One statement; the number of cells changed."""
    with connection.cursor() as cursor:
        cursor.execute(LABELS_CLOSE, [conversation_id])
        return cursor.rowcount


def label_uncount(*, label: Label) -> None:
    """A label is going (its text was deleted: a member's erasure): its cell counts it no more."""
    with connection.cursor() as cursor:
        _cell_add(cursor, label, label.topic_id, -1, -1 if label.open else 0)


def member_topics_erase(*, member_id: int, phone: str) -> None:
    """A member is erased (common.events.MEMBER_ERASED): the topics they wrote about go too."""
    MemberTopic.objects.filter(member_id=member_id).delete()


def triage_reset_throttle() -> None:
    """Forget this process's recent kicks (tests, the bench)."""
    _kicked.clear()
