"""Audiences by interests and answers: `follows` (topic followers, never those who left) and `answered`
(a survey question's choices), combined with every other criterion, validated in one line, offered by the
console's composer and counted by its preview."""

from __future__ import annotations

import re

import pytest

from members.audience import AudienceError, AudienceFilter, audience_count, audience_members
from members.models import Member, MemberAnswer
from members.services import member_topic_follow, member_topic_leave
from messaging.models import Broadcast
from surveys.models import Choice, Question, Survey
from tests import builders
from tests.api.conftest import Api, token_for
from tests.places import PARIS

pytestmark = pytest.mark.django_db


def answer(member: Member, question: Question, *choices: int) -> None:
    MemberAnswer.objects.update_or_create(
        member=member, question_id=question.pk, defaults={"choices": list(choices)}
    )


def survey_with(*questions: tuple[str, list[str]], name: str | None = None) -> list[Question]:
    """A survey of single-choice questions: (text, [choice labels]) each."""
    survey = Survey.objects.create(name=name or builders.new_tag("survey "))
    made = []
    for position, (text, labels) in enumerate(questions, start=1):
        question = Question.objects.create(
            survey=survey,
            position=position,
            kind=Question.Kind.SINGLE,
            text={"en": text, "fr": text + " (fr)"},
        )
        for number, label in enumerate(labels, start=1):
            Choice.objects.create(question=question, position=number, label={"en": label})
        made.append(question)
    return made


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_follows_selects_the_followers_of_any_of_the_topics_and_never_those_who_left(alice_schema):
    tag = builders.new_tag()
    housing, health, climate = builders.topic(), builders.topic(), builders.topic()
    follows_housing, follows_health, left_housing, follows_climate, nothing = (
        builders.fan(tag=tag) for _ in range(5)
    )
    member_topic_follow(member=follows_housing, topic=housing, source="survey")
    member_topic_follow(member=follows_health, topic=health, source="signup")
    member_topic_follow(member=left_housing, topic=housing, source="survey")
    member_topic_leave(member=left_housing, topic=housing, source="keyword")
    member_topic_follow(member=follows_climate, topic=climate, source="console")

    selected = audience_members({"tags_any": [tag], "follows": [housing.pk, health.pk]})

    assert ids(selected) == {follows_housing.pk, follows_health.pk}
    assert nothing.pk not in ids(audience_members({"tags_any": [tag], "follows": [climate.pk]}))


def test_follows_combines_with_every_other_criterion(alice_schema):
    tag = builders.new_tag()
    housing = builders.topic()
    montreal, paris, opted_out = (
        builders.fan(tag=tag),
        builders.fan(tag=tag, place=PARIS),
        builders.fan(tag=tag),
    )
    Member.objects.filter(pk=opted_out.pk).update(status=Member.Status.OPTED_OUT)
    for member in (montreal, paris, opted_out):
        member_topic_follow(member=member, topic=housing, source="survey")

    assert audience_count({"tags_any": [tag], "follows": [housing.pk], "countries": ["FR"]}) == 1
    assert audience_count({"tags_any": [tag], "follows": [housing.pk], "cities": ["Montréal"]}) == 1
    assert audience_count({"tags_any": [tag], "follows": [housing.pk]}) == 2  # opted out: never


def test_answered_selects_members_whose_answer_includes_any_of_the_choices(alice_schema):
    tag = builders.new_tag()
    issues, age = survey_with(("Issues?", ["Health", "Housing", "Climate"]), ("Age?", ["<30", "30+"]))
    one, one_and_three, two, young_two, silent = (builders.fan(tag=tag) for _ in range(5))
    answer(one, issues, 1)
    answer(one_and_three, issues, 1, 3)
    answer(two, issues, 2)
    answer(young_two, issues, 2)
    answer(young_two, age, 1)

    def selected(answered) -> set[int]:
        return ids(audience_members({"tags_any": [tag], "answered": answered}))

    assert selected([{"question": issues.pk, "choices": [3]}]) == {one_and_three.pk}
    assert selected([{"question": issues.pk, "choices": [1, 2]}]) == {
        one.pk,
        one_and_three.pk,
        two.pk,
        young_two.pk,
    }
    # Two questions: both must be answered so.
    both = [{"question": issues.pk, "choices": [2]}, {"question": age.pk, "choices": [1]}]
    assert selected(both) == {young_two.pk}
    assert silent.pk not in selected([{"question": age.pk, "choices": [1, 2]}])
    # With the follows of the same members, and the rest.
    housing = builders.topic()
    member_topic_follow(member=two, topic=housing, source="survey")
    assert ids(
        audience_members(
            {
                "tags_any": [tag],
                "follows": [housing.pk],
                "answered": [{"question": issues.pk, "choices": [2]}],
            }
        )
    ) == {two.pk}


def test_the_filters_round_trip_through_their_json_form(alice_schema):
    topic = builders.topic()
    data = {
        "follows": [topic.pk],
        "answered": [{"question": 9, "choices": [3, 1]}, {"question": 9, "choices": [2]}],
    }

    audience = AudienceFilter.from_dict(data)

    assert audience.to_dict() == {"follows": [topic.pk], "answered": [{"question": 9, "choices": [1, 2, 3]}]}
    assert AudienceFilter.from_dict(audience.to_dict()) == audience


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"follows": ["housing"]}, "follows takes whole numbers, not 'housing'."),
        ({"follows": [0]}, "follows takes topic ids."),
        ({"follows": [2_000_000_000]}, "follows: no topic with id 2000000000."),
        (
            {"answered": {"question": 1}},
            'answered must be a list like [{"question": 12, "choices": [1, 3]}].',
        ),
        (
            {"answered": [{"question": 1}]},
            'answered must be a list like [{"question": 12, "choices": [1, 3]}].',
        ),
        ({"answered": [{"question": 1, "choices": [], "x": 1}]}, "answered must be a list like"),
        ({"answered": [{"question": 1, "choices": []}]}, "answered: question 1 needs at least one choice."),
        ({"answered": [{"question": "one", "choices": [1]}]}, "answered takes whole numbers, not 'one'."),
        (
            {"answered": [{"question": 1, "choices": [0]}]},
            "answered takes choice positions (1, 2, …) in its choices.",
        ),
        ({"answered": [{"question": n, "choices": [1]} for n in range(1, 23)]}, "more than 20 questions"),
    ],
)
def test_bad_follows_or_answered_get_a_one_line_reason(alice_schema, data, message):
    with pytest.raises(AudienceError) as refused:
        AudienceFilter.from_dict(data)

    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith(next(iter(data)))


def test_a_stored_filter_whose_topic_was_deleted_selects_no_one(alice_schema):
    tag = builders.new_tag()
    topic = builders.topic()
    member = builders.fan(tag=tag)
    member_topic_follow(member=member, topic=topic, source="survey")
    broadcast = builders.broadcast(filters={"tags_any": [tag], "follows": [topic.pk]})
    topic.delete()

    assert audience_count(broadcast.audience()) == 0


# -- the console's composer --------------------------------------------------------------------------------


def test_the_composer_offers_topics_to_follow_and_survey_choices_and_counts_them(olivia, in_alice):
    tag = builders.new_tag()
    housing = builders.topic(name=builders.new_tag("Housing "))
    (issues,) = survey_with(("Which issues matter most?", ["Health", "Housing"]), name="Issues " + tag)
    follower, answerer, both = (builders.fan(tag=tag) for _ in range(3))
    member_topic_follow(member=follower, topic=housing, source="signup")
    member_topic_follow(member=both, topic=housing, source="signup")
    answer(answerer, issues, 2)
    answer(both, issues, 2)

    page = olivia.get("/broadcasts/new/").content.decode()
    assert 'name="follows"' in page and housing.name in page
    assert f"Issues {tag} · 1. Which issues matter most?" in page
    assert f'value="{issues.pk}:2"' in page and "2 Housing" in page

    def count(**fields) -> int:
        response = olivia.get("/broadcasts/new/count.json", {"tags_all": tag, **fields})
        assert response.status_code == 200, response.content
        return response.json()["count"]

    assert count(follows=str(housing.pk)) == 2
    assert count(answered=f"{issues.pk}:2") == 2
    assert count(follows=str(housing.pk), answered=f"{issues.pk}:2") == 1
    assert count(answered=f"{issues.pk}:1") == 0
    # Without JavaScript: "Update the count" on the form itself.
    page = olivia.post(
        "/broadcasts/new/",
        {"body": "Housing news", "tags_all": tag, "follows": [housing.pk], "when": "now", "step": "count"},
    ).content.decode()
    assert "Matching members: 2" in page


def test_an_answer_the_composer_does_not_offer_is_a_form_error(olivia, in_alice):
    response = olivia.get("/broadcasts/new/count.json", {"answered": "999999:1", "follows": "999999"})

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"answered", "follows"}


def test_confirming_a_broadcast_to_followers_stores_the_filter(
    olivia, in_alice, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    housing = builders.topic()
    (issues,) = survey_with(("Issues?", ["Health", "Housing"]))
    member = builders.fan(tag=tag)
    member_topic_follow(member=member, topic=housing, source="survey")
    answer(member, issues, 2)

    response = olivia.post(
        "/broadcasts/new/",
        {
            "body": "Housing news",
            "tags_all": tag,
            "follows": [str(housing.pk)],
            "answered": [f"{issues.pk}:2"],
            "when": "now",
            "step": "confirm",
        },
    )

    assert response.status_code == 302
    broadcast = Broadcast.objects.latest("created_at")
    assert broadcast.filters == {
        "tags_all": [tag],
        "follows": [housing.pk],
        "answered": [{"question": issues.pk, "choices": [2]}],
    }


def test_a_link_presets_followers_and_answers_in_the_composer(olivia, in_alice):
    housing = builders.topic()
    (issues,) = survey_with(("Issues?", ["Health", "Housing"]))

    page = olivia.get(
        "/broadcasts/new/", {"follows": str(housing.pk), "answered": [f"{issues.pk}:2", "bad"]}
    ).content.decode()

    assert re.search(rf'<input type="checkbox" name="follows" value="{housing.pk}"[^>]* checked', page)
    assert re.search(rf'<input type="checkbox" name="answered" value="{issues.pk}:2"[^>]* checked', page)
    assert not re.search(rf'name="answered" value="{issues.pk}:1"[^>]* checked', page)
    assert "data-preset" in page


# -- the API ----------------------------------------------------------------------------------------------


def test_the_apis_audience_preview_counts_followers_and_answers(in_alice, world):
    api = Api(world.alice, token_for(world.alice, "mark"))
    tag = builders.new_tag()
    housing = builders.topic()
    (issues,) = survey_with(("Issues?", ["Health", "Housing"]))
    follower, both = builders.fan(tag=tag), builders.fan(tag=tag)
    for member in (follower, both):
        member_topic_follow(member=member, topic=housing, source="api")
    answer(both, issues, 2)

    def preview(**criteria):
        return api.post("/api/v1/audience/preview/", {"filter": {"tags_all": [tag], **criteria}})

    assert preview(follows=[housing.pk]).json()["count"] == 2
    answered = [{"question": issues.pk, "choices": [2]}]
    response = preview(follows=[housing.pk], answered=answered)
    assert response.json()["count"] == 1
    assert response.json()["filter"]["answered"] == answered
    unknown = preview(follows=[2_000_000_000])
    assert unknown.status_code == 400 and "filter.follows" in unknown.json()["error"]["fields"]
    empty = preview(answered=[{"question": issues.pk, "choices": []}])
    assert empty.status_code == 400
    extra = preview(answered=[{"question": issues.pk, "choices": [1], "value": "x"}])
    assert extra.status_code == 400
