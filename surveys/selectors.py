"""Reads of surveys: the list's figures, runs by state, the results (per question, by region and by
language), the runs and answers the API lists, and the CSV export's rows.

Results are SQL aggregates: one GROUP BY GROUPING SETS over the answers' chosen positions (unnested), one
over the answers themselves (with the number questions' summaries), each giving the whole survey, each
region and each language at once; Python only arranges their few hundred rows. Free-text samples are the
newest few answers of each text question, read along the answers' (question, created_at) index.
`python -m bench survey_results` times them at 100,000 answers (docs/architecture.md has the figures).

Call inside the leader's schema.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.aggregates import JSONBAgg
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.db.models.functions import Greatest, JSONObject

from members.audience import AudienceFilter, audience_members
from members.models import Member
from surveys.models import Answer, PendingRun, Question, Run, Survey
from surveys.texts import text_for

MAX_GROUPS = 12  # regions shown one by one; the others are summed as "other"
SAMPLES = 5  # free-text answers shown per question
OTHER = None  # the key of the column that sums the regions beyond MAX_GROUPS
NUMBER_PATTERN = r"^-?[0-9]{1,15}([.][0-9]{1,6})?$"  # what a number answer's value must look like to count


# --- the list ---------------------------------------------------------------------------------------------
@dataclass
class SurveySummary:
    survey: Survey
    runs: int  # members it went to (or will: queued)
    by_state: dict[str, int]
    asked: int  # runs whose first question went
    answered: int  # runs with at least one answer
    questions: int

    @property
    def answered_share(self) -> float | None:
        """Percent of the members asked who answered at least one question; None before anyone was."""
        return round(100 * self.answered / self.asked, 1) if self.asked else None


def _asked(by_state: dict[str, int]) -> int:
    return sum(n for state, n in by_state.items() if state not in (Run.QUEUED, Run.State.SKIPPED))


def survey_runs_by_state(*, survey: Survey) -> dict[str, int]:
    """Every state with its number of runs (0 included), and the members still queued ("queued")."""
    return surveys_runs_by_state([survey.pk])[survey.pk]


def surveys_runs_by_state(survey_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each survey's runs by state (every state, 0 included) along the (survey, state) index, and its
    members still queued ("queued"), counted in the survey's partition of the queue."""
    states: dict[int, dict[str, int]] = {
        pk: {Run.QUEUED: 0, **dict.fromkeys(Run.State.values, 0)} for pk in survey_ids
    }
    runs = Run.objects.filter(survey_id__in=survey_ids).values("survey_id", "state").annotate(n=Count("id"))
    for row in runs.order_by():
        states[row["survey_id"]][row["state"]] = row["n"]
    queued = PendingRun.objects.filter(survey_id__in=survey_ids).values("survey_id").annotate(n=Count("*"))
    for row in queued.order_by():
        states[row["survey_id"]][Run.QUEUED] = row["n"]
    return states


def survey_reach(*, survey: Survey) -> int:
    """Members the survey went to or is queued for: once it has any, its questions keep their meaning."""
    return Run.objects.filter(survey=survey).count() + PendingRun.objects.filter(survey=survey).count()


def surveys_summaries() -> list[SurveySummary]:
    """Every survey, newest first, with its runs by state and how many answered: three GROUP BY queries
    for the whole list, whatever its length."""
    surveys = list(Survey.objects.annotate(question_count=Count("questions")))
    ids = [survey.pk for survey in surveys]
    states = surveys_runs_by_state(ids)
    # A run answered something when it answered its first question: questions go one after the other, and
    # a survey with runs keeps its first question first (surveys.editing).
    answered = dict(
        Answer.objects.filter(question__survey_id__in=ids, question__position=1)
        .values_list("question__survey_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        SurveySummary(
            survey=survey,
            runs=sum(states[survey.pk].values()),
            by_state=states[survey.pk],
            asked=_asked(states[survey.pk]),
            answered=answered.get(survey.pk, 0),
            questions=survey.question_count,
        )
        for survey in surveys
    ]


# --- results ----------------------------------------------------------------------------------------------
@dataclass
class ChoiceCount:
    position: int
    label: str
    count: int
    share: float | None  # percent of those who answered the question (several choices: sums above 100)


@dataclass
class NumberSummary:
    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    median: float | None


@dataclass
class Group:
    """One region's or one language's answers to a question."""

    key: str | None  # a region or language ("" unknown; None: the regions beyond MAX_GROUPS)
    answered: int
    counts: dict[int, int]  # choice position -> members who chose it
    mean: float | None  # number questions
    shares: dict[int, float | None] = field(default_factory=dict)


@dataclass
class Sample:
    raw: str
    language: str
    answered_at: datetime.datetime


@dataclass
class QuestionResult:
    question: Question
    text: str
    answered: int
    choices: list[ChoiceCount]
    number: NumberSummary | None
    samples: list[Sample]
    by_region: list[Group]
    by_language: list[Group]


@dataclass
class SurveyResults:
    survey: Survey
    runs_by_state: dict[str, int]
    answered: int  # members who answered at least one question (within the filter)
    questions: list[QuestionResult]
    regions: list[str | None]  # the region columns, busiest first ("" unknown, None the rest summed)
    languages: list[str]  # the language columns, busiest first ("" unknown)
    region: str | None = None  # the filter applied, if any
    language: str | None = None


def _share(count: int, total: int) -> float | None:
    return round(100 * count / total, 1) if total else None


def _number(value) -> float | None:
    return None if value is None else round(float(value), 2)


def _choice_labels(question: Question, language: str, default_language: str, yes_no: tuple[str, str]):
    if question.kind == Question.Kind.YES_NO:
        return [(1, yes_no[0]), (2, yes_no[1])]
    return [(c.position, text_for(c.label, language, default_language)) for c in question.choices.all()]


def _filters_sql(region: str | None, language: str | None) -> tuple[str, list[Any]]:
    sql, params = "", []
    if region is not None:
        sql += " AND m.region = %s"
        params.append(region)
    if language is not None:
        sql += " AND a.language = %s"
        params.append(language)
    return sql, params


def aggregate_statements(
    question_ids: list[int],
    number_ids: list[int] = (),
    region: str | None = None,
    language: str | None = None,
) -> list[tuple[str, list[Any]]]:
    """The results' aggregates with their parameters. The first reads every answer once, with its chosen
    positions unnested WITH ORDINALITY (an answer without a choice as one row of position NULL), grouped
    by GROUPING SETS into the whole survey, each region and each language at once: per position the members
    who chose it, and per answer (its first row) the count and the number questions' count, sum, lowest
    and highest. Hash aggregates only, so no sort of the answers. The second is the medians of the number
    questions (an ordered-set aggregate, which cannot hash), over their answers alone.
    `python -m bench survey_results` prints their plans."""
    answer = Answer._meta.db_table
    member = Member._meta.db_table
    where, params = _filters_sql(region, language)
    counts_sql = f"""
        SELECT a.question_id, c.position, m.region, a.language, GROUPING(m.region, a.language) AS g,
               count(c.position), count(*) FILTER (WHERE c.ord = 1),
               count(n.value), sum(n.value), min(n.value), max(n.value)
        FROM {answer} a
        JOIN {member} m ON m.id = a.member_id
        CROSS JOIN LATERAL unnest(
            CASE WHEN cardinality(a.choices) > 0 THEN a.choices ELSE '{{NULL}}'::smallint[] END
        ) WITH ORDINALITY AS c(position, ord)
        CROSS JOIN LATERAL (
            SELECT CASE WHEN a.question_id = ANY(%s) AND c.ord = 1 AND a.value ~ %s
                        THEN a.value::numeric END AS value
        ) n
        WHERE a.question_id = ANY(%s){where}
        GROUP BY GROUPING SETS ((a.question_id, c.position), (a.question_id, c.position, m.region),
                                (a.question_id, c.position, a.language))
    """
    statements = [(counts_sql, [list(number_ids), NUMBER_PATTERN, question_ids, *params])]
    if number_ids:
        join = f"JOIN {member} m ON m.id = a.member_id" if region is not None else ""
        medians_sql = f"""
            SELECT a.question_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY a.value::numeric)
            FROM {answer} a {join}
            WHERE a.question_id = ANY(%s) AND a.value ~ %s{where}
            GROUP BY a.question_id
        """
        statements.append((medians_sql, [list(number_ids), NUMBER_PATTERN, *params]))
    return statements


def _aggregates(question_ids: list[int], number_ids: list[int], region: str | None, language: str | None):
    """(counts rows, {question id: median}). JIT off: compiling these plans costs more than it saves on a
    page that asks every few seconds."""
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        for sql, params in aggregate_statements(question_ids, number_ids, region, language):
            cursor.execute(sql, params)
            rows.append(cursor.fetchall())
    return rows[0], dict(rows[1]) if len(rows) > 1 else {}


def _columns(totals: dict[str, int], *, limit: int | None) -> list[str | None]:
    ordered = sorted(totals, key=lambda key: (-totals[key], key == "", key))
    if limit is None or len(ordered) <= limit:
        return ordered
    return [*ordered[:limit], OTHER]


@dataclass
class _Tally:
    """What the counts' rows say of one question, for the whole survey or one region or language."""

    answered: int = 0
    chosen: dict[int, int] = field(default_factory=dict)
    numbers: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None

    def add(self, position, chosen, answered, numbers, total, low, high) -> None:
        self.answered += answered
        if position is not None:
            self.chosen[position] = self.chosen.get(position, 0) + chosen
        if numbers:
            self.numbers += numbers
            self.total += float(total)
            self.low = float(low) if self.low is None else min(self.low, float(low))
            self.high = float(high) if self.high is None else max(self.high, float(high))

    def merge(self, other: _Tally) -> None:
        for position, n in other.chosen.items():
            self.add(position, n, 0, 0, 0, None, None)
        self.answered += other.answered
        if other.numbers:
            self.add(None, 0, 0, other.numbers, other.total, other.low, other.high)

    @property
    def mean(self) -> float | None:
        return _number(self.total / self.numbers) if self.numbers else None


def survey_results(
    *,
    survey: Survey,
    default_language: str,
    language_shown: str = "",
    region: str | None = None,
    language: str | None = None,
    yes_no: tuple[str, str] = ("Yes", "No"),
) -> SurveyResults:
    """Per question: how many answered, each choice's count and share, a number question's summary, the
    newest free-text answers; and the same by region and by language. `region`/`language` narrow
    everything to the members of that region (their Member.region, "" unknown) or the answers in that
    language. Labels in `language_shown` (the reader's), else the leader's default language."""
    questions = list(survey.questions.prefetch_related("choices"))
    ids = [q.pk for q in questions]
    number_ids = [q.pk for q in questions if q.kind == Question.Kind.NUMBER]
    rows, medians = _aggregates(ids, number_ids, region, language) if ids else ([], {})

    whole: dict[int, _Tally] = {}
    by: dict[str, dict[int, dict[str, _Tally]]] = {"region": {}, "language": {}}
    for qid, position, row_region, row_language, grouping, *figures in rows:
        if grouping == 3:
            tally = whole.setdefault(qid, _Tally())
        elif grouping == 1:
            tally = by["region"].setdefault(qid, {}).setdefault(row_region or "", _Tally())
        else:
            tally = by["language"].setdefault(qid, {}).setdefault(row_language or "", _Tally())
        tally.add(position, *figures)
    # Columns ordered by members who answered there: the most of any question (each member answered the
    # first one; later ones fewer).
    totals: dict[str, dict[str, int]] = {"region": {}, "language": {}}
    for axis, questions_by in by.items():
        for tallies in questions_by.values():
            for key, tally in tallies.items():
                totals[axis][key] = max(totals[axis].get(key, 0), tally.answered)
    regions = _columns(totals["region"], limit=MAX_GROUPS)
    languages = _columns(totals["language"], limit=None)

    def groups(axis: str, question: Question, columns: list[str | None]) -> list[Group]:
        tallies = by[axis].get(question.pk, {})
        result = []
        for key in columns:
            tally = _Tally()
            for other in (
                [t for k, t in tallies.items() if k not in columns] if key is OTHER else [tallies.get(key)]
            ):
                if other is not None:
                    tally.merge(other)
            result.append(
                Group(
                    key=key,
                    answered=tally.answered,
                    counts=tally.chosen,
                    mean=tally.mean,
                    shares={p: _share(n, tally.answered) for p, n in tally.chosen.items()},
                )
            )
        return result

    results = []
    for question in questions:
        tally = whole.get(question.pk) or _Tally()
        choices = [
            ChoiceCount(
                position=position,
                label=label,
                count=tally.chosen.get(position, 0),
                share=_share(tally.chosen.get(position, 0), tally.answered),
            )
            for position, label in _choice_labels(question, language_shown, default_language, yes_no)
        ]
        number = None
        if question.kind == Question.Kind.NUMBER:
            number = NumberSummary(
                count=tally.numbers,  # answers read as a number (an unclear one kept as written is not)
                minimum=_number(tally.low),
                maximum=_number(tally.high),
                mean=tally.mean,
                median=_number(medians.get(question.pk)),
            )
        results.append(
            QuestionResult(
                question=question,
                text=text_for(question.text, language_shown, default_language),
                answered=tally.answered,
                choices=choices,
                number=number,
                samples=_samples(question, region, language) if question.kind == Question.Kind.TEXT else [],
                by_region=groups("region", question, regions),
                by_language=groups("language", question, languages),
            )
        )
    first = next((r for r in results if r.question.position == 1), None)
    return SurveyResults(
        survey=survey,
        runs_by_state=survey_runs_by_state(survey=survey),
        answered=first.answered if first else 0,
        questions=results,
        regions=regions,
        languages=languages,
        region=region,
        language=language,
    )


def _samples(question: Question, region: str | None, language: str | None) -> list[Sample]:
    answers = Answer.objects.filter(question=question)
    if region is not None:
        answers = answers.filter(member__region=region)
    if language is not None:
        answers = answers.filter(language=language)
    rows = answers.order_by("-created_at", "-id").values_list("raw", "language", "created_at")[:SAMPLES]
    return [Sample(raw=raw, language=lang, answered_at=at) for raw, lang, at in rows]


# --- the API's listings -----------------------------------------------------------------------------------
def runs_with_updated() -> QuerySet[Run]:
    """Runs with `updated_at`: the last time their state moved (created, started, a question asked,
    finished); GREATEST skips the moments a run has not reached."""
    return Run.objects.annotate(updated_at=Greatest("created_at", "started_at", "asked_at", "finished_at"))


def survey_runs(
    *,
    survey: Survey,
    state: str | None = None,
    question_id: int | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
) -> QuerySet[Run]:
    runs = runs_with_updated().filter(survey=survey).select_related("member", "question")
    if state is not None:
        runs = runs.filter(state=state)
    if question_id is not None:
        runs = runs.filter(question_id=question_id)
    if updated_after is not None:
        runs = runs.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        runs = runs.filter(updated_at__lt=updated_before)
    return runs


def survey_answers(
    *,
    survey: Survey,
    question_id: int | None = None,
    state: str | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
) -> QuerySet[Answer]:
    answers = Answer.objects.filter(question__survey=survey).select_related("member", "question", "run")
    if question_id is not None:
        answers = answers.filter(question_id=question_id)
    if state is not None:
        answers = answers.filter(run__state=state)
    if updated_after is not None:
        answers = answers.filter(created_at__gte=updated_after)
    if updated_before is not None:
        answers = answers.filter(created_at__lt=updated_before)
    return answers


# --- sending ----------------------------------------------------------------------------------------------
def survey_audience_count(*, survey: Survey, audience: AudienceFilter) -> int:
    """How many members the audience selects that this survey never went to: those a send would queue
    (a member gets a survey once, ever)."""
    had = Run.objects.filter(survey=survey, member_id=OuterRef("pk"))
    queued = PendingRun.objects.filter(survey=survey, member_id=OuterRef("pk"))
    return audience_members(audience).filter(~Exists(had), ~Exists(queued)).count()


# --- the CSV export ---------------------------------------------------------------------------------------
EXPORT_MEMBER_COLUMNS = (
    "member_id",
    "phone",
    "language",
    "region",
    "country",
    "state",
    "started_at",
    "finished_at",
)
EXPORT_CHUNK = 2000


def survey_export_columns(*, survey: Survey, default_language: str) -> list[str]:
    """The header: the member's columns, then three per question: the choice label(s) (a number or free
    text as understood, for questions without choices), the value as given, the raw text."""
    columns = list(EXPORT_MEMBER_COLUMNS)
    for question in survey.questions.all():
        text = text_for(question.text, default_language, default_language)
        columns += [
            f"Q{question.position}. {text}",
            f"Q{question.position} value",
            f"Q{question.position} raw",
        ]
    return columns


def survey_export_rows(
    *, survey: Survey, default_language: str, yes_no: tuple[str, str] = ("Yes", "No")
) -> Iterator[list[Any]]:
    """One row per member who answered, in the order of survey_export_columns: each run's answers are
    gathered by PostgreSQL (one JSON aggregate per run), read through a server-side cursor EXPORT_CHUNK
    runs at a time, so the file is never built whole."""
    questions = list(survey.questions.prefetch_related("choices"))
    labels = {q.pk: dict(_choice_labels(q, default_language, default_language, yes_no)) for q in questions}
    runs = (
        Run.objects.filter(survey=survey, answers__isnull=False)
        .values(
            "id",
            "member_id",
            "member__phone",
            "member__language",
            "member__region",
            "member__country",
            "state",
            "started_at",
            "finished_at",
        )
        .annotate(
            answers=JSONBAgg(
                JSONObject(
                    q="answers__question_id", c="answers__choices", v="answers__value", r="answers__raw"
                )
            )
        )
        .order_by("id")
    )
    for run in runs.iterator(chunk_size=EXPORT_CHUNK):
        given = {item["q"]: item for item in run["answers"]}
        row: list[Any] = [
            run["member_id"],
            run["member__phone"],
            run["member__language"],
            run["member__region"],
            run["member__country"],
            run["state"],
            run["started_at"].isoformat() if run["started_at"] else "",
            run["finished_at"].isoformat() if run["finished_at"] else "",
        ]
        for question in questions:
            item = given.get(question.pk)
            if item is None:
                row += ["", "", ""]
                continue
            if item["c"]:
                names = labels[question.pk]
                understood = "; ".join(names.get(position, str(position)) for position in item["c"])
            else:
                understood = item["v"]
            row += [understood, item["v"], item["r"]]
        yield row
