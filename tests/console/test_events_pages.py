"""The console's events pages: who may see what, an event created and changed through the form (times read
in the venue's zone, clear errors for what is wrong), the alert (its audience count, then a broadcast with
the RSVP instruction, under the approval rule), the event's page with its counts by region and its live
part, a teammate's check-in, the attendees' CSV (masked numbers, formula-safe, recorded), every string
translated and Arabic right to left."""

from __future__ import annotations

import csv
import datetime
import io
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from events import services
from events.models import CheckIn, Event, EventAlert
from leaders.models import Leader
from members.models import ExportRecord
from messaging.models import Broadcast, DeliveryStatus
from tests import builders
from tests.console.conftest import client_for
from tests.places import MONTREAL, OTTAWA, TORONTO
from tests.signup.test_translations import TRANSLATED_LANGUAGES, marked_strings, po_entries

TORONTO_ZONE = zoneinfo.ZoneInfo("America/Toronto")


def _local(days: int = 3, hour: int = 19) -> datetime.datetime:
    """A moment `days` ahead at `hour` o'clock in Montréal, naive as a form sends it."""
    day = timezone.now().astimezone(TORONTO_ZONE).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, 0))


def _form(**extra) -> dict:
    """The event form as a teammate fills it: Montréal, tomorrow evening at 19:00 for two hours."""
    data = {
        "title": "Town hall on housing",
        "description": "Questions and answers with Alice.",
        "place": "Montréal, Quebec, Canada",
        "address": "Salle Pierre-Mercure, 300 boul. de Maisonneuve Est",
        "starts_at": _local().strftime("%Y-%m-%dT%H:%M"),
        "ends_at": _local(hour=21).strftime("%Y-%m-%dT%H:%M"),
        "capacity": "150",
        "code_word": "MAISON",
        "languages": ["en", "fr"],
        "reminders": "24 h, 2 h",
    }
    data.update(extra)
    return data


def _event(leader, **fields) -> Event:
    """An event made by the engine as the form makes one: in Montréal, three days ahead."""
    data = {
        "title": "Rally downtown",
        "place_id": MONTREAL.geoname_id,
        "address": "Place des Arts",
        "starts_at": _local().isoformat(),
        "ends_at": _local(hour=21).isoformat(),
        "code_word": "RALLY",
        "languages": ["en", "fr"],
    }
    data.update(fields)
    with schema_context(leader.schema_name):
        return services.event_create(leader=leader, data=data)


def test_who_sees_the_events_pages(world, olivia, mark, rita):
    event = _event(world.alice)
    for client in (olivia, mark, rita):
        assert client.get("/events/").status_code == 200
        assert client.get(f"/events/{event.pk}/").status_code == 200
        assert client.get(f"/events/{event.pk}/?partial=1").status_code == 200
    for path in (
        "/events/new/",
        f"/events/{event.pk}/edit/",
        f"/events/{event.pk}/alert/",
        f"/events/{event.pk}/alert/count.json",
        f"/events/{event.pk}/attendees.csv",
        f"/events/{event.pk}/cancel/",
    ):
        assert rita.get(path).status_code == 403, path
        assert mark.get(path).status_code in (200, 400), path
    assert 'href="/events/"' in rita.get("/").content.decode()  # in the menu for every role
    assert "/events/new/" not in rita.get("/events/").content.decode()
    assert client_for(world.alice).get("/events/").status_code == 302
    assert mark.get("/events/999999/").status_code == 404


def test_a_manager_creates_an_event_in_a_city_at_the_venues_time(world, mark):
    response = mark.post("/events/new/", _form())
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(world.alice.schema_name):
        event = Event.objects.get(title="Town hall on housing")
    assert response["Location"] == f"/events/{event.pk}/"
    assert event.place_id == MONTREAL.geoname_id and event.time_zone == "America/Toronto"
    assert event.starts_at == _local().replace(tzinfo=TORONTO_ZONE)
    assert event.ends_at - event.starts_at == datetime.timedelta(hours=2)
    assert (event.capacity, event.code_word, event.languages) == (150, "MAISON", ["en", "fr"])
    assert event.reminder_offsets == [24 * 60, 2 * 60]
    page = mark.get(response["Location"]).content.decode()
    assert "Event “Town hall on housing” saved." in page
    assert _local().strftime("%Y-%m-%d 19:00") in page and "America/Toronto" in page
    assert "Salle Pierre-Mercure" in page
    # The list shows it among the upcoming ones, not the past ones.
    assert "Town hall on housing" in mark.get("/events/").content.decode()
    assert "Town hall on housing" not in mark.get("/events/?when=past").content.decode()


def test_the_new_form_starts_with_the_default_reminders_and_the_leaders_language(world, mark):
    html = mark.get("/events/new/").content.decode()
    assert 'value="24 h, 2 h"' in html
    assert 'name="languages" value="en"' in html and "checked" in html
    assert 'list="place-options"' in html  # the gazetteer's type-ahead


def test_a_venue_by_coordinates_in_its_own_zone_with_a_short_reminder(world, mark):
    data = _form(
        place="",
        latitude="45.508800",
        longitude="-73.554200",
        time_zone="America/Vancouver",
        reminders="5 min",
        capacity="",
        code_word="PARC",
    )
    response = mark.post("/events/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(world.alice.schema_name):
        event = Event.objects.get(code_word="PARC")
    assert event.place_id is None and (event.latitude, event.longitude) == (45.5088, -73.5542)
    assert event.time_zone == "America/Vancouver"
    assert event.starts_at == _local().replace(tzinfo=zoneinfo.ZoneInfo("America/Vancouver"))
    assert event.reminder_offsets == [5] and event.capacity is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "Give the event a title."),
        ({"place": "Nowhereville Xyz"}, "No city called “Nowhereville Xyz” is known."),
        ({"place": ""}, "Where is it? Choose a city, or give the coordinates."),
        ({"place": "", "latitude": "45.5"}, "Give both the latitude and the longitude."),
        ({"latitude": "91", "longitude": "0"}, "Ensure this value is less than or equal to 90."),
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone. Use a name like America/Toronto."),
        ({"ends_at": _local(hour=18).strftime("%Y-%m-%dT%H:%M")}, "The end is not after the start."),
        ({"starts_at": "2020-01-01T10:00", "ends_at": "2020-01-01T12:00"}, "This time is in the past."),
        ({"starts_at": "tomorrow"}, "Enter a date and a time."),
        ({"rsvp_deadline": _local(days=4).strftime("%Y-%m-%dT%H:%M")}, "Answers must close by the end"),
        ({"capacity": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"code_word": "two words"}, "One word of 2 to 40 letters or digits, without spaces."),
        ({"code_word": "STOP"}, "reserved keyword"),
        ({"code_word": "bénévole"}, "reserved keyword"),  # VOLUNTEER in French: read before a code word
        ({"languages": []}, "Choose at least one language."),
        ({"reminders": "soon"}, "“soon” is not a time before the start: write it like 24 h, 2 h or 10 min."),
        ({"reminders": "2 h, 120 min"}, "“120 min” is there twice."),
        ({"reminders": "30 d"}, "A reminder goes between 1 minute and 14 days before the start"),
        ({"reminders": "1 h, 2 h, 3 h, 4 h, 5 h"}, "At most 4 reminders."),
    ],
)
def test_bad_input_gets_a_clear_error_and_nothing_is_saved(world, mark, changes, message):
    response = mark.post("/events/new/", _form(**changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html.replace("&quot;", '"').replace("&#x27;", "'")
    assert 'value="Town hall on housing"' in html or changes.get("title")  # what was typed is still there
    with schema_context(world.alice.schema_name):
        assert not Event.objects.filter(title="Town hall on housing").exists()


def test_a_code_word_another_event_uses_is_refused_whatever_its_case(world, mark):
    _event(world.alice, code_word="RALLY")
    response = mark.post("/events/new/", _form(code_word="rally"))
    assert response.status_code == 400
    assert "Another event uses this code word: choose another." in response.content.decode()


def test_the_edit_form_shows_the_event_in_its_zone_and_saves_changes(world, mark):
    event = _event(world.alice, reminder_offsets=[60, 5])
    html = mark.get(f"/events/{event.pk}/edit/").content.decode()
    assert _local().strftime("%Y-%m-%dT19:00") in html
    assert 'value="1 h, 5 min"' in html and 'value="Montréal, Quebec, Canada"' in html
    data = _form(title="Rally downtown, moved", code_word="RALLY", capacity="2")
    assert mark.post(f"/events/{event.pk}/edit/", data).status_code == 302
    event.refresh_from_db()
    assert (event.title, event.capacity, event.reminder_offsets) == ("Rally downtown, moved", 2, [1440, 120])
    # A hall placed exactly in its city keeps its coordinates through the edit form.
    data = _form(code_word="RALLY", latitude="45.508100", longitude="-73.566000")
    assert mark.post(f"/events/{event.pk}/edit/", data).status_code == 302
    html = mark.get(f"/events/{event.pk}/edit/").content.decode()
    assert 'value="45.5081"' in html and 'value="-73.566"' in html
    assert mark.post(f"/events/{event.pk}/edit/", {**data, "title": "Again"}).status_code == 302
    event.refresh_from_db()
    assert (event.place_id, event.latitude, event.longitude) == (MONTREAL.geoname_id, 45.5081, -73.566)


def test_the_alert_counts_members_near_the_venue_and_becomes_a_broadcast_with_the_rsvp_instruction(
    world, mark, django_capture_on_commit_callbacks
):
    event = _event(world.alice)
    with schema_context(world.alice.schema_name):
        near = [builders.fan(place=MONTREAL), builders.fan(place=MONTREAL, language="fr")]
        builders.fan(place=TORONTO)  # 500 km away
    page = mark.get(f"/events/{event.pk}/alert/").content.decode()
    assert 'value="25"' in page and "Reply YES or NO." in page
    assert "Rally downtown" in page  # the message starts from the engine's wording
    count = mark.get(f"/events/{event.pk}/alert/count.json", {"audience": "near", "km": "25"}).json()
    assert count == {"count": len(near), "needs_approval": False}
    wide = mark.get(f"/events/{event.pk}/alert/count.json", {"audience": "near", "km": "600"}).json()
    assert wide["count"] == 3
    bad = mark.get(f"/events/{event.pk}/alert/count.json", {"audience": "near", "km": "0"})
    assert bad.status_code == 400 and "km" in bad.json()["fields"]
    data = {"body": "Town hall with Alice on Friday!", "audience": "near", "km": "25", "quiet_hours": "on"}
    response = mark.post(f"/events/{event.pk}/alert/", {**data, "step": "count"})
    assert response.status_code == 200 and "Matching members: 2" in response.content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = mark.post(f"/events/{event.pk}/alert/", {**data, "step": "send"})
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/"
    assert queued  # sent as any broadcast is: its queueing task goes to the broadcast lane on commit
    with schema_context(world.alice.schema_name):
        alert = EventAlert.objects.select_related("broadcast").get(event=event)
        broadcast = alert.broadcast
    assert broadcast.body == "Town hall with Alice on Friday!"
    assert (
        broadcast.suffixes["en"] == "Reply YES or NO." and broadcast.suffixes["fr"] == "Répondez OUI ou NON."
    )
    assert broadcast.filters["near"]["km"] == 25 and not broadcast.ignore_quiet_hours
    assert broadcast.status == Broadcast.Status.DRAFT  # until the lane's task queues it: no approval needed
    assert "The alert is on its way." in mark.get(response["Location"]).content.decode()


def test_a_large_alert_waits_for_a_second_teammates_approval(world, mark):
    event = _event(world.alice)
    with schema_context(world.alice.schema_name):
        builders.fan(place=MONTREAL)
        builders.fan(place=MONTREAL)
    Leader.objects.filter(pk=world.alice.pk).update(approval_threshold=1)
    data = {"body": "Rally!", "audience": "near", "km": "25", "step": "send"}
    response = mark.post(f"/events/{event.pk}/alert/", data)
    assert response.status_code == 302
    with schema_context(world.alice.schema_name):
        broadcast = EventAlert.objects.get(event=event).broadcast
    assert broadcast.status == Broadcast.Status.AWAITING_APPROVAL
    assert (
        "The alert waits for another teammate&#x27;s approval."
        in mark.get(response["Location"]).content.decode()
    )


def test_the_alert_to_regions_or_topics_and_its_errors(world, mark):
    event = _event(world.alice)
    with schema_context(world.alice.schema_name):
        builders.fan(place=OTTAWA)
        topic = builders.topic(name="Housing")
    url = f"/events/{event.pk}/alert/count.json"
    assert mark.get(url, {"audience": "regions", "regions": "Ontario"}).json()["count"] == 1
    assert mark.get(url, {"audience": "topics", "follows": str(topic.pk)}).json()["count"] == 0
    for data, message in (
        ({"audience": "regions", "regions": "Atlantis"}, "No region called “Atlantis” is known."),
        ({"audience": "regions"}, "Which regions?"),
        ({"audience": "topics"}, "Which topics?"),
        ({"audience": "near", "km": ""}, "How many kilometres?"),
        ({"audience": "near", "km": "25", "body": "x" * 400}, "the limit is"),
        ({"audience": "regions", "regions": "Yukon", "step": "send"}, "No member matches this audience."),
    ):
        response = mark.post(f"/events/{event.pk}/alert/", {"body": "Rally!", "step": "count", **data})
        assert response.status_code == 400, data
        assert message in response.content.decode(), data
    with schema_context(world.alice.schema_name):
        assert not EventAlert.objects.filter(event=event).exists()


def _answered(leader, event) -> dict:
    """Members alerted to the event in two regions, who answered: two yes in Quebec (one checked in), a no
    in Ontario, one on the waitlist (two seats), one invited who said nothing."""
    with schema_context(leader.schema_name):
        broadcast = builders.broadcast(body="Rally!", filters={"regions": ["Quebec", "Ontario"]})
        EventAlert.objects.create(event=event, broadcast=broadcast)
        people = {
            "ana": builders.fan(place=MONTREAL, first_name="Ana"),
            "ben": builders.fan(place=MONTREAL, first_name='=HYPERLINK("http://x")'),
            "cy": builders.fan(place=OTTAWA, first_name="Cy"),
            "dee": builders.fan(place=TORONTO, first_name="Dee"),
            "eve": builders.fan(place=OTTAWA, first_name="Eve"),
        }
        for member in people.values():
            builders.delivery(broadcast=broadcast, member=member, status=DeliveryStatus.DELIVERED)
        for name, answer in (("ana", "yes"), ("ben", "yes"), ("cy", "no"), ("dee", "yes")):
            services.rsvp_record(leader=leader, event=event, member=people[name], answer=answer)
        services.check_in_record(event=event, member=people["ana"], source="console")
    return people


def test_the_event_page_counts_by_region_and_lists_the_attendees(world, olivia):
    event = _event(world.alice, capacity=2)
    people = _answered(world.alice, event)
    html = olivia.get(f"/events/{event.pk}/").content.decode()
    for figure, value in (("invited", 5), ("confirmed", 2), ("declined", 1), ("waitlisted", 1)):
        assert f'id="count-{figure}">{value}<' in html, figure
    assert 'id="count-checked-in">1<' in html
    assert '<bdi>Quebec</bdi></th><td class="n">2</td><td class="n">2</td>' in html
    assert '<bdi>Ontario</bdi></th><td class="n">3</td><td class="n">0</td><td class="n">1</td>' in html
    assert "Waitlist (#1)" in html and "Checked in at" in html
    assert people["ana"].phone in html  # the owner sees numbers
    # The live part alone, as the page's script asks for it.
    partial = olivia.get(f"/events/{event.pk}/?partial=1").content.decode()
    assert "<html" not in partial and 'id="count-confirmed">2<' in partial
    # A filter by answer.
    only_no = olivia.get(f"/events/{event.pk}/?status=declined").content.decode()
    assert ">Cy<" in only_no.replace("<bdi>", ">").replace(" </bdi>", "<") and "Dee" not in only_no


def test_a_responder_sees_numbers_masked_and_checks_a_member_in(world, rita):
    event = _event(world.alice)
    people = _answered(world.alice, event)
    html = rita.get(f"/events/{event.pk}/").content.decode()
    assert people["dee"].phone not in html and "•••• " + people["dee"].phone[-4:] in html
    with schema_context(world.alice.schema_name):
        ben = people["ben"]
    response = rita.post(f"/events/{event.pk}/check-in/", {"member": ben.pk})
    assert response.status_code == 302 and response["Location"] == f"/events/{event.pk}/#attendees"
    with schema_context(world.alice.schema_name):
        check_in = CheckIn.objects.get(event=event, member=ben)
    assert check_in.source == "console" and check_in.by.username == "rita"
    again = rita.post(f"/events/{event.pk}/check-in/", {"member": ben.pk}, follow=True)
    assert "was already checked in." in again.content.decode()
    for bad in ("", "abc", "99999999", "1" * 40):
        follow = rita.post(f"/events/{event.pk}/check-in/", {"member": bad}, follow=True)
        assert follow.status_code == 200 and "No such member." in follow.content.decode()
    assert rita.get(f"/events/{event.pk}/check-in/").status_code == 405


def test_a_member_who_never_answered_is_checked_in_by_their_number(world, rita):
    event = _event(world.alice)
    people = _answered(world.alice, event)
    eve = people["eve"]  # invited, said nothing, came without her phone
    local = f"({eve.phone[2:5]}) {eve.phone[5:8]}-{eve.phone[8:]}"  # as she says it at the door
    response = rita.post(f"/events/{event.pk}/check-in/", {"phone": local}, follow=True)
    assert "Eve is checked in." in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert CheckIn.objects.get(event=event, member=eve).by.username == "rita"
    page = rita.get(f"/events/{event.pk}/?status=checked_in").content.decode()
    assert "No answer" in page and "Eve" in page and eve.phone not in page
    for text, message in (("12", "This is not a phone number."), ("+1 514 555 0100", "No such member.")):
        follow = rita.post(f"/events/{event.pk}/check-in/", {"phone": text}, follow=True)
        assert message in follow.content.decode(), text


def test_the_attendees_csv_is_masked_formula_safe_and_recorded(world, mark, olivia):
    event = _event(world.alice)
    people = _answered(world.alice, event)
    Leader.objects.filter(pk=world.alice.pk).update(managers_see_phones=False)
    response = mark.get(f"/events/{event.pk}/attendees.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    assert all(row["phone"].startswith("••••") for row in rows)
    assert people["ana"].phone not in text
    (ben,) = [row for row in rows if "HYPERLINK" in row["first_name"]]
    assert ben["first_name"].startswith("'=")
    with schema_context(world.alice.schema_name):
        record = ExportRecord.objects.filter(kind=ExportRecord.Kind.EVENT_ATTENDEES).latest("created_at")
    assert (record.username, record.row_count, record.filters["event"]) == ("mark", 4, event.pk)
    # The owners' page of exports names it.
    assert "Attendees of the event “Rally downtown”" in olivia.get("/members/exports/").content.decode()


def test_a_cancelled_event_takes_no_alert_and_no_change(world, mark, rita):
    event = _event(world.alice)
    assert "Cancel “Rally downtown”?" in mark.get(f"/events/{event.pk}/cancel/").content.decode()
    assert rita.post(f"/events/{event.pk}/cancel/").status_code == 403
    response = mark.post(f"/events/{event.pk}/cancel/", follow=True)
    assert "Event “Rally downtown” cancelled." in response.content.decode()
    event.refresh_from_db()
    assert event.is_cancelled
    response = mark.get(f"/events/{event.pk}/alert/")
    assert response.status_code == 400
    assert "This event no longer takes answers" in response.content.decode()
    assert mark.get(f"/events/{event.pk}/edit/").status_code == 302


# --- translations ----------------------------------------------------------------------------------------------
CODE = [
    "console/events/forms.py",
    "console/events/views.py",
    "console/navigation.py",
    "console/members/forms.py",  # the exports page names an event's export
]
TEMPLATES = [
    "templates/console/events/events.html",
    "templates/console/events/event_form.html",
    "templates/console/events/event_alert.html",
    "templates/console/events/event.html",
    "templates/console/events/_live.html",
    "templates/console/events/event_cancel.html",
]


def test_the_pages_mark_their_strings():
    found = marked_strings(code=CODE, templates=TEMPLATES)
    assert {"Events", "Alert members", "Code word", "Check in %(name)s"} <= found


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_string_has_a_translation(language):
    entries = po_entries(language)
    missing = sorted(
        text for text in marked_strings(code=CODE, templates=TEMPLATES) if not entries.get((None, text))
    )
    assert missing == []


PAGES = {
    "fr": ("Événements", "Nouvel événement", "Alerter les membres"),
    "es": ("Eventos", "Palabra clave", "Avisar a los miembros"),
    "de": ("Veranstaltungen", "Codewort", "Mitglieder benachrichtigen"),
    "ar": ("الفعاليات", "كلمة السر", "تنبيه الأعضاء"),
}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_pages_speak_each_language(world, olivia, language):
    event = _event(world.alice)
    olivia.cookies["django_language"] = language
    title, form_word, alert = PAGES[language]
    assert title in olivia.get("/events/").content.decode()
    assert form_word in olivia.get("/events/new/").content.decode()
    page = olivia.get(f"/events/{event.pk}/").content.decode()
    assert alert in page
    assert ('dir="rtl"' in page) == (language == "ar")


@pytest.mark.parametrize(
    "junk",
    [
        {"audience": "everyone"},
        {"audience": "near", "km": "1e9"},
        {"audience": "near", "km": "-3"},
        {"audience": "topics", "follows": ["abc", "999999"]},
        {"audience": "regions", "regions": "x" * 2000},
        {"body": "\x00"},
    ],
)
def test_junk_in_the_alert_gets_a_form_error_never_a_500(world, mark, junk):
    event = _event(world.alice)
    data = {"body": "Rally!", "audience": "near", "km": "25", "step": "send", **junk}
    assert mark.post(f"/events/{event.pk}/alert/", data).status_code == 400
    assert mark.get(f"/events/{event.pk}/alert/count.json", data).status_code == 400
    with schema_context(world.alice.schema_name):
        assert not EventAlert.objects.filter(event=event).exists()


@pytest.mark.parametrize(
    "junk",
    [
        {"starts_at": "2026-13-45T10:00"},
        {"latitude": "abc", "longitude": "NaN"},
        {"capacity": "many"},
        {"languages": ["xx"]},
        {"title": "x" * 500},
        {"code_word": "\x00\x01"},
        {"time_zone": "../../etc/passwd"},
    ],
)
def test_junk_in_the_event_form_gets_a_form_error_never_a_500(world, mark, junk):
    assert mark.post("/events/new/", _form(**junk)).status_code == 400
