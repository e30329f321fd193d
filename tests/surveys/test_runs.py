"""Survey runs end to end: sent to a segment through the bulk lane's sender and the fake Twilio, answered
through signed webhooks posted to the real receiver, in English, French, Spanish and Arabic; the re-ask,
expiry, keywords during a survey, exactly-once sending, the after-signup trigger, consent and erasure."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.routing import leader_cache_clear
from members.consent import member_mark_unreachable
from members.models import Member, MemberAnswer, MemberInterest
from members.services import member_erase
from messaging.models import Message, SmsStatus
from messaging.texts import auto_text
from surveys import tasks
from surveys.models import Answer, PendingRun, Run, Survey
from surveys.services import SurveyError, member_survey_after_signup, survey_send
from surveys.texts import REASK
from tests import builders
from tests.messaging.webhooks import text, twiml_messages
from tests.surveys.helpers import open_all_day, senders_run, sent_to, survey

pytestmark = pytest.mark.django_db

ISSUES = {
    "en": "Which issues matter most to you? Reply with the numbers.",
    "fr": "Quels sujets comptent le plus pour vous ? Répondez avec les numéros.",
    "es": "¿Qué temas te importan más? Responde con los números.",
    "ar": "ما القضايا الأهم بالنسبة لك؟ أرسل الأرقام.",
}
HEALTH = {"en": "Health", "fr": "Santé", "es": "Salud", "ar": "الصحة"}
HOUSING = {"en": "Housing", "fr": "Logement", "es": "Vivienda", "ar": "السكن"}
CLIMATE = {"en": "Climate", "fr": "Climat", "es": "Clima", "ar": "المناخ"}
JOBS = {"en": "Jobs", "fr": "Emploi", "es": "Empleo", "ar": "العمل"}
HOUSEHOLD = {
    "en": "How many people live in your home?",
    "fr": "Combien de personnes vivent chez vous ?",
    "es": "¿Cuántas personas viven en tu casa?",
    "ar": "كم شخصًا يعيش في منزلك؟",
}
VOLUNTEER = {
    "en": "Would you volunteer with us?",
    "fr": "Seriez-vous bénévole avec nous ?",
    "es": "¿Serías voluntario con nosotros?",
    "ar": "هل تتطوع معنا؟",
}
COUNT_ME_IN = {"en": "Count me in", "fr": "Je suis partant", "es": "Cuenta conmigo", "ar": "أنا معكم"}
NOT_NOW = {"en": "Not now", "fr": "Pas maintenant", "es": "Ahora no", "ar": "ليس الآن"}
INTRO = {
    "en": "Alice here! Three quick questions.",
    "fr": "Ici Alice ! Trois petites questions.",
    "es": "¡Hola, soy Alice! Tres preguntas rápidas.",
    "ar": "معك أليس! ثلاثة أسئلة سريعة.",
}
THANKS = {
    "en": "Thank you! Your answers shape our work.",
    "fr": "Merci ! Vos réponses guident notre travail.",
    "es": "¡Gracias! Tus respuestas guían nuestro trabajo.",
    "ar": "شكرًا! إجاباتك توجه عملنا.",
}


@pytest.fixture(autouse=True)
def _fresh_leader_cache():
    leader_cache_clear()
    yield
    leader_cache_clear()


@pytest.fixture
def alice(world):
    """Alice, sending at any hour (quiet hours have tests of their own)."""
    leader = open_all_day(world.alice)
    leader_cache_clear()
    return leader


def issues_survey(leader, *, topics=None, **fields) -> Survey:
    health, housing = topics or (None, None)
    return survey(
        leader=leader,
        intro=INTRO,
        thanks=THANKS,
        questions=[
            {
                "kind": "multiple",
                "text": ISSUES,
                "choices": [
                    {"label": HEALTH, "topic": health},
                    {"label": HOUSING, "topic": housing, "tag": "Housing"},
                    {"label": CLIMATE},
                    {"label": JOBS},
                ],
            },
            {"kind": "number", "text": HOUSEHOLD, "number_min": 1, "number_max": 20},
            {
                "kind": "single",
                "text": VOLUNTEER,
                "choices": [{"label": COUNT_ME_IN, "tag": "volunteer"}, {"label": NOT_NOW}],
            },
        ],
        **fields,
    )


def send(leader, the_survey: Survey, audience: dict, django_capture_on_commit_callbacks) -> int:
    """The team sends the survey to a segment; the bulk lane's sender runs."""
    with schema_context(leader.schema_name), django_capture_on_commit_callbacks(execute=True):
        count = survey_send(survey=the_survey, audience=audience)
    senders_run()
    return count


def run_of(leader, member) -> Run:
    with schema_context(leader.schema_name):
        return Run.objects.select_related("question").get(member=member)


def answer(client, leader, phone: str, body: str, django_capture_on_commit_callbacks) -> list[str]:
    """The member texts `body` through the signed webhook; what the TwiML answer sends back."""
    with django_capture_on_commit_callbacks(execute=True):
        response = text(client, leader, phone, body)
    assert response.status_code == 200
    return twiml_messages(response)


@pytest.mark.parametrize(
    ("language", "first", "household", "volunteer", "picked", "value", "volunteers"),
    [
        ("en", "1, 2", "3", "1", [1, 2], "3", True),
        ("fr", "1 et 3", "4", "1", [1, 3], "4", True),
        ("es", "1 y 2", "2", "2", [1, 2], "2", False),
        ("ar", "١ و ٢", "٤", "١", [1, 2], "4", True),  # Arabic-Indic digits
    ],
)
def test_a_survey_runs_as_a_conversation_in_the_members_language(
    client,
    alice,
    twilio,
    django_capture_on_commit_callbacks,
    language,
    first,
    household,
    volunteer,
    picked,
    value,
    volunteers,
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        health, housing = builders.topic(name=f"Health {tag}"), builders.topic(name=f"Housing {tag}")
        member = builders.member(language=language, tags=[tag])
        conversation = builders.conversation(member=member)
    the_survey = issues_survey(alice, topics=(health, housing))

    assert send(alice, the_survey, {"tags_any": [tag]}, django_capture_on_commit_callbacks) == 1

    # The first text: the intro, the question, its options numbered, all in the member's language.
    (first_text,) = sent_to(twilio, member.phone)
    assert first_text == (
        f"{INTRO[language]}\n\n{ISSUES[language]}\n1 {HEALTH[language]}\n2 {HOUSING[language]}"
        f"\n3 {CLIMATE[language]}\n4 {JOBS[language]}"
    )
    with schema_context(alice.schema_name):
        # Recorded as an outbound text of the member's conversation: the team sees it in the inbox.
        recorded = Message.objects.get(phone=member.phone, direction="out")
        assert (recorded.body, recorded.status, recorded.conversation_id) == (
            first_text,
            SmsStatus.WIRED,
            conversation.pk,
        )
        assert recorded.twilio_sid
    run = run_of(alice, member)
    assert run.state == Run.State.ACTIVE and run.question.position == 1
    assert run.expires_at == run.asked_at + datetime.timedelta(hours=24)

    # Each answer gets the next question at once, in the webhook's answer.
    assert answer(client, alice, member.phone, first, django_capture_on_commit_callbacks) == [
        HOUSEHOLD[language]
    ]
    assert answer(client, alice, member.phone, household, django_capture_on_commit_callbacks) == [
        f"{VOLUNTEER[language]}\n1 {COUNT_ME_IN[language]}\n2 {NOT_NOW[language]}"
    ]
    assert answer(client, alice, member.phone, volunteer, django_capture_on_commit_callbacks) == [
        THANKS[language]
    ]

    run = run_of(alice, member)
    assert run.state == Run.State.COMPLETED and run.finished_at is not None
    with schema_context(alice.schema_name):
        answers = list(Answer.objects.filter(run=run).order_by("question__position"))
        assert [(a.choices, a.value) for a in answers] == [
            (picked, ",".join(map(str, picked))),
            ([], value),
            ([1], "1") if volunteers else ([2], "2"),
        ]
        assert [a.raw for a in answers] == [first, household, volunteer]
        assert {a.language for a in answers} == {language}
        # What audiences read: the latest answer per question.
        latest = {
            row.question_id: (row.choices, row.value) for row in MemberAnswer.objects.filter(member=member)
        }
        assert latest == {a.question_id: (a.choices, a.value) for a in answers}
        # Health was picked by everyone, Housing by some: followed with the survey as the source.
        followed = {
            row.topic_id: row.source for row in MemberInterest.objects.filter(member=member, following=True)
        }
        expected = {health.pk: "survey"} | ({housing.pk: "survey"} if 2 in picked else {})
        assert followed == expected
        tags = Member.objects.get(pk=member.pk).tags
        assert ("housing" in tags) == (2 in picked)
        assert ("volunteer" in tags) == volunteers
        # The questions and answers are all in the thread, in order.
        bodies = list(
            Message.objects.filter(phone=member.phone)
            .order_by("created_at", "pk")
            .values_list("body", flat=True)
        )
        assert bodies == [
            first_text,
            first,
            HOUSEHOLD[language],
            household,
            f"{VOLUNTEER[language]}\n1 {COUNT_ME_IN[language]}\n2 {NOT_NOW[language]}",
            volunteer,
            THANKS[language],
        ]


def test_an_unclear_answer_gets_one_polite_reask_then_is_kept_as_written(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(language="fr", tags=[tag])
    the_survey = issues_survey(alice)
    send(alice, the_survey, {"tags_any": [tag]}, django_capture_on_commit_callbacks)

    reask = answer(client, alice, member.phone, "peut-être ?", django_capture_on_commit_callbacks)

    assert reask == [
        f"{REASK['multiple']['fr']}\n1 {HEALTH['fr']}\n2 {HOUSING['fr']}\n3 {CLIMATE['fr']}\n4 {JOBS['fr']}"
    ]
    run = run_of(alice, member)
    assert run.reasked and run.question.position == 1 and run.state == Run.State.ACTIVE

    # Unclear again: recorded as written, no choice, and the survey moves on.
    assert answer(client, alice, member.phone, "je ne sais pas", django_capture_on_commit_callbacks) == [
        HOUSEHOLD["fr"]
    ]
    with schema_context(alice.schema_name):
        kept = Answer.objects.get(member_id=member.pk)
        assert (kept.choices, kept.value, kept.raw) == ([], "", "je ne sais pas")
        assert not MemberAnswer.objects.filter(member=member).exists()
    run = run_of(alice, member)
    assert not run.reasked and run.question.position == 2

    # A number out of range is unclear too: the re-ask says which numbers.
    assert answer(client, alice, member.phone, "99", django_capture_on_commit_callbacks) == [
        REASK["number_range"]["fr"].format(min=1, max=20)
    ]


def test_a_member_silent_past_the_window_has_the_run_expired_by_the_sweep(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    send(alice, issues_survey(alice, window_hours=2), {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    run = run_of(alice, member)
    assert run.expires_at == run.asked_at + datetime.timedelta(hours=2)

    tasks.surveys_sweep(now=timezone.now() + datetime.timedelta(hours=1))
    assert run_of(alice, member).state == Run.State.ACTIVE
    tasks.surveys_sweep(now=timezone.now() + datetime.timedelta(hours=2, minutes=1))

    assert run_of(alice, member).state == Run.State.EXPIRED
    # Their next text is an ordinary one: to the inbox, no answer, no survey answer recorded.
    assert answer(client, alice, member.phone, "1", django_capture_on_commit_callbacks) == []
    with schema_context(alice.schema_name):
        assert not Answer.objects.filter(member_id=member.pk).exists()
        assert Message.objects.filter(phone=member.phone, direction="in", body="1").exists()


def test_an_answer_after_the_window_but_before_the_sweep_is_an_ordinary_text(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    send(alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    with schema_context(alice.schema_name):
        Run.objects.filter(member=member).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert answer(client, alice, member.phone, "1", django_capture_on_commit_callbacks) == []

    assert run_of(alice, member).state == Run.State.EXPIRED
    with schema_context(alice.schema_name):
        assert not Answer.objects.filter(member_id=member.pk).exists()


def test_stop_during_a_survey_is_a_stop_and_ends_every_run_and_every_survey_still_queued(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    send(alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    send(
        alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks
    )  # waits its turn

    assert answer(client, alice, member.phone, "STOP", django_capture_on_commit_callbacks) == [
        auto_text("stop", language="en", leader=alice)
    ]

    with schema_context(alice.schema_name):
        # The one being answered is stopped; the one waiting its turn never went: skipped, out of the queue.
        assert sorted(Run.objects.filter(member=member).values_list("state", flat=True)) == [
            Run.State.SKIPPED,
            Run.State.STOPPED,
        ]
        assert not PendingRun.objects.filter(member=member).exists()
        assert Member.objects.get(pk=member.pk).status == Member.Status.OPTED_OUT
        assert not Answer.objects.filter(member_id=member.pk).exists()
    # Nothing more is asked: a later "1" is no answer to anything.
    assert answer(client, alice, member.phone, "1", django_capture_on_commit_callbacks) == []
    assert len(sent_to(twilio, member.phone)) == 1


def test_help_during_a_survey_is_help_and_the_question_still_waits(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    send(alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks)

    assert answer(client, alice, member.phone, "HELP", django_capture_on_commit_callbacks) == [
        auto_text("help", language="en", leader=alice)
    ]
    assert run_of(alice, member).question.position == 1
    assert answer(client, alice, member.phone, "2", django_capture_on_commit_callbacks) == [HOUSEHOLD["en"]]


def test_yes_from_a_subscribed_member_answers_a_yes_no_question(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    the_survey = survey(
        leader=alice,
        questions=[{"kind": "yes_no", "text": {"en": "Coming to the rally?"}}],
        thanks={"en": "See you there!"},
    )
    send(alice, the_survey, {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    assert sent_to(twilio, member.phone) == ["Coming to the rally?\n1 Yes\n2 No"]

    # YES is a start word, but from someone subscribed it is an answer (here, to the question).
    assert answer(client, alice, member.phone, "YES", django_capture_on_commit_callbacks) == [
        "See you there!"
    ]
    with schema_context(alice.schema_name):
        assert MemberAnswer.objects.get(member=member).value == "yes"


def test_a_survey_sent_twice_to_a_segment_reaches_each_member_exactly_once(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag, other = builders.new_tag(), builders.new_tag()
    with schema_context(alice.schema_name):
        members = [builders.member(tags=[tag]) for _ in range(3)]
        newcomer = builders.member(tags=[other])
    the_survey = issues_survey(alice)

    assert send(alice, the_survey, {"tags_any": [tag]}, django_capture_on_commit_callbacks) == 3
    assert send(alice, the_survey, {"tags_any": [tag]}, django_capture_on_commit_callbacks) == 0
    # A wider segment queues only those not queued before.
    assert send(alice, the_survey, {"tags_any": [tag, other]}, django_capture_on_commit_callbacks) == 1

    for member in [*members, newcomer]:
        assert len(sent_to(twilio, member.phone)) == 1
    with schema_context(alice.schema_name):
        assert Run.objects.filter(survey=the_survey).count() == 4
        assert set(Run.objects.filter(survey=the_survey).values_list("state", flat=True)) == {
            Run.State.ACTIVE
        }


def test_a_second_survey_waits_until_the_members_first_run_ends(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
    first = survey(leader=alice, questions=[{"kind": "number", "text": {"en": "Your age?"}}])
    second = survey(leader=alice, questions=[{"kind": "text", "text": {"en": "What should we fight for?"}}])
    send(alice, first, {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    send(alice, second, {"tags_any": [tag]}, django_capture_on_commit_callbacks)

    assert sent_to(twilio, member.phone) == ["Your age?"]
    with schema_context(alice.schema_name):
        assert not Run.objects.filter(survey=second).exists()
        waiting = PendingRun.objects.get(survey=second)
        assert waiting.member_id == member.pk and waiting.due_at > timezone.now()

    # The first one ends (no thanks written: nothing to answer); the second one goes next.
    assert answer(client, alice, member.phone, "34", django_capture_on_commit_callbacks) == []
    senders_run()

    assert sent_to(twilio, member.phone) == ["Your age?", "What should we fight for?"]
    assert answer(client, alice, member.phone, "Housing for all", django_capture_on_commit_callbacks) == []
    with schema_context(alice.schema_name):
        assert MemberAnswer.objects.get(member=member, question_id=second.questions.get().pk).value == (
            "Housing for all"
        )


def test_a_new_member_gets_the_after_signup_survey_at_once(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    from tests.signup.helpers import host, link_issue, valid_form

    the_survey = issues_survey(alice, trigger=Survey.Trigger.AFTER_SIGNUP)
    path, phone = link_issue(alice, language="fr")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path + "?lang=fr", data=valid_form(), HTTP_HOST=host(alice))
    assert response.status_code == 200
    senders_run()

    with schema_context(alice.schema_name):
        member = Member.objects.get(phone=phone)
        run = Run.objects.get(member=member)
    assert (run.survey_id, run.state) == (the_survey.pk, Run.State.ACTIVE)
    (question,) = sent_to(twilio, phone)
    assert question.startswith(f"{INTRO['fr']}\n\n{ISSUES['fr']}")
    # Once: a member saved again (their details updated) is not asked again.
    with schema_context(alice.schema_name), django_capture_on_commit_callbacks(execute=True):
        from common import events

        events.emit(events.MEMBER_SAVED, member=member, created=False)
        assert Run.objects.filter(member=member).count() == 1


def test_no_after_signup_survey_no_run(client, alice, django_capture_on_commit_callbacks):
    from tests.signup.helpers import host, link_issue, valid_form

    issues_survey(alice, trigger=Survey.Trigger.AFTER_SIGNUP, is_active=False)
    path, phone = link_issue(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path, data=valid_form(), HTTP_HOST=host(alice))
    with schema_context(alice.schema_name):
        assert not Run.objects.filter(member__phone=phone).exists()


def test_members_who_cannot_be_texted_are_never_asked(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        subscribed = builders.member(tags=[tag])
        opted_out = builders.member(tags=[tag], status=Member.Status.OPTED_OUT, opted_out_at=timezone.now())
        unreachable_later = builders.member(tags=[tag])
    the_survey = issues_survey(alice)
    with schema_context(alice.schema_name), django_capture_on_commit_callbacks(execute=True):
        # An opted-out member is not in the segment: never queued.
        assert survey_send(survey=the_survey, audience={"tags_any": [tag]}) == 2
        assert not Run.objects.filter(member=opted_out).exists()
        # One becomes unreachable between queueing and sending: skipped, never texted.
        member_mark_unreachable(member_id=unreachable_later.pk)
    senders_run()

    assert len(sent_to(twilio, subscribed.phone)) == 1
    assert sent_to(twilio, opted_out.phone) == [] and sent_to(twilio, unreachable_later.phone) == []
    assert run_of(alice, unreachable_later).state == Run.State.SKIPPED


def test_quiet_hours_where_the_member_lives_hold_a_segments_survey_and_an_after_signup_one(
    client, world, twilio, django_capture_on_commit_callbacks
):
    now = timezone.now().astimezone(datetime.UTC)
    Leader.objects.filter(pk=world.alice.pk).update(
        quiet_hours_start=(now - datetime.timedelta(hours=2)).time(),
        quiet_hours_end=(now + datetime.timedelta(hours=2)).time().replace(second=0, microsecond=0),
    )
    leader_cache_clear()
    alice = Leader.objects.get(pk=world.alice.pk)
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag], time_zone="UTC")
    send(alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks)

    assert sent_to(twilio, member.phone) == []
    with schema_context(alice.schema_name):
        assert not Run.objects.filter(member=member).exists()
        queued = PendingRun.objects.get(member=member)
    opening = (now + datetime.timedelta(hours=2)).replace(second=0, microsecond=0)
    assert abs((queued.due_at - opening).total_seconds()) < 60

    # The sender looks and leaves it queued; it goes once quiet hours end.
    senders_run()
    with schema_context(alice.schema_name):
        assert not Run.objects.filter(member=member).exists()
        assert PendingRun.objects.get(member=member).due_at == queued.due_at

    # A member created now (by the API, an import, the signup form) gets the after-signup survey queued, and
    # held through their quiet hours too: nobody is texted at night.
    greeting = issues_survey(alice, trigger=Survey.Trigger.AFTER_SIGNUP)
    with schema_context(alice.schema_name), django_capture_on_commit_callbacks(execute=True):
        newcomer = builders.member(time_zone="UTC")
        member_survey_after_signup(member=newcomer, created=True)
    senders_run()
    assert sent_to(twilio, newcomer.phone) == []
    with schema_context(alice.schema_name):
        assert not Run.objects.filter(survey=greeting, member=newcomer).exists()
        held = PendingRun.objects.get(survey=greeting, member=newcomer)
    assert abs((held.due_at - opening).total_seconds()) < 60


def test_a_closed_or_empty_survey_is_refused(alice):
    with schema_context(alice.schema_name):
        closed = issues_survey(alice, is_active=False)
        empty = survey(leader=alice, questions=[])
        with pytest.raises(SurveyError, match="closed"):
            survey_send(survey=closed, audience={})
        with pytest.raises(SurveyError, match="no question"):
            survey_send(survey=empty, audience={})
        assert not Run.objects.filter(survey__in=[closed, empty]).exists()


def test_an_erased_member_leaves_no_run_answer_or_latest_answer(
    client, alice, twilio, django_capture_on_commit_callbacks
):
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        member = builders.member(tags=[tag])
        keeper = builders.member(tags=[tag])
    send(alice, issues_survey(alice), {"tags_any": [tag]}, django_capture_on_commit_callbacks)
    for phone in (member.phone, keeper.phone):
        answer(client, alice, phone, "1", django_capture_on_commit_callbacks)

    with schema_context(alice.schema_name):
        member_erase(member=member, source="console")

        assert not Run.objects.filter(member_id=member.pk).exists()
        assert not Answer.objects.filter(member_id=member.pk).exists()
        assert not MemberAnswer.objects.filter(member_id=member.pk).exists()
        assert Answer.objects.filter(member_id=keeper.pk).count() == 1
        assert MemberAnswer.objects.filter(member_id=keeper.pk).count() == 1


def test_an_ordinary_members_text_costs_no_survey_query(client, alice, django_capture_on_commit_callbacks):
    with schema_context(alice.schema_name):
        member = builders.member()
    with CaptureQueriesContext(connection) as queries:
        assert answer(client, alice, member.phone, "Hello Alice", django_capture_on_commit_callbacks) == []
    assert not [query["sql"] for query in queries if "surveys_" in query["sql"]]
