"""The survey engine: runs queued (after signup, or for a segment), sent at the leader's pace, answered one
question at a time through the inbound webhook, expired when the member stays silent, stopped by STOP, and
erased with the member. docs/architecture.md ("Surveys: runs") has the design.

A member a survey is to be sent to is first queued (surveys.models.PendingRun, in the survey's partition of
the queue); when its first question goes they have a run (surveys.models.Run): active (a question awaits
their answer) → completed, expired or stopped; skipped when it could not go. Exactly once: a member is
queued for a survey only when they have neither a queued row nor a run of it (each a unique key), and the
sender makes a run only where none exists. One at a time: at most one active run per member (a partial
unique index, which is also what the inbound statement reads to know a text is an answer); a member's other
surveys wait, queued, until it ends.

Call everything inside the leader's schema; the queue tasks (surveys.tasks) and the inbound path do.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from districts.models import Volunteer
from districts.services import VOLUNTEER_TAG, member_volunteer
from leaders.models import Leader
from members.audience import AudienceFilter, audience_members
from members.models import Member, MemberAnswer, MemberInterest
from members.services import MAX_TAGS
from messaging import quiet
from messaging.bulk import BulkText, texts_send_batch
from messaging.models import Message
from messaging.segments import segment_info
from surveys.answers import ChoiceSpec, answer_parse
from surveys.models import PENDING_PARTITIONS, Answer, Choice, PendingRun, Question, Run, Survey
from surveys.texts import QuestionView, language_shown, question_text, reask_text

logger = logging.getLogger(__name__)

BATCH_SIZE = (
    1000  # runs claimed at once at most; a number's rate usually allows far fewer (one second's worth)
)
LINGER = 5.0  # seconds a sender waits in-process for runs due soon, rather than leaving it to the sweep
WAIT_RETRY = datetime.timedelta(minutes=1)  # a run whose member is busy with another, looked at again after


class SurveyError(ValueError):
    """A survey that cannot be sent as asked; the message says why, in one line."""


# -- queueing ----------------------------------------------------------------------------------------------


def survey_send(*, survey: Survey, audience: AudienceFilter | dict | None, user=None) -> int:
    """Queue `survey` for every member `audience` selects (an AudienceFilter, or its JSON form, as broadcasts
    take it); returns how many members were queued now.

    One INSERT … SELECT from the audience's own SQL (_pending_insert): a member is queued once whatever
    sends the survey to them twice, and those who cannot be texted (opted out, unreachable) are never in an
    audience. Each is due when quiet hours end where the member lives (messaging.quiet); the sender is
    started after commit and paces itself (runs_dispatch). Raises
    SurveyError for a survey that is closed or has no question, or a suspended leader; AudienceError (a
    ValueError) for an audience that is not valid.
    """
    leader = _leader()
    if not leader.is_active:
        raise SurveyError("The leader is suspended: nothing can be sent.")
    if not survey.is_active:
        raise SurveyError("This survey is closed.")
    if not Question.objects.filter(survey=survey).exists():
        raise SurveyError("This survey has no question yet.")
    if not isinstance(audience, AudienceFilter):
        audience = AudienceFilter.from_dict(audience or {})
    now = timezone.now()
    with transaction.atomic():
        # One send of a survey at a time: the first makes the survey's partition of the queue.
        list(Survey.objects.select_for_update().filter(pk=survey.pk).values_list("pk"))
        count = _pending_insert(leader=leader, survey=survey, audience=audience, now=now)
        _dispatch_on_commit(count=count)
    logger.info(
        "survey %s queued for %d members by %s", survey.pk, count, getattr(user, "pk", None) or "the platform"
    )
    return count


def _pending_insert(*, leader, survey: Survey, audience: AudienceFilter, now: datetime.datetime) -> int:
    """The audience's members who have neither a run of the survey nor a place in its queue, queued in one
    statement; returns how many. Call with the survey's row locked.

    The survey's first send writes into a new table with no index, which is then indexed in one sorted pass
    and attached as the survey's partition (common.partitions); a later one writes through the partition's
    key (ON CONFLICT DO NOTHING), members in id order so that the key is written at its right edge. Each
    member's quiet-hours due time is looked up in a map of every zone's (messaging.quiet.ZONES_MAP_CTE)."""
    fresh = not PENDING_PARTITIONS.attached(survey.pk)
    local_day = now.astimezone(leader.zone).date()
    members = audience_members(audience, on=local_day).values("id", "time_zone")
    if not fresh:
        members = members.order_by("id")
    select_sql, select_params = members.query.sql_with_params()
    params: dict[str, Any] = {"survey": survey.pk, **quiet.zones_params(leader=leader, now=now)}
    # The audience SQL uses positional %s; its parameters are named so both styles do not mix.
    for index, value in enumerate(select_params):
        params[f"a{index}"] = value
    select_sql = select_sql.replace("%%", "\x00") % tuple(f"%(a{i})s" for i in range(len(select_params)))
    select_sql = select_sql.replace("\x00", "%%")
    # Those who had its first question have a run instead (a survey's first send usually has none to skip).
    had = Run.objects.filter(survey=survey).exists()
    table = PENDING_PARTITIONS.table_create(survey.pk) if fresh else PENDING_PARTITIONS.name(survey.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {quiet.ZONES_MAP_CTE} "
            f"INSERT INTO {table} (survey_id, member_id, due_at, created_at) "
            f"SELECT %(survey)s, a.id, {quiet.due_by_zone_sql('a.time_zone')}, %(now)s "
            f"FROM ({select_sql}) a "
            + (
                "WHERE NOT EXISTS (SELECT 1 FROM surveys_run r WHERE r.survey_id = %(survey)s "
                "AND r.member_id = a.id) "
                if had
                else ""
            )
            + ("" if fresh else "ON CONFLICT (member_id) DO NOTHING"),
            params,
        )
        count = cursor.rowcount
    if fresh:
        PENDING_PARTITIONS.attach(survey.pk)
    return count


def _pending_partition_ensure(survey_id: int) -> None:
    """The survey's partition of the queue, made empty if it has none (for members queued one by one)."""
    if PENDING_PARTITIONS.attached(survey_id):
        return
    with transaction.atomic():
        list(Survey.objects.select_for_update().filter(pk=survey_id).values_list("pk"))  # as survey_send
        PENDING_PARTITIONS.ensure(survey_id)


def member_survey_after_signup(*, member: Member, created: bool) -> None:
    """A member was saved (common.events.MEMBER_SAVED): a new member who may be texted gets the leader's
    after-signup survey, if one is active, queued and due now; the sender still holds it through the
    member's quiet hours (a member created by the API or an import at night is not texted at night, and one
    who signs up at 23:00 gets the question in the morning). Exactly once, like every run."""
    if not created or not member.may_receive():
        return
    survey = Survey.objects.filter(trigger=Survey.Trigger.AFTER_SIGNUP, is_active=True).first()
    if survey is None:
        return
    now = timezone.now()
    _pending_partition_ensure(survey.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO surveys_pendingrun (survey_id, member_id, due_at, created_at) "
            "SELECT %(survey)s, %(member)s, %(now)s, %(now)s WHERE NOT EXISTS "
            "(SELECT 1 FROM surveys_run WHERE survey_id = %(survey)s AND member_id = %(member)s) "
            "ON CONFLICT DO NOTHING",
            {"survey": survey.pk, "member": member.pk, "now": now},
        )
        _dispatch_on_commit(count=cursor.rowcount)


def _dispatch_on_commit(*, count: int) -> None:
    """Start senders once the runs are committed (a sender never looks for rows it cannot see yet)."""
    if count <= 0:
        return
    schema_name = connection.schema_name
    wanted = min(senders(), max(1, count // BATCH_SIZE))
    transaction.on_commit(lambda: senders_enqueue(schema_name, count=wanted))


# -- the queue: the sender and the sweep (surveys.tasks) run in the bulk lane ---------------------------------

TASKS = "surveys.tasks"  # the dotted path django-q stores for the tasks
SWEEP_SCHEDULE_NAME = "surveys-sweep"


def cluster() -> str | None:
    """The bulk lane: SURVEY_CLUSTER, by default the broadcasts' cluster."""
    return getattr(settings, "SURVEY_CLUSTER", None) or getattr(settings, "BROADCAST_CLUSTER", None) or None


def senders() -> int:
    """Senders at work at most for one leader: as many as a broadcast's dispatchers."""
    return max(1, int(getattr(settings, "BROADCAST_DISPATCHERS", 2)))


def senders_enqueue(schema_name: str, count: int = 1) -> None:
    """Queue `count` senders for the leader (surveys.tasks.runs_dispatch); extra ones find every sender's
    slot taken and leave at once."""
    sweep_schedule_ensure()
    for index in range(count):
        async_task(
            f"{TASKS}.runs_dispatch",
            schema_name,
            task_name=f"survey-runs-{schema_name}-{index}-{timezone.now().timestamp():.6f}"[:100],
            cluster=cluster(),
        )


def sweep_schedule_ensure() -> None:
    """The minute sweep (surveys.tasks.surveys_sweep), made with the first sender queued."""
    if not Schedule.objects.filter(name=SWEEP_SCHEDULE_NAME).exists():
        Schedule.objects.get_or_create(
            name=SWEEP_SCHEDULE_NAME,
            defaults={
                "func": f"{TASKS}.surveys_sweep",
                "schedule_type": Schedule.MINUTES,
                "minutes": 1,
                "repeats": -1,
                "cluster": cluster(),
            },
        )


def _leader():
    return Leader.objects.get(schema_name=connection.schema_name)


# -- sending ------------------------------------------------------------------------------------------------

# Claims queued members who are due (PendingRun), under a per-leader advisory lock (so two senders never both
# make one member's runs active: the second sees the first's) and FOR UPDATE SKIP LOCKED (a row an erasure or
# a STOP holds is left for the next claim). Each picked one is decided in the same statement:
# - skipped: the member may not be texted any more (STOP, unreachable, erased), the survey was closed, or it
#   has no question: a skipped run takes its place;
# - wait: the member has an active run (or two of their surveys were picked): due again when that one
#   expires, or sooner, when it ends (run_finished);
# - later: a member in quiet hours now (a segment's survey or an after-signup one): due when they end there;
# - active: its first question goes now: an active run (asked_at, expires_at after the survey's window).
# Those skipped or made active leave the queue; the others stay in it with their new due time. A run that
# exists already (which the queueing never lets happen) keeps the member's place: ON CONFLICT DO NOTHING,
# and nothing is sent.
_CLAIM_SQL = f"""
WITH {quiet.ZONES_CTE},
picked AS (
    SELECT p.survey_id, p.member_id, p.due_at, p.created_at FROM surveys_pendingrun p
    WHERE p.due_at <= %(now)s
    ORDER BY p.due_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
facts AS (
    SELECT p.survey_id, p.member_id, p.due_at, p.created_at, m.phone, m.language, first.id AS first_question,
        s.window_hours,
        (m.status = 'subscribed' AND m.unreachable_at IS NULL AND s.is_active AND first.id IS NOT NULL)
            IS TRUE AS sendable,
        (SELECT a.expires_at FROM surveys_run a WHERE a.member_id = p.member_id AND a.state = 'active')
            AS busy_until,
        EXISTS (SELECT 1 FROM surveys_run a WHERE a.member_id = p.member_id AND a.state = 'active') AS busy,
        row_number() OVER (PARTITION BY p.member_id ORDER BY p.created_at, p.survey_id) AS nth,
        {quiet.due_sql("z")} AS open_at
    FROM picked p
    JOIN surveys_survey s ON s.id = p.survey_id
    LEFT JOIN signup_member m ON m.id = p.member_id
    LEFT JOIN zones z ON z.name = m.time_zone
    LEFT JOIN LATERAL (
        SELECT q.id FROM surveys_question q WHERE q.survey_id = p.survey_id ORDER BY q.position LIMIT 1
    ) first ON TRUE
),
decided AS (
    SELECT *, CASE
        WHEN NOT sendable THEN 'skipped'
        WHEN busy OR nth > 1 THEN 'wait'
        WHEN open_at > %(now)s THEN 'later'
        ELSE 'active' END AS outcome
    FROM facts
),
postponed AS (
    UPDATE surveys_pendingrun p SET due_at = CASE d.outcome
        WHEN 'wait' THEN GREATEST(COALESCE(d.busy_until, %(now)s), %(now)s + %(wait)s)
        ELSE d.open_at END
    FROM decided d
    WHERE p.survey_id = d.survey_id AND p.member_id = d.member_id AND d.outcome IN ('wait', 'later')
),
dequeued AS (
    DELETE FROM surveys_pendingrun p USING decided d
    WHERE p.survey_id = d.survey_id AND p.member_id = d.member_id AND d.outcome IN ('skipped', 'active')
),
started AS (
    INSERT INTO surveys_run (survey_id, member_id, state, reasked, question_id, due_at, started_at, asked_at,
        expires_at, finished_at, created_at)
    SELECT d.survey_id, d.member_id, d.outcome, FALSE,
        CASE WHEN d.outcome = 'active' THEN d.first_question END, d.due_at,
        CASE WHEN d.outcome = 'active' THEN %(now)s END,
        CASE WHEN d.outcome = 'active' THEN %(now)s END,
        CASE WHEN d.outcome = 'active' THEN %(now)s + make_interval(hours => d.window_hours) END,
        CASE WHEN d.outcome = 'skipped' THEN %(now)s END,
        d.created_at
    FROM decided d WHERE d.outcome IN ('skipped', 'active')
    ON CONFLICT (survey_id, member_id) DO NOTHING
    RETURNING id, survey_id, member_id
)
SELECT r.id, d.outcome, d.member_id, d.survey_id, d.phone, d.language
FROM decided d LEFT JOIN started r ON r.survey_id = d.survey_id AND r.member_id = d.member_id
WHERE r.id IS NOT NULL OR d.outcome IN ('wait', 'later')
"""


@dataclasses.dataclass(frozen=True)
class Claimed:
    run_id: int | None  # the run made (active, skipped); None for those left queued (wait, later)
    outcome: str  # "active", "skipped", "wait", "later"
    member_id: int
    survey_id: int
    phone: str | None
    language: str | None


def runs_claim(*, leader, limit: int, now: datetime.datetime | None = None) -> list[Claimed]:
    """Claim up to `limit` due queued members and decide each (see _CLAIM_SQL); the runs made active are the
    ones whose first question must go now. One short transaction."""
    now = now or timezone.now()
    params = {**quiet.zones_params(leader=leader, now=now), "limit": limit, "wait": WAIT_RETRY}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('community.surveys.claim.' || current_schema()))"
        )
        cursor.execute(_CLAIM_SQL, params)
        return [Claimed(*row) for row in cursor.fetchall()]


@dataclasses.dataclass
class DispatchResult:
    outcome: (
        str  # "done" (nothing queued), "later" (runs due later: the sweep resumes), "budget", "suspended"
    )
    sent: int = 0
    skipped: int = 0
    waiting: int = 0
    next_due: datetime.datetime | None = None


def runs_dispatch(
    *,
    leader,
    time_budget: float = 240.0,
    batch_size: int = BATCH_SIZE,
    now: datetime.datetime | None = None,
) -> DispatchResult:
    """Send the first question of every run that is due, at the leader's pace, for up to `time_budget`
    seconds; several senders may run at once (claims never overlap).

    Each batch is about one second of the leader's sending rate; its texts go through the messaging core's
    bulk sender (messaging.bulk: recorded as outbound messages in the member's conversation, consent asked
    again, the shared rate limiter, Twilio's answers recorded). A run whose text Twilio refused for good is
    skipped. `now` freezes the clock used for due times (tests).
    """
    started = time.monotonic()
    result = DispatchResult("done")
    views: dict[int, tuple[Survey, QuestionView]] = {}
    while True:
        if time.monotonic() - started > time_budget:
            result.outcome = "budget"
            break
        leader.refresh_from_db(fields=["status", "segments_per_second", "number_type"])
        if not leader.is_active:
            result.outcome = "suspended"  # runs stay queued; the sweep resumes them
            break
        current = now or timezone.now()
        wanted = min(batch_size, max(1, leader.sending_rate // 2))  # a first question is about two segments
        claimed = runs_claim(leader=leader, limit=wanted, now=current)
        if not claimed:
            next_due = PendingRun.objects.order_by("due_at").values_list("due_at", flat=True).first()
            if next_due is None:
                break
            wait = (next_due - current).total_seconds()
            if now is None and wait <= LINGER and time.monotonic() - started + wait < time_budget:
                time.sleep(max(0.0, wait) + 0.01)
                continue
            result.outcome, result.next_due = "later", next_due
            break
        result.skipped += sum(1 for row in claimed if row.outcome == "skipped")
        result.waiting += sum(1 for row in claimed if row.outcome in ("wait", "later"))
        active = [row for row in claimed if row.outcome == "active"]
        if active:
            result.sent += _first_questions_send(leader=leader, claimed=active, views=views)
    return result


def _first_questions_send(*, leader, claimed: list[Claimed], views: dict) -> int:
    """Text each newly active run its first question (the intro before it), in the member's language."""
    for survey_id in {row.survey_id for row in claimed} - set(views):
        survey = Survey.objects.get(pk=survey_id)
        views[survey_id] = (survey, _view(survey.questions.order_by("position").first()))
    texts = []
    for row in claimed:
        survey, view = views[row.survey_id]
        body = question_text(
            view,
            language=row.language or leader.default_language,
            default_language=leader.default_language,
            intro=survey.intro,
        )
        texts.append(BulkText(member_id=row.member_id, phone=row.phone, body=body, key=row.run_id))
    outcomes = texts_send_batch(leader=leader, texts=texts, kind=Message.Kind.NOTICE)
    failed = [outcome.key for outcome in outcomes if outcome.outcome in ("failed", "refused")]
    if failed:
        # Refused (STOP since the claim) or refused by the carrier for good: no question reached them.
        now = timezone.now()
        Run.objects.filter(pk__in=failed, state=Run.State.ACTIVE).update(
            state=Run.State.SKIPPED, finished_at=now, question=None
        )
    return sum(1 for outcome in outcomes if outcome.outcome in ("sent", "retry"))


def _view(question: Question | None) -> QuestionView:
    if question is None:
        return QuestionView(kind="text", text={})
    return QuestionView(
        kind=question.kind,
        text=question.text,
        options=[(choice.position, choice.label) for choice in question.choices.order_by("position")],
        number_min=question.number_min,
        number_max=question.number_max,
    )


def first_text_segments(*, survey: Survey, language: str) -> int:
    """Segments of the survey's first text (intro and first question) in `language`, for estimates."""
    body = question_text(
        _view(survey.questions.order_by("position").first()),
        language=language,
        default_language=language,
        intro=survey.intro,
    )
    return segment_info(body).segments


def runs_due_exist(*, now: datetime.datetime | None = None) -> bool:
    return PendingRun.objects.filter(due_at__lte=now or timezone.now()).exists()


# -- answers -------------------------------------------------------------------------------------------------


def run_answer(*, leader, member_id: int, text: str, now: datetime.datetime | None = None) -> str | None:
    """A member with an active run texted `text` (not a keyword: those never reach this): it answers the
    question they were asked. Returns what to text back now (the next question, the re-ask, the thanks), or
    None; the inbound path puts it in the webhook's answer.

    Valid: the Answer, the member's MemberAnswer (what audiences read), the topics its choices follow
    (MemberInterest, source survey) and the tags they add, all in this transaction; then the next question,
    or the thanks and the run completed. Unclear: one polite re-ask with the options; unclear again: the
    text is recorded as it came (no choice, value "") and the run moves on. A run past its window expires
    here and the text is an ordinary one (None).
    """
    now = now or timezone.now()
    with transaction.atomic():
        run = (
            Run.objects.select_for_update(of=("self",))
            .select_related("survey", "question")
            .filter(member_id=member_id, state=Run.State.ACTIVE)
            .first()
        )
        if run is None:
            return None
        if run.expires_at is not None and run.expires_at <= now:
            run_finish(run=run, state=Run.State.EXPIRED, now=now)
            return None
        question, survey = run.question, run.survey
        if question is None:  # deleted while it waited for this answer: nothing left to ask it
            run_finish(run=run, state=Run.State.COMPLETED, now=now)
            return None
        member = Member.objects.only("id", "language", "tags").get(pk=member_id)
        choices = list(Choice.objects.filter(question=question).order_by("position"))
        view = _view_of(question, choices)
        default = leader.default_language
        language = member.language or default
        parsed = answer_parse(
            kind=question.kind,
            text=text,
            choices=[
                ChoiceSpec(
                    position=choice.position,
                    labels=tuple(label for label in choice.label.values() if label),
                    synonyms=tuple(choice.synonyms),
                )
                for choice in choices
            ],
            language=language,
            number_min=question.number_min,
            number_max=question.number_max,
        )
        if parsed is None and not run.reasked:
            run.reasked, run.asked_at, run.expires_at = True, now, now + survey.window
            run.save(update_fields=["reasked", "asked_at", "expires_at"])
            return reask_text(view, language=language, default_language=default)
        Answer.objects.create(
            run=run,
            question=question,
            member_id=member_id,
            choices=list(parsed.choices) if parsed else [],
            value=(parsed.value if parsed else "")[:200],
            raw=text[:1600],
            language=language_shown(question.text, language, default)[:8],
            created_at=now,
        )
        if parsed is not None:
            _answer_apply(
                leader=leader, member=member, question=question, choices=choices, parsed=parsed, now=now
            )
        following = (
            Question.objects.filter(survey_id=survey.pk, position__gt=question.position)
            .order_by("position")
            .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position")))
            .first()
        )
        if following is None:
            run_finish(run=run, state=Run.State.COMPLETED, now=now)
            thanks = language_shown(survey.thanks, language, default)
            return survey.thanks.get(thanks) or None
        run.question, run.reasked, run.asked_at = following, False, now
        run.expires_at = now + survey.window
        run.save(update_fields=["question", "reasked", "asked_at", "expires_at"])
        return question_text(
            _view_of(following, list(following.choices.all())), language=language, default_language=default
        )


def _view_of(question: Question, choices: list[Choice]) -> QuestionView:
    return QuestionView(
        kind=question.kind,
        text=question.text,
        options=[(choice.position, choice.label) for choice in choices],
        number_min=question.number_min,
        number_max=question.number_max,
    )


# A member's own answer follows the topics its choices map to: a survey is one of the member's own sources
# (MemberInterest.MEMBER_SOURCES), so it may follow again a topic they left. A topic followed already keeps
# its row as it is (the first source and time stay); one left is followed again, its left_at kept as history.
_FOLLOW_SQL = """
    INSERT INTO members_memberinterest (member_id, topic_id, following, source, followed_at)
    SELECT %(member)s, topic, TRUE, %(source)s, %(now)s FROM unnest(%(topics)s::bigint[]) AS topic
    ON CONFLICT (member_id, topic_id) DO UPDATE
        SET following = TRUE, source = EXCLUDED.source, followed_at = EXCLUDED.followed_at
        WHERE NOT members_memberinterest.following
"""


def _answer_apply(*, leader, member: Member, question: Question, choices: list[Choice], parsed, now) -> None:
    """What a valid answer changes on the member: their latest answer to the question (MemberAnswer, which
    audiences read), the topics and tags of the choices they picked; a choice tagged "volunteer"
    (districts.VOLUNTEER_TAG) makes them a volunteer of their district."""
    MemberAnswer.objects.bulk_create(
        [
            MemberAnswer(
                member_id=member.pk,
                question_id=question.pk,
                choices=list(parsed.choices),
                value=parsed.value[:200],
                answered_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["member", "question_id"],
        update_fields=["choices", "value", "answered_at"],
    )
    picked = [choice for choice in choices if choice.position in parsed.choices]
    topics = sorted({choice.topic_id for choice in picked if choice.topic_id is not None})
    if topics:
        assert MemberInterest.Source.SURVEY in MemberInterest.MEMBER_SOURCES
        with connection.cursor() as cursor:
            cursor.execute(
                _FOLLOW_SQL,
                {"member": member.pk, "source": MemberInterest.Source.SURVEY, "topics": topics, "now": now},
            )
    tags = list(member.tags)
    for choice in picked:
        tag = " ".join(choice.tag.split()).lower()[:50]  # as members.services.tags_parse stores tags
        if tag and tag not in tags and len(tags) < MAX_TAGS:
            tags.append(tag)
    if tags != member.tags:
        Member.objects.filter(pk=member.pk).update(tags=tags, updated_at=now)
    volunteering = any(" ".join(choice.tag.split()).lower() == VOLUNTEER_TAG for choice in picked)
    if volunteering and member.is_subscribed:
        # Their conversation goes to their district's coordinator. No confirmation text of its own: the
        # survey's next question or its thanks is what they get back now, and a second text in between
        # would read as the survey's; the coordinator writes next.
        member_volunteer(leader=leader, member=member, source=Volunteer.Source.SURVEY, confirm=False)


def run_finish(*, run: Run, state: str, now: datetime.datetime | None = None) -> None:
    """End an active run (completed, expired, stopped); the member's other queued runs may go now."""
    now = now or timezone.now()
    run.state, run.finished_at = state, now
    fields = ["state", "finished_at"]
    if state == Run.State.COMPLETED:
        run.question = None
        fields.append("question")
    run.save(update_fields=fields)
    members_runs_release(member_ids=[run.member_id], now=now)


def members_runs_release(*, member_ids: list[int], now: datetime.datetime) -> None:
    """These members' active runs ended: the other surveys they are queued for are due now (a manual
    survey's still waits for quiet hours to end: the claim looks again), and a sender is started after
    commit."""
    if not member_ids:
        return
    released = PendingRun.objects.filter(member_id__in=member_ids, due_at__gt=now).update(due_at=now)
    waiting = released or PendingRun.objects.filter(member_id__in=member_ids).exists()
    if waiting:
        _dispatch_on_commit(count=1)


def runs_expire(*, now: datetime.datetime | None = None) -> int:
    """Runs whose question has waited longer than the survey's window end, expired (the minute sweep); their
    members' other runs may go. One UPDATE along the active runs' index."""
    now = now or timezone.now()
    with transaction.atomic():
        member_ids = list(
            Run.objects.filter(state=Run.State.ACTIVE, expires_at__lte=now)
            .select_for_update(skip_locked=True)
            .values_list("member_id", flat=True)
        )
        if not member_ids:
            return 0
        expired = Run.objects.filter(
            member_id__in=member_ids, state=Run.State.ACTIVE, expires_at__lte=now
        ).update(state=Run.State.EXPIRED, finished_at=now)
        members_runs_release(member_ids=member_ids, now=now)
    return expired


# -- reactions -----------------------------------------------------------------------------------------------


def member_runs_stop(*, member: Member, erasing: bool = False) -> None:
    """The member opted out (common.events.MEMBER_OPTED_OUT: STOP, the carrier, the console, erasure): their
    active run ends as stopped, and every survey they were still queued for as skipped (its question never
    went). STOP is final; START later does not bring them back."""
    now = timezone.now()
    # The queue first: a sender that picked the member holds their rows until its claim commits, so this
    # waits for it, and the run it made active is then visible to the update below (the other order
    # could leave an active run to a member who said STOP).
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH dequeued AS (DELETE FROM surveys_pendingrun WHERE member_id = %(member)s "
            "RETURNING survey_id, member_id, due_at, created_at) "
            "INSERT INTO surveys_run (survey_id, member_id, state, reasked, due_at, finished_at, created_at) "
            "SELECT survey_id, member_id, %(skipped)s, FALSE, due_at, %(now)s, created_at FROM dequeued "
            "ON CONFLICT (survey_id, member_id) DO NOTHING",
            {"member": member.pk, "skipped": Run.State.SKIPPED, "now": now},
        )
    Run.objects.filter(member_id=member.pk, state=Run.State.ACTIVE).update(
        state=Run.State.STOPPED, finished_at=now
    )


def member_surveys_erase(*, member_id: int, phone: str) -> None:
    """The member is erased (common.events.MEMBER_ERASED): their runs, answers and the answers audiences
    read go. (Their texts, survey questions included, go with messaging's handler.)"""
    Answer.objects.filter(member_id=member_id).delete()
    PendingRun.objects.filter(member_id=member_id).delete()
    Run.objects.filter(member_id=member_id).delete()
    MemberAnswer.objects.filter(member_id=member_id).delete()
