"""Broadcast.suffixes, what an event alert carries: each member's copy ends with the suffix in their language
(English for a language without its own), counted in the broadcast's cost at its longest and within
the 400-character limit."""

from __future__ import annotations

import pytest

from messaging.broadcasts.dispatch import broadcast_dispatch
from messaging.broadcasts.queueing import broadcast_queue
from messaging.models import Broadcast, BroadcastError
from tests import builders
from tests.events.helpers import SURREY, resident
from tests.surveys.helpers import open_all_day

pytestmark = pytest.mark.django_db


def test_the_cost_counts_the_costliest_suffix_and_the_limit_includes_it(alice_schema):
    plain = Broadcast.create(body="Town hall Saturday 14:00.", filters={})
    arabic = Broadcast.create(
        body="Town hall Saturday 14:00.",
        filters={},
        suffixes={"en": "Reply YES or NO.", "ar": "أرسل نعم أو لا."},
    )
    assert (plain.encoding, arabic.encoding) == ("GSM-7", "UCS-2")
    with pytest.raises(BroadcastError, match="401 characters"):
        Broadcast.create(body="x" * 390, filters={}, suffixes={"en": "Reply YES."})


def test_each_copy_ends_with_the_suffix_in_the_members_language(world, alice_schema, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    leader = open_all_day(world.alice)
    tag = builders.new_tag()
    german = resident(leader, at=SURREY, language="de", tags=[tag])
    french = resident(leader, at=SURREY, language="fr", tags=[tag])
    broadcast = Broadcast.create(
        body="Hi {first_name}, town hall Saturday.",
        filters={"tags_any": [tag]},
        suffixes={"fr": "Répondez OUI ou NON.", "en": "Reply YES or NO."},
    )
    broadcast_queue(leader=leader, broadcast=broadcast)
    broadcast_dispatch(leader=leader, broadcast_id=broadcast.pk)
    bodies = {message["to"]: message["body"] for message in twilio.messages}
    assert bodies[french.phone] == "Hi Sam, town hall Saturday. Répondez OUI ou NON."
    assert bodies[german.phone] == "Hi Sam, town hall Saturday. Reply YES or NO."  # no German: English
