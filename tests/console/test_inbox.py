"""The inbox: roles, folders and filters, keyset pages, reading, replying, assigning, done and reopen."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from console.inbox import selectors as inbox_selectors
from console.inbox.selectors import InboxFilter, conversations_filter, conversations_page
from console.models import CannedReply
from members.models import Member
from messaging.models import Conversation, Message, SmsStatus
from tests import builders
from tests.console.conftest import client_for

pytestmark = pytest.mark.django_db


def conversation_make(*, member: Member | None = None, minutes_ago: int = 0, said: str = "Hello", **fields):
    """A conversation with the fan's text `said`, last active `minutes_ago`."""
    at = timezone.now() - datetime.timedelta(minutes=minutes_ago)
    conversation = builders.conversation(
        member=member, last_message_at=at, last_message_preview=said[:120], created_at=at, **fields
    )
    builders.message(conversation=conversation, member=member, body=said, created_at=at)
    return conversation


def user(username: str):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def dataset(in_alice):
    """Five conversations, newest first: a Lyon volunteer (unread), rita's, a done one, a Paris donor
    talking about the rally, and a newcomer."""
    lyon = builders.member(first_name="Lea", city="Lyon", tags=["volunteer"])
    paris = builders.member(first_name="Paul", place_name="Paris", tags=["donor"])
    other = builders.member(first_name="Omar", city="Nice")
    done_member = builders.member(first_name="Dina", city="Lyon")
    return {
        "lyon": conversation_make(member=lyon, minutes_ago=1, said="Can I help on Saturday?", unread_count=2),
        "rita": conversation_make(member=other, minutes_ago=2, said="Thanks", assigned_to=user("rita")),
        "done": conversation_make(
            member=done_member, minutes_ago=3, said="All good", status=Conversation.Status.DONE
        ),
        "paris": conversation_make(member=paris, minutes_ago=4, said="See you at the RALLY downtown"),
        "newcomer": conversation_make(minutes_ago=5, said="Who is this?"),
    }


def ids(conversations) -> list[int]:
    return [c.pk for c in conversations]


# -- roles --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["olivia", "mark", "rita"])
def test_every_role_can_use_the_inbox(world, dataset, username):
    client = client_for(world.alice, username)
    listing = client.get("/inbox/")
    assert listing.status_code == 200
    assert "Can I help on Saturday?" in listing.content.decode()
    thread = client.get(f"/inbox/{dataset['lyon'].pk}/")
    assert thread.status_code == 200
    assert "Can I help on Saturday?" in thread.content.decode()


def test_the_navigation_shows_the_inbox_to_a_responder(world, rita, dataset):
    page = rita.get("/").content.decode()
    assert 'href="/inbox/"' in page


def test_an_anonymous_visitor_is_sent_to_the_login_page(world, dataset):
    response = client_for(world.alice).get("/inbox/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_bobs_user_cannot_open_alices_conversations(world, dataset):
    bruno = client_for(world.bob, "bruno")
    assert bruno.get(f"/inbox/{dataset['lyon'].pk}/").status_code == 404  # not in bob's schema
    # On alice's host bruno is nobody: his session is bob's, his user is not in alice's schema.
    bruno.defaults["HTTP_HOST"] = world.alice.get_primary_domain().domain
    response = bruno.get(f"/inbox/{dataset['lyon'].pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    dataset["lyon"].refresh_from_db()
    assert dataset["lyon"].unread_count == 2


def test_a_responder_cannot_manage_canned_replies(world, rita, dataset):
    assert rita.get("/inbox/canned/").status_code == 403
    assert rita.post("/inbox/canned/", {"title": "Hi", "body": "Hello"}).status_code == 403


# -- folders, filters, pages ----------------------------------------------------------------------------


def test_folders_hold_the_right_conversations(world, dataset):
    rita = user("rita")
    d = dataset

    def folder(name: str) -> list[int]:
        return ids(
            conversations_page(conversations_filter(InboxFilter(folder=name), user=rita)).conversations
        )

    assert folder("open") == ids([d["lyon"], d["rita"], d["paris"], d["newcomer"]])
    assert folder("unread") == ids([d["lyon"]])
    assert folder("mine") == ids([d["rita"]])
    assert folder("done") == ids([d["done"]])


def test_filters_by_city_tag_and_words(world, dataset):
    d = dataset
    olivia = user("olivia")

    def found(**filters) -> list[int]:
        queryset = conversations_filter(InboxFilter(**filters), user=olivia)
        return ids(conversations_page(queryset).conversations)

    assert found(city="lyon") == ids([d["lyon"]])
    assert found(city="Lyon", folder="done") == ids([d["done"]])
    assert found(city="paris") == ids([d["paris"]])  # the place's name, when the member picked one
    assert found(tag="Volunteer") == ids([d["lyon"]])
    assert found(q="rally") == ids([d["paris"]])
    assert found(q="rally", tag="volunteer") == []


def test_word_search_ignores_texts_older_than_the_search_window(world, dataset):
    old = conversation_make(minutes_ago=(inbox_selectors.SEARCH_DAYS + 1) * 24 * 60, said="rally long ago")
    found = conversations_filter(InboxFilter(q="rally"), user=user("olivia"))
    assert old.pk not in ids(found)


def test_the_list_page_filters_through_the_query_string(world, mark, dataset):
    page = mark.get("/inbox/", {"folder": "open", "city": "Lyon"}).content.decode()
    assert "Can I help on Saturday?" in page and "See you at the RALLY" not in page
    page = mark.get("/inbox/", {"folder": "done"}).content.decode()
    assert "All good" in page and "Can I help" not in page
    assert mark.get("/inbox/", {"folder": "nonsense"}).status_code == 400


def test_keyset_pages_walk_every_conversation_once_newest_first(world, in_alice):
    at = timezone.now()
    made = [conversation_make(minutes_ago=n // 2) for n in range(7)]  # ties on last_message_at
    Conversation.objects.filter(pk__in=ids(made)).update(last_message_at=at)
    queryset = Conversation.objects.filter(pk__in=ids(made))
    seen, cursor = [], None
    while True:
        page = conversations_page(queryset, after=cursor, size=3)
        seen += ids(page.conversations)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(ids(made), reverse=True)


def test_a_cursor_we_did_not_make_starts_at_the_first_page(world, olivia, dataset):
    response = olivia.get("/inbox/", {"after": "not-a-cursor"})
    assert response.status_code == 200
    assert "Can I help on Saturday?" in response.content.decode()


def test_the_list_page_links_to_the_next_page(world, olivia, in_alice):
    for n in range(inbox_selectors.PAGE_SIZE + 2):
        conversation_make(minutes_ago=n, said=f"text number {n}")
    first = olivia.get("/inbox/").content.decode()
    assert "text number 0<" in first and f"text number {inbox_selectors.PAGE_SIZE}<" not in first
    cursor = first.split("after=")[1].split('"')[0]
    second = olivia.get(f"/inbox/?folder=open&after={cursor}").content.decode()
    assert f"text number {inbox_selectors.PAGE_SIZE}<" in second and "text number 0<" not in second


# -- a thread -----------------------------------------------------------------------------------------------


def test_opening_a_thread_marks_it_read(world, rita, dataset):
    assert rita.get(f"/inbox/{dataset['lyon'].pk}/").status_code == 200
    dataset["lyon"].refresh_from_db()
    assert dataset["lyon"].unread_count == 0


def test_the_thread_shows_who_sent_each_text_and_its_status(world, rita, dataset):
    conversation = dataset["lyon"]
    builders.message(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        body="Yes please, 10am",
        status=SmsStatus.DELIVERED,
        sent_by=user("mark"),
    )
    page = rita.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "From the fan" in page and "Sent by mark" in page and "Delivered" in page


def test_an_unknown_conversation_is_a_404(world, rita, dataset):
    assert rita.get("/inbox/999999/").status_code == 404


# -- replying -----------------------------------------------------------------------------------------------


def test_a_reply_is_queued_in_the_priority_lane_with_the_sender(
    world, rita, dataset, django_capture_on_commit_callbacks
):
    conversation = dataset["lyon"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = rita.post(f"/inbox/{conversation.pk}/reply/", {"body": "Yes, see you at 10!"})
    assert response.status_code == 302
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert (reply.body, reply.status, reply.sent_by.username) == (
        "Yes, see you at 10!",
        SmsStatus.QUEUED,
        "rita",
    )
    assert reply.member_id == conversation.member_id
    assert len(callbacks) == 1  # the send task, enqueued after commit
    conversation.refresh_from_db()
    assert conversation.last_message_preview == "Yes, see you at 10!"


def test_a_reply_to_an_opted_out_member_is_refused_with_a_clear_message(world, rita, dataset):
    conversation = dataset["paris"]
    Member.objects.filter(pk=conversation.member_id).update(status=Member.Status.OPTED_OUT)
    response = rita.post(f"/inbox/{conversation.pk}/reply/", {"body": "Are you there?"})
    assert response.status_code == 400
    assert "opted out" in response.content.decode()
    assert not Message.objects.filter(
        conversation=conversation, direction=Message.Direction.OUTBOUND
    ).exists()


def test_a_reply_longer_than_400_characters_is_refused(world, rita, dataset):
    response = rita.post(f"/inbox/{dataset['lyon'].pk}/reply/", {"body": "x" * 401})
    assert response.status_code == 400
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_a_suspended_leaders_team_is_told_that_nothing_is_sent(world, rita, dataset):
    world.alice.suspend(reason="test")
    try:
        response = rita.post(f"/inbox/{dataset['lyon'].pk}/reply/", {"body": "Hello"})
    finally:
        world.alice.reactivate()
    assert response.status_code == 400
    assert "suspended" in response.content.decode()
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


def test_the_segment_counter_counts_characters_and_segments(world, rita):
    data = rita.get("/inbox/segments/", {"text": "é" * 10}).json()
    assert data == {"characters": 10, "segments": 1, "encoding": "GSM-7", "limit": 400, "too_long": False}
    data = rita.get("/inbox/segments/", {"text": "😀" * 40}).json()
    assert (data["encoding"], data["segments"]) == ("UCS-2", 2)
    assert rita.get("/inbox/segments/", {"text": "x" * 401}).json()["too_long"] is True


# -- assigning, done, reopen --------------------------------------------------------------------------------


def test_a_conversation_is_assigned_to_a_teammate_and_unassigned(world, rita, dataset):
    conversation = dataset["lyon"]
    mark = user("mark")
    assert rita.post(f"/inbox/{conversation.pk}/assign/", {"user": mark.pk}).status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to_id == mark.pk
    rita.post(f"/inbox/{conversation.pk}/assign/", {"user": ""})
    conversation.refresh_from_db()
    assert conversation.assigned_to_id is None


def test_assigning_to_someone_not_on_the_team_changes_nothing(world, rita, dataset):
    conversation = dataset["lyon"]
    rita.post(f"/inbox/{conversation.pk}/assign/", {"user": 987654})
    conversation.refresh_from_db()
    assert conversation.assigned_to_id is None


def test_done_then_reopen(world, rita, dataset):
    conversation = dataset["lyon"]
    assert rita.post(f"/inbox/{conversation.pk}/status/", {"action": "done"}).status_code == 302
    conversation.refresh_from_db()
    assert (conversation.status, conversation.unread_count) == (Conversation.Status.DONE, 0)
    rita.post(f"/inbox/{conversation.pk}/status/", {"action": "reopen"})
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.OPEN


# -- canned replies -----------------------------------------------------------------------------------------


def test_a_manager_adds_and_removes_canned_replies(world, mark, in_alice):
    assert mark.post("/inbox/canned/", {"title": "Thanks", "body": "Thanks for writing!"}).status_code == 302
    canned = CannedReply.objects.get()
    assert (canned.title, canned.body) == ("Thanks", "Thanks for writing!")
    assert mark.post("/inbox/canned/", {"title": "", "body": "x" * 401}).status_code == 400
    assert mark.post(f"/inbox/canned/{canned.pk}/delete/").status_code == 302
    assert not CannedReply.objects.exists()


def test_using_a_canned_reply_without_javascript_fills_the_reply_box(world, rita, dataset):
    canned = CannedReply.objects.create(title="Rally", body="The rally is on Saturday at 10am.")
    page = rita.get(f"/inbox/{dataset['lyon'].pk}/", {"canned": canned.pk}).content.decode()
    assert "The rally is on Saturday at 10am.</textarea>" in page
    assert "33 of 400 characters" in page
    assert f'<option value="{canned.pk}" data-body="The rally is on Saturday at 10am." selected>' in page


def test_the_dashboards_unread_figure_links_to_the_unread_folder(world, rita, dataset):
    page = rita.get("/").content.decode()
    assert 'href="/inbox/?folder=unread"' in page


def test_word_search_reads_only_the_newest_texts_up_to_its_cap(world, dataset, monkeypatch):
    monkeypatch.setattr(inbox_selectors, "SEARCH_MAX_TEXTS", 2)  # the two newest: lyon's and rita's
    olivia = user("olivia")
    assert ids(conversations_filter(InboxFilter(q="saturday"), user=olivia)) == [dataset["lyon"].pk]
    assert ids(conversations_filter(InboxFilter(q="rally"), user=olivia)) == []


def test_percent_and_underscore_in_the_search_are_plain_characters(world, dataset):
    olivia = user("olivia")
    assert ids(conversations_filter(InboxFilter(q="%"), user=olivia)) == []
    assert ids(conversations_filter(InboxFilter(q="_"), user=olivia)) == []
    promo = conversation_make(said="Get 50% off_today")
    assert ids(conversations_filter(InboxFilter(q="50% off_"), user=olivia)) == [promo.pk]


# -- replies with their context -------------------------------------------------------------------------------


def _broadcast_to(member, body: str, sent_at, **fields):
    """A broadcast that went out, and `member`'s copy of it, handed to Twilio at `sent_at`."""
    from messaging.models import DeliveryStatus

    broadcast = builders.broadcast(body=body, queued_at=sent_at, status="completed", **fields)
    builders.delivery(
        broadcast=broadcast, member=member, status=DeliveryStatus.SENT, due_at=sent_at, sent_at=sent_at
    )
    return broadcast


def test_a_conversation_shows_the_broadcast_above_the_reply_it_got(olivia, in_alice):
    now = timezone.now()
    lea = builders.member(first_name="Lea", city="Lyon", language="fr")
    omar = builders.member(first_name="Omar")
    rally = _broadcast_to(
        lea,
        "Hi {first_name}, rally Saturday!",
        now - datetime.timedelta(hours=2),
        suffixes={"fr": "Répondez OUI"},
    )
    _broadcast_to(omar, "Only for Omar", now - datetime.timedelta(hours=3))  # another member's
    conversation = conversation_make(member=lea, minutes_ago=60, said="I'll be there")

    page = olivia.get(f"/inbox/{conversation.pk}/").content.decode()
    # Her own copy (her name, her language's suffix), then her answer under it.
    mine = page.index("Hi Lea, rally Saturday! Répondez OUI")
    assert mine < page.index("I&#x27;ll be there")
    assert f'href="/broadcasts/{rally.pk}/"' in page
    assert "Only for Omar" not in page

    member_page = olivia.get(f"/members/{lea.pk}/").content.decode()
    assert member_page.index("Hi Lea, rally Saturday!") < member_page.index("I&#x27;ll be there")


def test_a_teammate_starts_a_one_to_one_conversation_from_the_member_page(olivia, in_alice):
    lea = builders.member(first_name="Lea")
    response = olivia.post(f"/members/{lea.pk}/message/")
    conversation = Conversation.objects.get(phone=lea.phone)
    assert response.status_code == 302 and response["Location"] == f"/inbox/{conversation.pk}/#reply-heading"
    assert conversation.member_id == lea.pk and conversation.assigned_to.username == "olivia"
    assert conversation.status == Conversation.Status.DONE  # nothing of hers waits for an answer
    # Again: the same conversation, never a second one for the phone.
    olivia.post(f"/members/{lea.pk}/message/")
    assert Conversation.objects.filter(phone=lea.phone).count() == 1
    assert olivia.get(f"/members/{lea.pk}/message/").status_code == 405  # a change is a POST
