"""Phone numbers masked for readers: a responder never sees a full number on any page they reach; a manager
sees them unless the owner turned it off (then every page, search and export masks them); owners always do."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from common.phones import phone_mask_for_fan
from leaders.models import Leader
from tests import builders
from tests.console.conftest import client_for


@pytest.fixture
def fan(world, in_alice):
    """A member without a name (so the number is what names them) in a conversation, and a newcomer's."""
    member = builders.member(first_name="", last_name="")
    conversation = builders.conversation(member=member)
    builders.message(conversation=conversation, member=member, body="Where is the rally?")
    stranger = builders.conversation()
    builders.message(conversation=stranger, body="Who is this?")
    return member, conversation, stranger


def _managers_see_phones(world, value: bool) -> None:
    Leader.objects.filter(pk=world.alice.pk).update(managers_see_phones=value)


def _digits(phone: str) -> str:
    return phone.lstrip("+")


def _shows_in_full(content: str, phone: str) -> bool:
    """The number in full, however it is written (E.164, its digits, spaced or dashed)."""
    digits_only = re.sub(r"[\s\-().]", "", content)
    return _digits(phone) in digits_only


def _pages(member, conversation, stranger, *, manager: bool) -> list[str]:
    pages = ["/", "/inbox/", "/inbox/?folder=open", f"/inbox/{conversation.pk}/", f"/inbox/{stranger.pk}/"]
    if manager:
        pages += [
            "/members/",
            f"/members/{member.pk}/",
            f"/members/{member.pk}/erase/",
            "/members/export.csv",
        ]
    return pages


def _content(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_a_responder_never_sees_a_full_number_on_any_page(world, rita, fan):
    member, conversation, stranger = fan
    for path in _pages(member, conversation, stranger, manager=False):
        content = _content(rita, path)
        for phone in (member.phone, stranger.phone):
            assert not _shows_in_full(content, phone), path
    assert phone_mask_for_fan(member.phone) in _content(rita, "/inbox/")
    assert phone_mask_for_fan(stranger.phone) in _content(rita, f"/inbox/{stranger.pk}/")
    # The pages that list members are not theirs at all.
    assert rita.get("/members/").status_code == 403


def test_a_manager_sees_full_numbers_unless_the_owner_turned_it_off(world, mark, olivia, fan):
    member, conversation, stranger = fan
    _managers_see_phones(world, True)
    assert _shows_in_full(_content(mark, "/members/"), member.phone)
    assert _shows_in_full(_content(mark, f"/inbox/{stranger.pk}/"), stranger.phone)
    assert _shows_in_full(_content(mark, "/members/export.csv"), member.phone)

    _managers_see_phones(world, False)
    for path in _pages(member, conversation, stranger, manager=True):
        content = _content(mark, path)
        for phone in (member.phone, stranger.phone):
            assert not _shows_in_full(content, phone), path
    assert phone_mask_for_fan(member.phone) in _content(mark, f"/members/{member.pk}/")
    assert phone_mask_for_fan(member.phone) in _content(mark, "/members/export.csv")

    # Owners always see numbers in full.
    for path in ("/members/", f"/members/{member.pk}/", f"/inbox/{stranger.pk}/"):
        content = _content(olivia, path)
        assert _shows_in_full(content, member.phone) or _shows_in_full(content, stranger.phone), path


def test_only_the_owner_decides_whether_managers_see_numbers(world, mark, olivia, in_alice):
    assert mark.get("/settings/").status_code == 403
    page = olivia.get("/settings/").content.decode()
    assert 'name="managers_see_phones"' in page and 'name="sign_replies"' in page


def _search(client, text: str) -> str:
    response = client.post("/members/", {"q": text})
    assert response.status_code == 302
    return _content(client, response["Location"])


def test_a_masked_manager_finds_a_member_by_the_exact_number_only(world, mark, olivia, fan):
    member, _conversation, _stranger = fan
    _managers_see_phones(world, False)
    link = f"/members/{member.pk}/"
    found = _search(mark, member.phone)
    rows = found[found.index("<tbody>") :]  # the search box keeps what they typed, which they knew
    assert link in rows and not _shows_in_full(rows, member.phone)
    # The last or first digits would give a hidden number away one guess at a time.
    assert link not in _search(mark, _digits(member.phone)[-4:])
    assert link not in _search(mark, member.phone[:-2])
    # Who sees numbers searches by their parts as before.
    assert link in _search(olivia, _digits(member.phone)[-4:])


def test_a_fresh_leaders_managers_see_numbers(dana):
    """The default: an owner hides numbers from managers by choice."""
    with schema_context(dana.schema_name):
        member = builders.member(first_name="")
    dmitri = client_for(dana, "dmitri")
    assert _shows_in_full(_content(dmitri, "/members/"), member.phone)
