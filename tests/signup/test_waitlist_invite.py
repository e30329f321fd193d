"""Opening a pilot's region: each waitlisted phone of it gets exactly one signup link, in its language,
paced at the number's rate; two openings or two workers never text a phone twice; a phone that said STOP
(or that joined meanwhile) is never invited."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection
from django_q.models import Schedule
from django_tenants.utils import schema_context

from leaders.models import Leader
from leaders.routing import leader_cache_clear
from leaders.services import leader_create, leader_pilot_open
from members.consent import phone_consent_record
from members.models import ConsentRecord, WaitlistEntry
from members.services import member_erase
from messaging.models import Message, SmsStatus
from messaging.texts import auto_text
from signup.models import SignupToken
from signup.services import token_hash
from signup.tasks import waitlist_invite as task
from signup.waitlist import TASK, waitlist_invite
from tests import builders
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone
from tests.queue import queue_clear, queued_tasks, run_queued

BROADCASTS = "broadcasts"


def _pilot(leader, regions: list[str], rate: int = 100) -> None:
    leader.pilot_regions = regions
    leader.segments_per_second = rate
    leader.save(update_fields=["pilot_regions", "segments_per_second"])
    leader_cache_clear()


def _waitlist(
    leader, region: str, *, country: str = "CA", language: str = "en", phone: str | None = None
) -> str:
    phone = phone or unique_phone()
    with schema_context(leader.schema_name):
        WaitlistEntry.objects.create(phone=phone, country=country, region=region, language=language)
    return phone


def _open(leader, regions, capture) -> list[str]:
    """Open as the console does, and run the invitations the opening queued, as the broadcasts' worker."""
    with capture(execute=True):
        opened = leader_pilot_open(leader=leader, regions=regions)
    run_queued(TASK, BROADCASTS)
    return opened


def _texted(twilio) -> list[str]:
    return [message["to"] for message in twilio.messages]


@pytest.fixture
def alice(db, world, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    queue_clear(BROADCASTS)
    _pilot(world.alice, ["Quebec"])
    yield world.alice
    queue_clear(BROADCASTS)
    world.alice.refresh_from_db()
    _pilot(world.alice, [], rate=0)
    Leader.objects.filter(pk=world.alice.pk).update(segments_per_second=None)


def test_opening_a_region_texts_each_of_its_waitlisted_phones_one_link_in_their_language(
    alice, twilio, django_capture_on_commit_callbacks
):
    english = _waitlist(alice, "Ontario")
    french = _waitlist(alice, "Ontario", language="fr")
    arabic = _waitlist(alice, "Ontario", language="ar")
    elsewhere = _waitlist(alice, "British Columbia")

    opened = _open(alice, ["ontario"], django_capture_on_commit_callbacks)

    assert opened == ["Ontario"]
    alice.refresh_from_db()
    assert alice.pilot_regions == ["Quebec", "Ontario"]
    assert sorted(_texted(twilio)) == sorted([english, french, arabic])
    bodies = {message["to"]: message["body"] for message in twilio.messages}
    with schema_context(alice.schema_name):
        for phone, language in ((english, "en"), (french, "fr"), (arabic, "ar")):
            body = bodies[phone]
            link = body[body.index("http") :]
            assert body == auto_text("waitlist_invite", language=language, leader=alice, link=link)
            token = SignupToken.objects.get(token_hash=token_hash(link.rsplit("/", 1)[1]))
            assert (token.phone, token.language, token.used_at) == (phone, language, None)
            sent = Message.objects.get(phone=phone, direction="out")
            assert (sent.kind, sent.status, sent.body) == (Message.Kind.WELCOME, SmsStatus.WIRED, body)
            assert sent.twilio_sid
            assert WaitlistEntry.objects.get(phone=phone).invited_at is not None
        assert WaitlistEntry.objects.get(phone=elsewhere).invited_at is None


def test_the_invitation_link_opens_the_signup_page_and_the_region_is_now_inside(
    alice, client, twilio, django_capture_on_commit_callbacks
):
    phone = _waitlist(alice, "Ontario")
    _open(alice, ["Ontario"], django_capture_on_commit_callbacks)
    (message,) = twilio.messages
    path = message["body"][message["body"].index("/j/") :]

    page = client.get(path, HTTP_HOST=alice.get_primary_domain().domain)

    assert page.status_code == 200
    assert f"•••• {phone[-4:]}" in page.content.decode()


def test_opening_twice_or_running_twice_texts_nobody_twice(alice, twilio, django_capture_on_commit_callbacks):
    ontario = [_waitlist(alice, "Ontario") for _ in range(3)]
    _open(alice, ["Ontario"], django_capture_on_commit_callbacks)

    assert _open(alice, ["Ontario"], django_capture_on_commit_callbacks) == []  # open already
    with schema_context(alice.schema_name):
        assert waitlist_invite(leader=alice).invited == 0  # a second run finds nobody
    later = _waitlist(alice, "Manitoba")
    assert _open(alice, None, django_capture_on_commit_callbacks) == ["*"]  # everywhere

    assert sorted(_texted(twilio)) == sorted([*ontario, later])
    alice.refresh_from_db()
    assert alice.pilot_regions == []


def test_a_phone_that_said_stop_is_never_invited_nor_one_that_joined_meanwhile(
    alice, client, twilio, django_capture_on_commit_callbacks
):
    waiting = _waitlist(alice, "Ontario")
    joined = _waitlist(alice, "Ontario")
    builders.member(leader=alice, phone=joined)
    carrier_stopped = _waitlist(alice, "Ontario")
    with schema_context(alice.schema_name):
        phone_consent_record(
            phone=carrier_stopped, kind=ConsentRecord.Kind.OPT_OUT, source=ConsentRecord.Source.CARRIER
        )
    # A Toronto fan texts, is waitlisted, then texts STOP: the webhook's own path.
    texter = "+14165550163"
    ontario = {"FromCountry": "CA", "FromState": "ON"}
    assert "not in your area" in twiml_messages(text(client, alice, texter, "hi", **ontario))[0]
    text(client, alice, texter, "STOP", **ontario)
    twilio.clear()

    _open(alice, ["Ontario"], django_capture_on_commit_callbacks)

    assert _texted(twilio) == [waiting]
    with schema_context(alice.schema_name):
        assert list(WaitlistEntry.objects.values_list("phone", flat=True)) == [waiting]  # the others dropped
        assert not Message.objects.filter(phone__in=[joined, carrier_stopped], direction="out").exists()
        assert not Message.objects.filter(phone=texter, kind=Message.Kind.WELCOME).exists()


def test_twilio_asking_to_slow_down_gives_the_phone_back_and_it_is_invited_once_later(
    alice, twilio, django_capture_on_commit_callbacks
):
    phone = _waitlist(alice, "Ontario")
    twilio.fail_next(1, 429)

    _open(alice, ["Ontario"], django_capture_on_commit_callbacks)

    assert _texted(twilio) == []
    with schema_context(alice.schema_name):
        assert WaitlistEntry.objects.get(phone=phone).invited_at is None
    retry = Schedule.objects.get(name=f"waitlist-invite-{alice.schema_name}")
    assert (retry.func, retry.args) == (TASK, repr(alice.schema_name))

    run_queued(TASK, BROADCASTS)  # nothing queued: the schedule is what runs it
    assert task(alice.schema_name).startswith("done: invited 1")
    assert task(alice.schema_name).startswith("done: invited 0")
    assert _texted(twilio) == [phone]
    retry.delete()


def test_a_suspended_leader_invites_nobody(alice, twilio):
    phone = _waitlist(alice, "Ontario")
    alice.pilot_regions = []
    alice.status = Leader.Status.SUSPENDED

    with schema_context(alice.schema_name):
        assert waitlist_invite(leader=alice).outcome == "suspended"
        assert WaitlistEntry.objects.get(phone=phone).invited_at is None
    assert _texted(twilio) == []


def test_only_an_opening_queues_invitations(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        leader_pilot_open(leader=alice, regions=["Quebec"])  # open already: nothing opens

    assert [task for task in queued_tasks(BROADCASTS) if task["func"] == TASK] == []

    with django_capture_on_commit_callbacks(execute=True):
        leader_pilot_open(leader=alice, regions=["Yukon"])

    (queued,) = [task for task in queued_tasks(BROADCASTS) if task["func"] == TASK]
    assert queued["args"] == (alice.schema_name,)


def test_invitations_keep_to_the_numbers_sending_rate(alice, twilio):
    _pilot(alice, [], rate=2)  # 2 segments a second; an invitation counts as the longest language's (2)
    phones = [_waitlist(alice, "Ontario") for _ in range(4)]

    with schema_context(alice.schema_name):
        result = waitlist_invite(leader=alice)

    assert result.invited == 4 and sorted(_texted(twilio)) == sorted(phones)
    times = sorted(message["t"] for message in twilio.messages)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.9, gaps  # one 2-segment text per second at most


# -- two workers at once, on committed rows ----------------------------------------------------------------


@pytest.fixture
def live_leader(live_db, twilio, settings):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    leader = leader_create(
        slug="wl-" + uuid.uuid4().hex[:8], name="Waitlist Test", phone_number=unique_phone(), countries=["CA"]
    )
    Leader.objects.filter(pk=leader.pk).update(segments_per_second=100, pilot_regions=["Quebec"])
    leader.refresh_from_db()
    yield leader
    connection.set_schema_to_public()
    leader.delete(force_drop=True)


def test_two_workers_inviting_at_once_text_each_phone_exactly_once(live_leader, twilio):
    phones = [_waitlist(live_leader, "Ontario") for _ in range(60)]
    Leader.objects.filter(pk=live_leader.pk).update(pilot_regions=[])
    live_leader.refresh_from_db()
    barrier = threading.Barrier(2)
    results = []

    def worker() -> None:
        try:
            with schema_context(live_leader.schema_name):
                barrier.wait(timeout=10)
                results.append(waitlist_invite(leader=live_leader, batch_size=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    texted = _texted(twilio)
    assert sorted(texted) == sorted(phones)  # every phone, none twice
    assert sum(result.invited for result in results) == 60
    assert all(result.invited > 0 for result in results)  # both really worked
    with schema_context(live_leader.schema_name):
        assert not WaitlistEntry.objects.filter(invited_at__isnull=True).exists()
        assert Message.objects.filter(direction="out", kind=Message.Kind.WELCOME).count() == 60


def test_erasing_a_member_takes_their_phones_waitlist_entry_too(alice):
    member = builders.member(leader=alice)
    _waitlist(alice, "Ontario", phone=member.phone)
    kept = _waitlist(alice, "Ontario")

    with schema_context(alice.schema_name):
        member_erase(member=member, source=ConsentRecord.Source.CONSOLE)
        assert list(WaitlistEntry.objects.values_list("phone", flat=True)) == [kept]
