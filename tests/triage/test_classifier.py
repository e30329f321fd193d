"""The topic classifier and the language detector on their own: what a team sees them do with its topics,
keywords and corrections, and with the texts fans really send (empty, emoji, 1,600 characters)."""

from __future__ import annotations

import pickle

import pytest

from triage import classifier as classifier_module
from triage.classifier import Classifier, TopicSpec, Verdict, holdout_accuracy, text_fold
from triage.language import languages_detect
from triage.models import DEFAULT_THRESHOLD

HEALTH, TRANSPORT, SCHOOLS = 1, 2, 3


def topics(*, keywords: dict[int, tuple[str, ...]] | None = None) -> list[TopicSpec]:
    keywords = keywords or {}
    return [
        TopicSpec(
            HEALTH,
            "Health",
            "Hospitals, doctors, medicines and care.",
            (
                "The hospital has no doctors at night",
                "my medicine costs too much",
                "waited 10 hours in the emergency room",
                "we need a clinic in our village",
            ),
            keywords.get(HEALTH, ()),
        ),
        TopicSpec(
            TRANSPORT,
            "Transport",
            "Roads, buses, trains and traffic.",
            (
                "the road is full of potholes",
                "the bus is always late",
                "traffic jams every morning",
                "the train was cancelled again",
            ),
            keywords.get(TRANSPORT, ()),
        ),
        TopicSpec(
            SCHOOLS,
            "Schools",
            "Schools, teachers and universities.",
            (
                "my son's school has no teacher",
                "university fees are too high",
                "classrooms are overcrowded",
                "bring back free school lunches",
            ),
            keywords.get(SCHOOLS, ()),
        ),
    ]


def test_a_text_about_a_topic_gets_it_in_the_fans_language():
    verdicts = Classifier(topics=topics()).classify(
        [
            "no doctor at the hospital since monday",
            "el camión nunca pasa a tiempo",
            "l'école de ma fille n'a pas de professeur",
            "المستشفى ما فيه أطباء",
        ],
        threshold=0.0,
    )
    assert [v.best_topic_id for v in verdicts] == [HEALTH, TRANSPORT, SCHOOLS, HEALTH]
    assert all(0.0 <= v.confidence <= 1.0 for v in verdicts)


def test_a_keyword_settles_the_topic_with_high_confidence_on_word_boundaries_case_and_accents_folded():
    classifier = Classifier(topics=topics(keywords={TRANSPORT: ("métro",), SCHOOLS: ("bac",)}))
    settled, unrelated, inside_a_word = classifier.classify(
        ["My brother is a nurse and takes the METRO", "the hospital lost my file", "le backlog de l'hôpital"],
        threshold=DEFAULT_THRESHOLD,
    )
    assert settled.topic_id == TRANSPORT and settled.confidence >= 0.9
    assert unrelated.best_topic_id == HEALTH
    assert inside_a_word.best_topic_id != SCHOOLS or inside_a_word.confidence < 0.9


def test_folding_drops_case_accents_and_arabic_vowel_marks():
    assert text_fold("  Électricité   CHÈRE ") == "electricite chere"
    assert text_fold("مَدْرَسَة") == "مدرسة"


def test_a_correction_changes_the_verdict_of_a_similar_text():
    text = "the ambulance got stuck in traffic for an hour"
    before = Classifier(topics=topics()).classify([text], threshold=0.0)[0]
    corrected_to = SCHOOLS if before.best_topic_id != SCHOOLS else TRANSPORT
    after = Classifier(
        topics=topics(), corrections=[("the ambulance was stuck in traffic for an hour", corrected_to)]
    ).classify([text], threshold=0.0)[0]
    assert after.best_topic_id == corrected_to != before.best_topic_id


def test_a_text_marked_not_any_topic_makes_a_similar_text_unsorted():
    text = "watched the football final at the hospital cafe, what a game"
    threshold = 0.3
    before = Classifier(topics=topics()).classify([text], threshold=threshold)[0]
    after = Classifier(
        topics=topics(), corrections=[("watched the football final at the hospital cafe, great game", None)]
    ).classify([text], threshold=threshold)[0]
    assert after.topic_id is None
    assert after.confidence < before.confidence


def test_the_threshold_is_honoured():
    classifier = Classifier(topics=topics())
    texts = ["no doctor at the hospital since monday", "is the bus to the hospital free?", "hello there"]
    loose = classifier.classify(texts, threshold=0.0)
    strict = classifier.classify(texts, threshold=1.01)
    assert all(v.topic_id == v.best_topic_id for v in loose)
    assert all(v.topic_id is None and v.best_topic_id is not None for v in strict)
    for verdict in classifier.classify(texts, threshold=DEFAULT_THRESHOLD):
        assert verdict.topic_id == (
            verdict.best_topic_id if verdict.confidence >= DEFAULT_THRESHOLD else None
        )


@pytest.mark.parametrize("text", ["", "   ", "🙏🙏🙏", "❤️", "12345", "?!"])
def test_a_text_with_nothing_to_read_stays_unsorted(text):
    (verdict,) = Classifier(topics=topics()).classify([text], threshold=DEFAULT_THRESHOLD)
    assert verdict.topic_id is None and verdict.confidence == 0.0


def test_a_1600_character_text_is_classified():
    text = ("The bus from our village to the city is always late and the road is full of potholes. " * 20)[
        :1600
    ]
    (verdict,) = Classifier(topics=topics()).classify([text], threshold=DEFAULT_THRESHOLD)
    assert verdict.topic_id == TRANSPORT


def test_a_long_text_is_read_for_its_opening_and_costs_no_more_than_that(monkeypatch):
    """What a fan's text is about is in its first sentences: a pasted letter is encoded up to
    MAX_ENCODED_CHARACTERS, so one costs a few short texts, not fifty."""
    seen: list[int] = []
    real = classifier_module.encoder()

    class Measuring:
        def encode(self, texts):
            seen.extend(len(text) for text in texts)
            return real.encode(texts)

    monkeypatch.setattr(classifier_module, "encoder", lambda: Measuring())
    opening = ("The bus from our village to the city is always late and the road is full of potholes. " * 6)[
        :500
    ]
    text = opening + " Also the clinic closed and there is no doctor left." * 30
    (verdict,) = Classifier(topics=topics()).classify([text], threshold=DEFAULT_THRESHOLD)
    assert verdict.topic_id == TRANSPORT
    assert max(seen) <= classifier_module.MAX_ENCODED_CHARACTERS


def test_a_leader_without_topics_leaves_every_text_unsorted():
    assert Classifier(topics=[]).classify(["the hospital is closed", ""], threshold=0.0) == [
        Verdict(None, 0.0, None),
        Verdict(None, 0.0, None),
    ]
    assert Classifier(topics=[]).classify([], threshold=0.0) == []


def test_corrections_to_a_deleted_topic_are_ignored():
    classifier = Classifier(topics=topics(), corrections=[("the hospital is closed", 99)])
    (verdict,) = classifier.classify(["the hospital is closed"], threshold=0.0)
    assert verdict.best_topic_id == HEALTH


def test_a_classifier_survives_pickling():
    classifier = Classifier(topics=topics(), corrections=[("the tram is never on time", TRANSPORT)])
    copy = pickle.loads(pickle.dumps(classifier))  # noqa: S301 (the bytes were just made here)
    texts = ["no doctor at the hospital", "le tram est en retard"]
    assert copy.classify(texts, threshold=0.0) == classifier.classify(texts, threshold=0.0)


def test_holdout_accuracy_judges_each_correction_without_it():
    assert holdout_accuracy(topics=topics(), corrections=[], threshold=DEFAULT_THRESHOLD) == (None, 0)
    # A text corrected against its plain meaning cannot be learnt from itself: leave-one-out gets it wrong,
    # where a classifier that kept it would be right.
    odd = ("the new bus line to the hospital is great", SCHOOLS)
    plain = [
        ("no doctors at the clinic at night", HEALTH),
        ("the metro broke down again", TRANSPORT),
        ("our school has no maths teacher", SCHOOLS),
    ]
    accuracy, judged = holdout_accuracy(topics=topics(), corrections=[*plain, odd], threshold=0.0)
    assert judged == 4
    assert accuracy == 0.75
    kept = Classifier(topics=topics(), corrections=[*plain, odd]).classify([odd[0]], threshold=0.0)[0]
    assert kept.best_topic_id == SCHOOLS
    # A copy of it corrected too (a copy-paste campaign) is the same text: neither learns from the other.
    copy = ("The new BUS line to the hospital is great!! 👍", SCHOOLS)
    accuracy, judged = holdout_accuracy(topics=topics(), corrections=[*plain, odd, copy], threshold=0.0)
    assert (accuracy, judged) == (0.6, 5)


def test_holdout_accuracy_counts_an_unsorted_correction_right_when_left_unsorted():
    corrections = [("what a football match last night", None), ("happy birthday to your wife!", None)]
    accuracy, judged = holdout_accuracy(topics=topics(), corrections=corrections, threshold=DEFAULT_THRESHOLD)
    assert (accuracy, judged) == (1.0, 2)


def test_languages_are_detected_in_short_misspelled_texts_and_left_blank_when_they_cannot_be_told():
    texts = [
        "the hospital has no doctors",
        "les loyers sont tro cher",
        "no hay agua en la colonia",
        "المستشفى ما فيه دواء",
        "die miete ist zu hoch",
        "🙏🙏🙏",
        "ok",
        "12345",
        "",
    ]
    assert languages_detect(texts) == ["en", "fr", "es", "ar", "de", "", "", "", ""]
