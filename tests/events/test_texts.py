"""Members' texts about events: every one in the five languages, each within two segments with a title and a
venue of 30 characters, the European ones in GSM-7; the alert's instruction one short line."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from events.models import Event
from events.replies import NO, YES, rsvp_answer
from events.texts import TEXTS, event_text
from messaging.segments import segment_info
from messaging.texts import LANGUAGES

EVENT = Event(
    title="Town hall on housing in Surre",
    address="City Hall, 13450 104 Ave",
    place_name="Surrey",
    time_zone="America/Vancouver",
    starts_at=datetime.datetime(2026, 12, 12, 22, tzinfo=datetime.UTC),
    code_word="SURREYHALL",
    languages=list(LANGUAGES),
)
LEADER = SimpleNamespace(name="Alice Martin")


@pytest.mark.parametrize("name", sorted(TEXTS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_fits_two_segments_and_european_ones_stay_gsm7(name, language):
    text = event_text(name, language=language, leader=LEADER, event=EVENT, position=12)
    info = segment_info(text)
    assert "{" not in text
    assert info.segments <= 2, text
    if language != "ar":
        assert info.encoding == "GSM-7", text


def test_the_instruction_an_alert_carries_is_short():
    assert all(len(TEXTS["rsvp_instruction"][language]) <= 24 for language in LANGUAGES)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("yes!", YES), ("Yes please 👍", YES), ("OUI", YES), ("oui.", YES), ("Sí", YES), ("si", YES),
        ("ja", YES), ("JA!", YES), ("نعم", YES), ("نَعَم", YES), ("I'm in", YES),
        ("no", NO), ("Non merci", NO), ("NEIN", NO), ("لا", NO), ("nope", NO), ("No gracias", NO),
        ("yes but after 6", None), ("maybe", None), ("", None), ("stop", None), ("no" * 200, None),
    ],
)  # fmt: skip
def test_a_whole_text_reads_as_yes_or_no_in_any_platform_language(text, answer):
    assert rsvp_answer(text) == answer
