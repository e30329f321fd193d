"""A survey's choice tagged "volunteer": the member who picks it (answering through Twilio's signed webhook)
becomes a volunteer of their district and their conversation goes to its coordinator; the survey's own
thanks is the one text they get back, no second confirmation in between."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from districts.models import Placement, Volunteer
from leaders.routing import leader_cache_clear
from messaging.models import Conversation, Message
from surveys.services import survey_send
from tests import builders
from tests.districts.helpers import district, teammate
from tests.messaging.webhooks import text, twiml_messages
from tests.places import MONTREAL
from tests.surveys.helpers import open_all_day, senders_run, survey

pytestmark = pytest.mark.django_db

QUESTION = {"en": "Would you help us on the ground?", "fr": "Nous aideriez-vous sur le terrain ?"}
YES = {"en": "Count me in", "fr": "Je suis partant"}
NO = {"en": "Not now", "fr": "Pas maintenant"}
THANKS = {"en": "Thanks!", "fr": "Merci !"}


@pytest.mark.parametrize(("answer", "volunteers"), [("1", True), ("2", False)])
def test_a_survey_answer_tagged_volunteer_routes_the_member_to_their_coordinator(
    client, world, twilio, django_capture_on_commit_callbacks, answer, volunteers
):
    alice = open_all_day(world.alice)
    leader_cache_clear()
    tag = builders.new_tag()
    with schema_context(alice.schema_name):
        coordinator = teammate()
        plateau = district("Plateau", places=[MONTREAL], coordinators=[coordinator])
        fan = builders.fan(place=MONTREAL, language="fr", tag=tag)
    the_survey = survey(
        leader=alice,
        thanks=THANKS,
        questions=[
            {
                "kind": "single",
                "text": QUESTION,
                "choices": [{"label": YES, "tag": "Volunteer"}, {"label": NO}],
            }
        ],
    )
    with schema_context(alice.schema_name), django_capture_on_commit_callbacks(execute=True):
        assert survey_send(survey=the_survey, audience={"tags_any": [tag]}) == 1
    senders_run()

    with django_capture_on_commit_callbacks(execute=True):
        reply = twiml_messages(text(client, alice, fan.phone, answer))

    assert reply == [THANKS["fr"]]
    with schema_context(alice.schema_name):
        volunteer = Volunteer.objects.filter(member=fan).first()
        conversation = Conversation.objects.get(phone=fan.phone)
        if not volunteers:
            assert volunteer is None and conversation.assigned_to is None
            return
        assert (volunteer.source, volunteer.district, volunteer.placement) == (
            "survey",
            plateau,
            Placement.INSIDE,
        )
        assert conversation.assigned_to == coordinator
        # The question and the thanks: nothing else went to the member.
        outbound = Message.objects.filter(phone=fan.phone, direction=Message.Direction.OUTBOUND)
        assert [message.body for message in outbound.order_by("created_at")][-1] == THANKS["fr"]
        assert outbound.count() == 2
