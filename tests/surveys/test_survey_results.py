"""Survey results (surveys.selectors): per question, counts and shares per choice, number summaries, yes/no,
free-text samples, by region and by language, from SQL aggregates in a number of queries that does not grow
with the answers; runs by state; the list's answered share; the CSV export's rows."""

from __future__ import annotations

import pytest

from surveys import selectors
from surveys.models import Run
from tests import builders
from tests.surveys import survey_ui_builders as build


@pytest.fixture
def answered(alice_schema):
    """A survey (issues: several choices; age: a number; vote: yes/no; anything else: free text) and six
    members' answers: three in Quebec (two in French), two in Ontario, one whose region is unknown."""
    survey = build.survey(
        questions=[
            *build.survey_data()["questions"],
            {"kind": "yes_no", "text": {"en": "Will you vote?"}},
            {"kind": "text", "text": {"en": "Anything else?"}},
        ]
    )
    issues, age, vote, other = survey.questions.all()
    rows = [
        # region, language, issues, age, vote, free text
        ("Quebec", "fr", [1, 3], "34", [1], "Plus de médecins"),
        ("Quebec", "fr", [1], "61", [2], None),
        ("Quebec", "en", [2], "19", [1], "Rent is too high"),
        ("Ontario", "en", [1, 2], "45", None, None),
        ("Ontario", "en", [3], None, None, None),
        ("", "en", [1], "28", [1], "=HYPERLINK()"),
    ]
    runs = []
    for region, language, picked, years, yes, words in rows:
        member = builders.member(region=region, language=language, country="CA" if region else "")
        state = Run.State.COMPLETED if words else Run.State.ACTIVE
        run = build.run(survey=survey, member=member, state=state)
        runs.append(run)
        build.answer(
            run=run, question=issues, choices=picked, value=",".join(map(str, picked)), language=language
        )
        if years:
            build.answer(run=run, question=age, value=years, raw=f"{years} ans", language=language)
        if yes:
            build.answer(
                run=run, question=vote, choices=yes, value="yes" if yes == [1] else "no", language=language
            )
        if words:
            build.answer(run=run, question=other, value=words, language=language)
    # Queued and skipped runs count in the states, not among those asked.
    build.run(survey=survey, member=builders.member(), state=Run.QUEUED)
    build.run(survey=survey, member=builders.member(), state=Run.State.SKIPPED)
    return survey, runs


def _results(survey, **kwargs):
    return selectors.survey_results(survey=survey, default_language="en", **kwargs)


def test_each_choice_has_its_count_and_share_of_those_who_answered(answered):
    survey, _runs = answered
    results = _results(survey)
    issues = results.questions[0]
    assert issues.answered == 6
    assert [(c.position, c.label, c.count, c.share) for c in issues.choices] == [
        (1, "Health", 4, 66.7),
        (2, "Housing", 2, 33.3),
        (3, "Climate", 2, 33.3),
    ]
    vote = results.questions[2]
    assert [(c.label, c.count, c.share) for c in vote.choices] == [("Yes", 3, 75.0), ("No", 1, 25.0)]
    assert results.answered == 6
    assert results.runs_by_state["completed"] == 3
    assert results.runs_by_state["active"] == 3
    assert (results.runs_by_state["queued"], results.runs_by_state["skipped"]) == (1, 1)


def test_labels_read_in_the_readers_language_else_the_leaders(answered):
    survey, _runs = answered
    issues = _results(survey, language_shown="fr").questions[0]
    assert [c.label for c in issues.choices] == ["Santé", "Logement", "Climat"]
    assert issues.text == "Quels sujets comptent le plus ?"
    assert _results(survey, language_shown="de").questions[1].text == "How old are you?"


def test_a_number_question_is_summarised(answered):
    survey, _runs = answered
    age = _results(survey).questions[1]
    assert age.answered == 5
    assert (age.number.count, age.number.minimum, age.number.maximum) == (5, 19, 61)
    assert (age.number.mean, age.number.median) == (37.4, 34)
    assert age.choices == []


def test_free_text_answers_are_sampled_newest_first(answered):
    survey, _runs = answered
    other = _results(survey).questions[3]
    assert other.answered == 3
    assert [s.raw for s in other.samples] == ["=HYPERLINK()", "Rent is too high", "Plus de médecins"]
    assert other.samples[2].language == "fr"


def test_results_by_region_and_by_language(answered):
    survey, _runs = answered
    results = _results(survey)
    assert results.regions == ["Quebec", "Ontario", ""]
    assert results.languages == ["en", "fr"]
    issues = results.questions[0]
    quebec, ontario, unknown = issues.by_region
    assert (quebec.key, quebec.answered, quebec.counts) == ("Quebec", 3, {1: 2, 2: 1, 3: 1})
    assert quebec.shares == {1: 66.7, 2: 33.3, 3: 33.3}
    assert (ontario.answered, ontario.counts) == (2, {1: 1, 2: 1, 3: 1})
    assert (unknown.key, unknown.answered, unknown.counts) == ("", 1, {1: 1})
    english, french = issues.by_language
    assert (english.key, english.answered, english.counts) == ("en", 4, {1: 2, 2: 2, 3: 1})
    assert (french.key, french.answered, french.counts) == ("fr", 2, {1: 2, 3: 1})
    age = results.questions[1]
    assert [(g.key, g.answered, g.mean) for g in age.by_region] == [
        ("Quebec", 3, 38.0),
        ("Ontario", 1, 45.0),
        ("", 1, 28.0),
    ]


def test_a_region_or_a_language_narrows_every_figure(answered):
    survey, _runs = answered
    quebec = _results(survey, region="Quebec")
    assert quebec.answered == 3
    assert [c.count for c in quebec.questions[0].choices] == [2, 1, 1]
    assert [s.raw for s in quebec.questions[3].samples] == ["Rent is too high", "Plus de médecins"]
    french = _results(survey, language="fr")
    assert [c.count for c in french.questions[0].choices] == [2, 0, 1]
    assert french.questions[1].number.mean == 47.5
    unknown = _results(survey, region="")
    assert unknown.answered == 1


def test_regions_beyond_the_busiest_are_summed_as_other(alice_schema, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_GROUPS", 2)
    survey = build.survey()
    issues = survey.questions.first()
    for region, n in (("A", 3), ("B", 2), ("C", 1), ("D", 1)):
        for _ in range(n):
            run = build.run(survey=survey, member=builders.member(region=region))
            build.answer(run=run, question=issues, choices=[1])
    results = _results(survey)
    assert results.regions == ["A", "B", None]
    assert [(g.key, g.answered, g.counts) for g in results.questions[0].by_region] == [
        ("A", 3, {1: 3}),
        ("B", 2, {1: 2}),
        (None, 2, {1: 2}),
    ]


def test_the_number_of_queries_does_not_grow_with_the_answers(alice_schema, django_assert_max_num_queries):
    survey = build.survey(
        questions=[*build.survey_data()["questions"], {"kind": "text", "text": {"en": "Anything else?"}}]
    )
    issues, age, other = survey.questions.all()
    for n in range(40):
        run = build.run(survey=survey, member=builders.member(region=f"R{n % 15}", language="fr"))
        build.answer(run=run, question=issues, choices=[1 + n % 3])
        build.answer(run=run, question=age, value=str(20 + n))
        build.answer(run=run, question=other, value=f"text {n}")
    # The questions and their choices (2); in a savepoint with JIT off, the counts and the medians (5); one
    # sample query per text question; the states (2).
    with django_assert_max_num_queries(10):
        results = _results(survey)
    assert results.questions[1].number.count == 40
    assert sum(g.answered for g in results.questions[0].by_region) == 40


def test_the_list_shows_runs_by_state_and_the_share_of_those_asked_who_answered(answered):
    survey, _runs = answered
    unsent = build.survey()
    summaries = {s.survey.pk: s for s in selectors.surveys_summaries()}
    summary = summaries[survey.pk]
    assert (summary.runs, summary.asked, summary.answered, summary.questions) == (8, 6, 6, 4)
    assert summary.answered_share == 100.0
    assert summary.by_state["queued"] == 1
    assert (summaries[unsent.pk].runs, summaries[unsent.pk].answered_share) == (0, None)


def test_the_export_has_one_row_per_member_who_answered(answered):
    survey, runs = answered
    columns = selectors.survey_export_columns(survey=survey, default_language="en")
    assert columns[:8] == list(selectors.EXPORT_MEMBER_COLUMNS)
    assert columns[8:11] == ["Q1. Which issues matter most to you?", "Q1 value", "Q1 raw"]
    assert len(columns) == 8 + 3 * 4
    rows = list(selectors.survey_export_rows(survey=survey, default_language="en"))
    assert [row[0] for row in rows] == [
        run.member_id for run in runs
    ]  # queued and skipped ones answered nothing
    first = dict(zip(columns, rows[0], strict=True))
    assert first["Q1. Which issues matter most to you?"] == "Health; Climate"
    assert (first["Q1 value"], first["Q1 raw"]) == ("1,3", "1,3")
    assert (first["Q2. How old are you?"], first["Q2 value"], first["Q2 raw"]) == ("34", "34", "34 ans")
    assert first["Q3. Will you vote?"] == "Yes"
    assert first["Q4. Anything else?"] == "Plus de médecins"
    assert (first["region"], first["language"], first["state"]) == ("Quebec", "fr", "completed")
    fifth = dict(zip(columns, rows[4], strict=True))
    assert (fifth["Q2 value"], fifth["Q3. Will you vote?"], fifth["Q4 raw"]) == ("", "", "")


def test_an_unclear_answer_kept_as_written_counts_as_answered_but_chooses_nothing(alice_schema):
    """The engine keeps a second unclear reply as written (no choice, value "") and moves on."""
    survey = build.survey()
    issues, age = survey.questions.all()
    for picked, years, raw in (([1], "30", None), ([], "", "bof"), ([2], "", "plus tard")):
        run = build.run(survey=survey, member=builders.member())
        build.answer(run=run, question=issues, choices=picked, raw=raw)
        build.answer(run=run, question=age, value=years, raw=raw or years)
    results = _results(survey)
    issues_result, age_result = results.questions
    assert issues_result.answered == 3
    assert [(c.count, c.share) for c in issues_result.choices] == [(1, 33.3), (1, 33.3), (0, 0.0)]
    assert (age_result.answered, age_result.number.count, age_result.number.mean) == (3, 1, 30)
