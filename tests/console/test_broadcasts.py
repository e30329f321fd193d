"""The console's broadcasts: who may compose, validation, live counts, approval, cancel and progress."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from leaders.models import Leader
from members.models import Member
from messaging.models import Broadcast
from tests import builders
from tests.console.conftest import client_for
from tests.places import GUADALAJARA, MONTERREY, MUMBAI, PARIS, TOKYO


def compose_data(tag: str, **fields) -> dict:
    data = {"body": "Hi {first_name}, see you Saturday!", "tags_all": tag, "when": "now", "quiet_hours": "on"}
    data.update(fields)
    return data


@pytest.fixture
def threshold(in_alice):
    """Alice's approval threshold, set low for a test and put back (the world is shared)."""
    before = Leader.objects.get(pk=in_alice.pk).approval_threshold

    def set_to(value: int) -> None:
        Leader.objects.filter(pk=in_alice.pk).update(approval_threshold=value)

    yield set_to
    set_to(before)


def test_a_responder_cannot_open_any_broadcast_page(rita, in_alice):
    broadcast = Broadcast.create(body="Hello")
    for path in (
        "/broadcasts/",
        "/broadcasts/new/",
        "/broadcasts/new/segments.json?body=hi",
        "/broadcasts/new/count.json",
        f"/broadcasts/{broadcast.pk}/",
        f"/broadcasts/{broadcast.pk}/progress.json",
        f"/broadcasts/{broadcast.pk}/cancel/",
    ):
        assert rita.get(path).status_code == 403, path
    assert rita.post(f"/broadcasts/{broadcast.pk}/cancel/").status_code == 403
    assert rita.post(f"/broadcasts/{broadcast.pk}/approve/").status_code == 403
    assert rita.post("/broadcasts/new/", compose_data("x", step="confirm")).status_code == 403
    assert Broadcast.objects.get(pk=broadcast.pk).status == Broadcast.Status.DRAFT


def test_a_manager_sees_broadcasts_in_the_navigation(mark, in_alice):
    response = mark.get("/")
    assert b'href="/broadcasts/"' in response.content
    assert mark.get("/broadcasts/").status_code == 200
    assert mark.get("/broadcasts/new/").status_code == 200


def test_an_empty_message_is_refused_with_a_form_error(olivia, in_alice):
    before = Broadcast.objects.count()
    response = olivia.post("/broadcasts/new/", compose_data("x", body="   ", step="confirm"))
    assert response.status_code == 200
    assert "Write the message." in response.content.decode()
    assert Broadcast.objects.count() == before


def test_a_message_over_400_characters_is_refused_with_its_length(olivia, in_alice):
    before = Broadcast.objects.count()
    response = olivia.post("/broadcasts/new/", compose_data("x", body="a" * 401, step="confirm"))
    assert "The message is 401 characters long; the limit is 400." in response.content.decode()
    assert Broadcast.objects.count() == before


def test_an_unknown_city_and_a_past_schedule_are_form_errors(olivia, in_alice):
    yesterday = (timezone.now() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = olivia.post(
        "/broadcasts/new/",
        compose_data("x", cities="Qqqzzzville", when="later", send_at=yesterday, step="review"),
    )
    text = response.content.decode()
    assert "No city called “Qqqzzzville” is known." in text
    assert "This time is in the past." in text


def test_the_count_endpoint_counts_exactly_the_matching_members(olivia, in_alice):
    tag = builders.new_tag()
    builders.fan(tag=tag, gender="female")
    builders.fan(tag=tag, gender="female", birth_date=datetime.date(1960, 1, 1))
    builders.fan(tag=tag, gender="male")
    builders.fan(tag=tag, gender="female", place=PARIS)
    builders.fan(tag=tag, gender="female", status=Member.Status.OPTED_OUT)
    response = olivia.get(
        "/broadcasts/new/count.json", {"tags_all": tag, "genders": "female", "cities": "Montréal"}
    )
    assert response.status_code == 200
    assert response.json()["count"] == 2
    response = olivia.get(
        "/broadcasts/new/count.json",
        {"tags_all": tag, "genders": "female", "age_min": "18", "age_max": "40", "body": "Hi {first_name}"},
    )
    data = response.json()
    assert data["count"] == 2  # Montréal and Paris, both 36
    assert data["segments_per_message"] == 1 and data["total_segments"] == 2
    near = olivia.get("/broadcasts/new/count.json", {"tags_all": tag, "near_place": "Laval", "near_km": "40"})
    assert near.json()["count"] == 3  # the three reachable Montréal members


def test_the_composer_counts_and_refuses_regions_by_name_in_any_country(olivia, in_alice):
    tag = builders.new_tag()
    for place in (GUADALAJARA, GUADALAJARA, MONTERREY, TOKYO, MUMBAI):
        builders.fan(tag=tag, place=place)

    def count(regions: str):
        return olivia.get("/broadcasts/new/count.json", {"tags_all": tag, "regions": regions})

    assert count("jalisco").json()["count"] == 2
    assert count("Tokyo, maharashtra").json()["count"] == 2
    unknown = count("Jalisco, Atlantis")
    assert unknown.status_code == 400
    assert unknown.json()["fields"]["regions"] == ["No region called “Atlantis” is known."]
    review = olivia.post("/broadcasts/new/", compose_data("x", regions="Atlantis", step="review"))
    assert "No region called “Atlantis” is known." in review.content.decode()


def test_the_count_endpoint_answers_bad_filters_with_a_json_error(olivia, in_alice):
    response = olivia.get(
        "/broadcasts/new/count.json", {"age_min": "40", "age_max": "20", "countries": "Canada"}
    )
    assert response.status_code == 400
    data = response.json()
    assert "age_max" in data["fields"] and "countries" in data["fields"]


def test_the_segment_endpoint_names_the_characters_forcing_ucs2_and_their_replacement(olivia, in_alice):
    response = olivia.get("/broadcasts/new/segments.json", {"body": "See you “soon” 🎉"})
    data = response.json()
    assert data["encoding"] == "UCS-2"
    named = {c["char"]: c for c in data["non_gsm"]}
    assert named["“"]["name"] == "Left Double Quotation Mark" and named["“"]["replacement"] == '"'
    assert named["🎉"]["replacement"] is None
    assert data["gsm7_body"] == 'See you "soon" 🎉'
    plain = olivia.get("/broadcasts/new/segments.json", {"body": "Hi {first_name}"}).json()
    assert plain["encoding"] == "GSM-7" and plain["segments"] == 1 and plain["non_gsm"] == []


def test_the_compose_page_counts_segments_without_javascript(olivia, in_alice):
    response = olivia.post("/broadcasts/new/", compose_data("x", body="Ça va “toi”", step="count"))
    text = response.content.decode()
    assert "UCS-2" in text and "Left Double Quotation Mark" in text


def test_the_confirm_step_shows_recipients_times_segments_and_the_time_to_send(olivia, in_alice):
    tag = builders.new_tag()
    for _ in range(3):
        builders.fan(tag=tag)
    body = "x" * 200  # two GSM-7 segments
    response = olivia.post("/broadcasts/new/", compose_data(tag, body=body, step="review"))
    text = response.content.decode()
    assert "3 × 2 = 6 segments" in text
    assert "segments per second" in text
    assert Broadcast.objects.filter(body=body).count() == 0  # nothing stored before the confirmation


def test_confirming_a_small_broadcast_sends_it_at_once(olivia, in_alice, django_capture_on_commit_callbacks):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    with django_capture_on_commit_callbacks(execute=False):
        response = olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert response.status_code == 302 and response["Location"] == f"/broadcasts/{broadcast.pk}/"
    assert broadcast.status == Broadcast.Status.DRAFT  # queued by the start task once committed
    assert broadcast.created_by.username == "olivia" and not broadcast.ignore_quiet_hours


def test_a_broadcast_above_the_threshold_waits_and_its_author_cannot_approve_it(
    olivia, mark, in_alice, threshold, django_capture_on_commit_callbacks
):
    threshold(1)
    tag = builders.new_tag()
    builders.fan(tag=tag)
    builders.fan(tag=tag)
    from tests.queue import queue_size

    before = queue_size("broadcasts")
    with django_capture_on_commit_callbacks(execute=True):
        olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    assert queue_size("broadcasts") == before  # nothing enqueued: only the approvers are mailed
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert broadcast.status == Broadcast.Status.AWAITING_APPROVAL

    page = olivia.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert "Waiting for another teammate" in page and "Approve and send" not in page
    olivia.post(f"/broadcasts/{broadcast.pk}/approve/")
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.AWAITING_APPROVAL and broadcast.approved_by is None

    assert "Approve and send" in mark.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = mark.post(f"/broadcasts/{broadcast.pk}/approve/")
    assert response.status_code == 302 and len(callbacks) == 1
    broadcast.refresh_from_db()
    assert broadcast.approved_by.username == "mark" and broadcast.approved_at is not None
    assert broadcast.status == Broadcast.Status.DRAFT  # the start task queues it


def test_a_scheduled_broadcast_is_cancelled_after_a_confirmation(olivia, in_alice):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    tomorrow = (timezone.now() + datetime.timedelta(days=1)).astimezone(
        __import__("zoneinfo").ZoneInfo(in_alice.time_zone)
    )
    olivia.post(
        "/broadcasts/new/",
        compose_data(tag, when="later", send_at=tomorrow.strftime("%Y-%m-%dT%H:%M"), step="confirm"),
    )
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert broadcast.status == Broadcast.Status.SCHEDULED
    assert abs(broadcast.send_at - tomorrow.replace(second=0, microsecond=0)) < datetime.timedelta(seconds=1)

    ask = olivia.get(f"/broadcasts/{broadcast.pk}/cancel/")
    assert "Yes, cancel it" in ask.content.decode()
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.SCHEDULED  # asking changes nothing
    olivia.post(f"/broadcasts/{broadcast.pk}/cancel/")
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.CANCELLED
    again = olivia.post(f"/broadcasts/{broadcast.pk}/cancel/", follow=True)
    assert "can no longer be cancelled" in again.content.decode()


def test_the_progress_json_reads_the_stored_counters(olivia, in_alice):
    broadcast = Broadcast.create(body="Hello")
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.SENDING,
        recipient_count=10,
        sent_count=8,
        delivered_count=6,
        failed_count=1,
        opt_out_count=1,
        reply_count=2,
    )
    data = olivia.get(f"/broadcasts/{broadcast.pk}/progress.json").json()
    assert data["recipients"] == 10 and data["sent"] == 8 and data["delivered"] == 6
    assert data["failed"] == 1 and data["opt_outs"] == 1 and data["replies"] == 2
    assert data["percent_sent"] == 80.0 and data["percent_delivered"] == 60.0 and data["is_over"] is False
    page = olivia.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert 'aria-valuenow="80.0"' in page
    assert olivia.get("/broadcasts/999999/progress.json").status_code == 404


def test_a_broadcast_of_another_leader_is_not_found(world, db):
    from django_tenants.utils import schema_context

    with schema_context(world.bob.schema_name):
        bobs = Broadcast.create(body="Bob's secret")
    olivia = client_for(world.alice, "olivia")
    detail = olivia.get(f"/broadcasts/{bobs.pk}/")
    assert "Bob&#x27;s secret" not in detail.content.decode()
    assert "Bob&#x27;s secret" not in olivia.get("/broadcasts/").content.decode()


def test_the_dashboard_lists_recent_broadcasts_with_their_delivery_rate(olivia, in_alice):
    broadcast = Broadcast.create(body="Rally tonight " + builders.new_tag())
    Broadcast.objects.filter(pk=broadcast.pk).update(
        status=Broadcast.Status.COMPLETED, recipient_count=4, sent_count=4, delivered_count=3
    )
    page = olivia.get("/").content.decode()
    assert "Recent broadcasts" in page and "75.0 %" in page


def test_the_members_page_finds_members_within_n_km_of_a_city(olivia, in_alice):
    tag = builders.new_tag()
    montreal = builders.fan(tag=tag, first_name="Near")
    builders.fan(tag=tag, first_name="Far", place=PARIS)
    page = olivia.get("/members/", {"tag": tag, "city": "Laval", "near_km": "40"}).content.decode()
    assert f"/members/{montreal.pk}/" in page and ">Far" not in page
    assert "Which city?" in olivia.get("/members/", {"near_km": "40"}).content.decode()


def test_the_members_list_and_a_broadcast_audience_select_the_same_members(in_alice):
    from members.audience import audience_members
    from members.selectors import members_filter

    tag = builders.new_tag()
    builders.fan(tag=tag, gender="female")
    builders.fan(tag=tag, gender="male", birth_date=datetime.date(2001, 1, 1))
    builders.fan(tag=tag, gender="female", place=PARIS, language="fr")
    filters = {
        "tags": [tag],
        "genders": ["female"],
        "countries": ["ca"],
        "age_min": 30,
        "status": "subscribed",
    }
    members = set(members_filter(Member.objects.all(), filters).values_list("pk", flat=True))
    audience = set(
        audience_members(
            {"tags_any": [tag], "genders": ["female"], "countries": ["CA"], "age_min": 30}
        ).values_list("pk", flat=True)
    )
    assert members == audience and len(members) == 1


def test_the_first_name_is_counted_at_its_longest(olivia, in_alice):
    literal = olivia.get("/broadcasts/new/segments.json", {"body": "x" * 150}).json()
    personal = olivia.get("/broadcasts/new/segments.json", {"body": "x" * 145 + "{first_name}"}).json()
    assert literal["segments"] == 1
    assert personal["segments"] == 2  # 145 + 20 characters of first name: over 160


def test_a_suspended_leader_cannot_send_and_no_draft_is_kept(olivia, in_alice):
    tag = builders.new_tag()
    builders.fan(tag=tag)
    Leader.objects.filter(pk=in_alice.pk).update(status=Leader.Status.SUSPENDED)
    response = olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    assert response.status_code == 200
    assert "suspended" in response.content.decode()
    assert not Broadcast.objects.filter(filters__tags_all=[tag]).exists()


def test_a_broadcast_to_nobody_is_refused(olivia, in_alice):
    tag = builders.new_tag()
    review = olivia.post("/broadcasts/new/", compose_data(tag, step="review")).content.decode()
    assert "No member matches this audience." in review and 'value="confirm"' not in review
    confirm = olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    assert "No member matches this audience." in confirm.content.decode()
    assert not Broadcast.objects.filter(filters__tags_all=[tag]).exists()


@pytest.fixture
def quiet_now(in_alice):
    """Alice's quiet hours set around this moment, UTC (from an hour ago to an hour ahead), and put back:
    (the fans in their quiet hours now, one fan outside them, the time quiet hours end)."""
    from leaders.routing import leader_cache_clear

    leader = Leader.objects.get(pk=in_alice.pk)
    before = (leader.quiet_hours_start, leader.quiet_hours_end)
    now = timezone.now().astimezone(datetime.UTC)
    start = (now - datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now + datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    Leader.objects.filter(pk=in_alice.pk).update(quiet_hours_start=start, quiet_hours_end=end)
    leader_cache_clear()
    tag = builders.new_tag()
    asleep = [builders.fan(tag=tag, time_zone="UTC") for _ in range(2)]
    awake = builders.fan(tag=tag, time_zone="Asia/Tokyo")  # nine hours ahead: outside them
    yield tag, asleep, awake, end
    Leader.objects.filter(pk=in_alice.pk).update(quiet_hours_start=before[0], quiet_hours_end=before[1])
    leader_cache_clear()


def test_the_review_page_says_how_many_are_in_their_quiet_hours_now(olivia, quiet_now):
    tag, _asleep, _awake, end = quiet_now
    page = olivia.post("/broadcasts/new/", compose_data(tag, step="review")).content.decode()
    assert "2 of them are in their quiet hours now: they get it when those end" in page
    assert end.strftime("%-I:%M") in page or end.strftime("%H:%M") in page
    # Ignoring quiet hours: nobody waits, nothing to warn about.
    data = compose_data(tag, step="review")
    del data["quiet_hours"]
    assert "quiet hours now" not in olivia.post("/broadcasts/new/", data).content.decode()


def test_right_after_sending_the_page_says_starting_with_the_audience_then_who_waits_for_quiet_hours(
    olivia, quiet_now, django_capture_on_commit_callbacks
):
    from messaging.broadcasts.tasks import broadcast_start

    tag, asleep, _awake, _end = quiet_now
    with django_capture_on_commit_callbacks(execute=False):
        olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert broadcast.status == Broadcast.Status.DRAFT and broadcast.submitted_at is not None

    # Before a worker queued it: "Starting", its audience as the recipients, never "Draft, 0 recipients".
    data = olivia.get(f"/broadcasts/{broadcast.pk}/progress.json").json()
    assert (data["status_label"], data["recipients"], data["held"]) == ("Starting", 3, "")
    listing = olivia.get("/broadcasts/").content.decode()
    row = listing[listing.index(f'href="/broadcasts/{broadcast.pk}/"') :].split("</tr>")[0]
    assert "<td>Starting</td>" in row and "<td>3</td>" in row and "Draft" not in row

    # Queued: two of the three wait for their quiet hours to end, and the page says so.
    assert broadcast_start(broadcast.pk, in_alice_schema()) == "queued 3"
    broadcast.refresh_from_db()
    assert (broadcast.held_count, broadcast.recipient_count) == (len(asleep), 3)
    assert broadcast.held_until > timezone.now()
    data = olivia.get(f"/broadcasts/{broadcast.pk}/progress.json").json()
    assert data["status_label"] == "Sending" and data["recipients"] == 3
    assert data["held"].startswith("2 waiting for ") and "their time (quiet hours)" in data["held"]
    page = olivia.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert 'id="progress-held">2 waiting for ' in page


def in_alice_schema() -> str:
    from django.db import connection

    return connection.schema_name


def test_a_broadcast_awaiting_approval_is_listed_with_the_audience_it_was_counted_for(
    olivia, in_alice, threshold
):
    threshold(1)
    tag = builders.new_tag()
    builders.fan(tag=tag)
    builders.fan(tag=tag)
    olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert (broadcast.status, broadcast.audience_count) == (Broadcast.Status.AWAITING_APPROVAL, 2)
    listing = olivia.get("/broadcasts/").content.decode()
    row = listing[listing.index(f'href="/broadcasts/{broadcast.pk}/"') :].split("</tr>")[0]
    assert "<td>Awaiting approval</td>" in row and "<td>2</td>" in row
    assert olivia.get(f"/broadcasts/{broadcast.pk}/progress.json").json()["recipients"] == 2


def test_the_minute_sweep_starts_a_broadcast_whose_start_task_was_lost(
    olivia, in_alice, django_capture_on_commit_callbacks
):
    from messaging.broadcasts.tasks import STARTING_LOST_AFTER, broadcasts_sweep
    from tests.queue import starts_queued

    tag = builders.new_tag()
    builders.fan(tag=tag)
    with django_capture_on_commit_callbacks(execute=False):  # the start task is never queued: lost
        olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert starts_queued(broadcast.pk) == 0
    broadcasts_sweep(now=broadcast.submitted_at + datetime.timedelta(seconds=10))
    assert starts_queued(broadcast.pk) == 0  # too soon to call it lost
    broadcasts_sweep(now=broadcast.submitted_at + STARTING_LOST_AFTER)
    assert starts_queued(broadcast.pk) == 1


def test_the_audience_is_restated_in_words_before_and_after_it_goes(olivia, in_alice, threshold):
    from console.broadcasts.selectors import audience_in_words
    from members.audience import AudienceFilter

    assert audience_in_words(AudienceFilter.from_dict({})) == "All members"
    words = audience_in_words(
        AudienceFilter.from_dict(
            {"genders": ["female"], "age_min": 18, "age_max": 34, "languages": ["fr"], "tags_all": ["a", "b"]}
        )
    )
    assert words == "Women, 18–34 years old, who speak Français, tagged a and b"

    threshold(1)
    tag = builders.new_tag()
    for _ in range(2):
        builders.fan(tag=tag)
    review = olivia.post(
        "/broadcasts/new/", compose_data(tag, genders="female", step="review")
    ).content.decode()
    assert f'id="audience-words">Women, tagged {tag}: 2 members<' in review
    olivia.post("/broadcasts/new/", compose_data(tag, genders="female", step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    assert broadcast.status == Broadcast.Status.AWAITING_APPROVAL
    page = olivia.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert f"<strong>Who gets it:</strong> Women, tagged {tag}</p>" in page


def test_approvers_are_mailed_and_one_rejects_with_a_reason_the_author_is_mailed(
    olivia, mark, in_alice, threshold, django_capture_on_commit_callbacks, mailoutbox
):
    from accounts.models import User

    User.objects.filter(username="olivia").update(email="olivia@example.org")
    User.objects.filter(username="mark").update(email="mark@example.org")
    threshold(1)
    tag = builders.new_tag()
    for _ in range(2):
        builders.fan(tag=tag)
    with django_capture_on_commit_callbacks(execute=True):
        olivia.post("/broadcasts/new/", compose_data(tag, step="confirm"))
    broadcast = Broadcast.objects.get(filters__tags_all=[tag])
    # Every owner and manager but its author hears that it waits, with the link to it.
    (mail,) = [m for m in mailoutbox if "waits for your approval" in m.subject]
    assert "mark@example.org" in mail.to and "olivia@example.org" not in mail.to
    assert f"/broadcasts/{broadcast.pk}/" in mail.body and "olivia" in mail.body
    assert "1 broadcast waits for your approval." in mark.get("/broadcasts/").content.decode()
    assert 'id="awaiting-you"' not in olivia.get("/broadcasts/").content.decode()  # her own

    # No reason, no rejection; the author cannot reject; another teammate can, and the author hears why.
    mark.post(f"/broadcasts/{broadcast.pk}/reject/", {"reason": "  "})
    olivia.post(f"/broadcasts/{broadcast.pk}/reject/", {"reason": "mine"})
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.AWAITING_APPROVAL
    with django_capture_on_commit_callbacks(execute=True):
        mark.post(f"/broadcasts/{broadcast.pk}/reject/", {"reason": "Wrong date: the rally is Sunday"})
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.rejected_by.username) == (Broadcast.Status.REJECTED, "mark")
    assert broadcast.is_over and not broadcast.deliveries.exists()
    (told,) = [m for m in mailoutbox if "not approved" in m.subject]
    assert told.to == ["olivia@example.org"] and "Wrong date: the rally is Sunday" in told.body
    page = olivia.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert "Rejected by mark:" in page and "Wrong date: the rally is Sunday" in page
    assert "Approve and send" not in mark.get(f"/broadcasts/{broadcast.pk}/").content.decode()
    assert mark.post(f"/broadcasts/{broadcast.pk}/approve/").status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.status == Broadcast.Status.REJECTED  # over: approving it later does nothing
