"""The owner's Waitlist page and the pilot's settings: counts by region, opening a region or everywhere (which
invites the waitlist), the settings form's checks, translated."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.routing import leader_cache_clear
from members.models import WaitlistEntry
from signup.waitlist import TASK
from tests.console.conftest import client_for
from tests.console.test_settings import VALID
from tests.queue import queue_clear, run_queued

BROADCASTS = "broadcasts"
TORONTO = ("+14165550171", "+14165550172")
VANCOUVER = "+16045550173"


@pytest.fixture
def pilot(db, world, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    queue_clear(BROADCASTS)
    Leader.objects.filter(pk=world.alice.pk).update(pilot_regions=["Quebec"], segments_per_second=100)
    world.alice.refresh_from_db()
    leader_cache_clear()
    with schema_context(world.alice.schema_name):
        for phone in TORONTO:
            WaitlistEntry.objects.create(phone=phone, country="CA", region="Ontario", language="fr")
        WaitlistEntry.objects.create(phone=VANCOUVER, country="CA", region="British Columbia")
    yield world.alice
    queue_clear(BROADCASTS)


def test_only_owners_see_the_waitlist_and_open_regions(pilot):
    for username in ("mark", "rita"):
        client = client_for(pilot, username)
        assert client.get("/waitlist/").status_code == 403
        assert client.post("/waitlist/open/", {"region": "Ontario"}).status_code == 403
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec"]


def test_the_page_counts_the_waitlist_by_region_with_a_button_to_open_each(pilot):
    page = client_for(pilot, "olivia").get("/waitlist/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "Fans may join from: <bdi>Quebec</bdi>." in html
    ontario = html[html.index("<bdi>Ontario</bdi>") : html.index("</tr>", html.index("<bdi>Ontario</bdi>"))]
    assert "<td>2</td>" in ontario and "Open Ontario" in ontario
    assert "Open British Columbia" in html and "Open everywhere" in html
    assert TORONTO[0] in html  # an owner reads numbers in full (console/masking.py)


def test_opening_a_region_adds_it_to_the_pilot_and_texts_its_waitlist_once(
    pilot, twilio, django_capture_on_commit_callbacks
):
    owner = client_for(pilot, "olivia")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post("/waitlist/open/", {"region": "Ontario"}, follow=True)

    assert "Opened: Ontario. Their waitlist is being invited." in response.content.decode()
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec", "Ontario"]
    run_queued(TASK, BROADCASTS)
    assert sorted(message["to"] for message in twilio.messages) == sorted(TORONTO)
    assert all("nous voici dans votre région" in message["body"] for message in twilio.messages)

    with django_capture_on_commit_callbacks(execute=True):
        again = owner.post("/waitlist/open/", {"region": "ontario"}, follow=True)
    assert "That is open already: nothing changed." in again.content.decode()
    run_queued(TASK, BROADCASTS)
    assert len(twilio.messages) == 2


def test_open_everywhere_ends_the_pilot_and_invites_everyone_left(
    pilot, twilio, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(pilot, "olivia").post("/waitlist/open/", {"everywhere": "1"}, follow=True)

    html = response.content.decode()
    assert "Open everywhere: the pilot is over." in html
    assert "No pilot: fans may join from everywhere you accept." in html
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == []
    run_queued(TASK, BROADCASTS)
    assert sorted(message["to"] for message in twilio.messages) == sorted([*TORONTO, VANCOUVER])


def test_a_region_that_is_not_one_is_refused_with_a_message_and_nothing_opens(pilot):
    response = client_for(pilot, "olivia").post("/waitlist/open/", {"region": "Jalisco"}, follow=True)

    assert "Jalisco is not a region of your accepted countries (CA, US)." in response.content.decode()
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec"]


def test_the_settings_form_stores_pilot_regions_by_their_gazetteer_names(pilot):
    owner = client_for(pilot, "olivia")
    form = {**VALID, "allowed_countries": "US, CA"}

    assert owner.post("/settings/", {**form, "pilot_regions": "québec, BC"}).status_code == 302
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec", "British Columbia"]

    refused = owner.post("/settings/", {**form, "pilot_regions": "Quebec, Narnia, Jalisco"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "No region is called Narnia." in html
    assert "Jalisco is not a region of your accepted countries (CA, US)." in html
    assert Leader.objects.get(pk=pilot.pk).pilot_regions == ["Quebec", "British Columbia"]


def test_the_settings_forms_pilot_errors_are_translated(pilot):
    owner = client_for(pilot, "olivia")
    owner.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"

    refused = owner.post("/settings/", {**VALID, "allowed_countries": "US, CA", "pilot_regions": "Narnia"})

    assert "Aucune région ne s’appelle Narnia." in refused.content.decode()


def test_adding_a_region_in_the_settings_invites_its_waitlist_too(
    pilot, twilio, django_capture_on_commit_callbacks
):
    form = {**VALID, "allowed_countries": "US, CA", "pilot_regions": "Quebec, British Columbia"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(pilot, "olivia").post("/settings/", form).status_code == 302

    run_queued(TASK, BROADCASTS)
    assert [message["to"] for message in twilio.messages] == [VANCOUVER]
