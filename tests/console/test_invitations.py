"""Invitations to the team: stored (who invited, role, expiry), listed for owners, revocable, and dead once
their inviter is deactivated or no longer an owner. Through the team page's forms and the emailed link."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.core import mail, signing
from django.core.cache import cache
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from console.models import Invitation
from tests.console.conftest import client_for

HOST = "http://alice.localhost:8000"
NEW_PASSWORD = "nina-pass-word-7"


@pytest.fixture(autouse=True)
def _forget_login_failures(db):
    cache.clear()
    yield
    cache.clear()


def _invite(client, email: str, role: str = "responder") -> str:
    """Invite through the team page's form; the path of the link the email carried."""
    sent = len(mail.outbox)
    response = client.post("/team/invite/", {"email": email, "role": role})
    assert response.status_code == 302, response.content[:500]
    assert len(mail.outbox) == sent + 1 and mail.outbox[-1].to == [email]
    link = re.search(r"http://\S+", mail.outbox[-1].body).group(0)
    assert link.startswith(f"{HOST}/join-team/")
    return link.removeprefix(HOST)


def _accept(world, path: str, username: str = "nina"):
    """The invitee's form, submitted from a browser of their own."""
    return client_for(world.alice).post(
        path, {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def _user_id(world, username: str) -> int:
    with schema_context(world.alice.schema_name):
        return User.objects.get(username=username).pk


def _second_owner(world, username: str = "mark"):
    """Make `username` an owner too and log them in (olivia stays an owner: the team keeps one)."""
    with schema_context(world.alice.schema_name):
        User.objects.filter(username=username).update(role="owner")
    return client_for(world.alice, username)


def test_the_owner_invites_a_teammate_who_chooses_a_username_and_password(olivia, world):
    path = _invite(olivia, "nina@example.org")
    page = client_for(world.alice).get(path).content.decode()
    # Whoever holds the link sees the address masked, enough for the invitee to recognise it.
    assert "n•••@example.org" in page and "nina@example.org" not in page
    response = _accept(world, path)
    assert response.status_code == 302
    with schema_context(world.alice.schema_name):
        nina = User.objects.get(username="nina")
        assert nina.role == "responder" and nina.email == "nina@example.org"
        assert Invitation.objects.get(email="nina@example.org").accepted_at is not None
    # The link works once.
    again = client_for(world.alice).get(path)
    assert again.status_code == 400 and "already been used" in again.content.decode()


def test_the_invitation_is_stored_with_its_inviter_role_and_expiry_and_only_the_tokens_hash(olivia, world):
    path = _invite(olivia, "nina@example.org", role="manager")
    token = path.removeprefix("/join-team/").strip("/")
    with schema_context(world.alice.schema_name):
        invitation = Invitation.objects.get()
        row = str(Invitation.objects.values().get())
    assert invitation.invited_by.username == "olivia" and invitation.role == "manager"
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=7)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row


def test_the_team_page_lists_pending_invitations_for_owners(olivia, world):
    _invite(olivia, "nina@example.org", role="manager")
    page = olivia.get("/team/").content.decode()
    section = page[page.index("Pending invitations") :]
    assert "nina@example.org" in section and "Manager" in section and "olivia" in section
    assert "Revoke the invitation to nina@example.org" in section


def test_an_owner_revokes_an_invitation_and_its_link_stops_working(olivia, world):
    path = _invite(olivia, "nina@example.org")
    with schema_context(world.alice.schema_name):
        invitation_id = Invitation.objects.get().pk
    response = olivia.post(f"/team/invitations/{invitation_id}/revoke/", follow=True)
    assert "withdrawn" in response.content.decode()
    assert "nina@example.org" not in response.content.decode()  # no longer listed, and masked in the message
    refused = client_for(world.alice).get(path)
    assert refused.status_code == 400 and "withdrawn" in refused.content.decode()
    assert _accept(world, path).status_code == 400
    with schema_context(world.alice.schema_name):
        assert not User.objects.filter(username="nina").exists()


def test_revoking_takes_a_post(olivia, world):
    _invite(olivia, "nina@example.org")
    with schema_context(world.alice.schema_name):
        invitation_id = Invitation.objects.get().pk
    assert olivia.get(f"/team/invitations/{invitation_id}/revoke/").status_code == 405
    assert olivia.post("/team/invitations/999999/revoke/").status_code == 404


def test_only_owners_see_and_revoke_invitations(olivia, mark, rita, world):
    path = _invite(olivia, "nina@example.org")
    with schema_context(world.alice.schema_name):
        invitation_id = Invitation.objects.get().pk
    for teammate in (mark, rita):
        assert teammate.get("/team/").status_code == 403
        assert teammate.post(f"/team/invitations/{invitation_id}/revoke/").status_code == 403
        assert teammate.post("/team/invite/", {"email": "x@example.org", "role": "owner"}).status_code == 403
    anonymous = client_for(world.alice).post(f"/team/invitations/{invitation_id}/revoke/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert client_for(world.alice).get(path).status_code == 200  # still pending


def test_an_invitation_accepted_after_its_inviter_was_deactivated_fails(olivia, world):
    mark = _second_owner(world)
    path = _invite(mark, "nina@example.org")
    assert client_for(world.alice).get(path).status_code == 200
    # Olivia deactivates mark on the team page (the checkbox left unticked).
    assert olivia.post(f"/team/{_user_id(world, 'mark')}/", {"role": "owner"}).status_code == 302
    refused = client_for(world.alice).get(path)
    assert refused.status_code == 400 and "no longer valid" in refused.content.decode()
    assert _accept(world, path).status_code == 400
    with schema_context(world.alice.schema_name):
        assert not User.objects.filter(username="nina").exists()
        assert Invitation.objects.get().revoked_at is not None  # revoked, so no longer listed
    assert "nina@example.org" not in olivia.get("/team/").content.decode()


def test_an_inviter_who_loses_the_owner_role_takes_their_invitations_with_them(olivia, world):
    mark = _second_owner(world)
    path = _invite(mark, "nina@example.org")
    olivia_path = _invite(olivia, "omar@example.org")
    response = olivia.post(f"/team/{_user_id(world, 'mark')}/", {"role": "manager", "is_active": "on"})
    assert response.status_code == 302
    assert client_for(world.alice).get(path).status_code == 400
    assert client_for(world.alice).get(olivia_path).status_code == 200  # olivia's still holds
    team = olivia.get("/team/").content.decode()
    assert "omar@example.org" in team and "nina@example.org" not in team


def test_the_inviter_is_checked_live_when_the_link_is_used(olivia, world):
    """A change made some other way than the team page (the database, a future command) stops the link too,
    even between the form being shown and submitted."""
    path = _invite(olivia, "nina@example.org")
    invitee = client_for(world.alice)
    assert invitee.get(path).status_code == 200
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="olivia").update(role="manager")
    response = invitee.post(path, {"username": "nina", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 400 and "no longer valid" in response.content.decode()
    with schema_context(world.alice.schema_name):
        assert not User.objects.filter(username="nina").exists()


def test_an_expired_invitation_is_refused_with_a_clear_message(olivia, world, monkeypatch):
    path = _invite(olivia, "late@example.org")
    issued = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: issued + datetime.timedelta(days=7, minutes=1))
    response = client_for(world.alice).get(path)
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert _accept(world, path, username="late").status_code == 400
    assert "late@example.org" not in olivia.get("/team/").content.decode()  # no longer pending


def test_an_invitation_for_alice_is_worthless_on_bobs_host(olivia, world):
    path = _invite(olivia, "x@example.org")
    assert client_for(world.bob).get(path).status_code == 400
    assert client_for(world.alice).get(path).status_code == 200


def test_a_made_up_or_old_signed_link_is_refused(db, world):
    old = signing.dumps({"e": "x@example.org", "r": "owner", "by": 1}, salt="accounts.invitation")
    for token in (old, "nope"):
        response = client_for(world.alice).get(f"/join-team/{token}/")
        assert response.status_code == 400 and "not valid" in response.content.decode()


def test_inviting_an_address_again_replaces_the_earlier_link(olivia, world):
    first = _invite(olivia, "nina@example.org", role="responder")
    second = _invite(olivia, "nina@example.org", role="manager")
    assert client_for(world.alice).get(first).status_code == 400
    assert _accept(world, second).status_code == 302
    with schema_context(world.alice.schema_name):
        assert User.objects.get(username="nina").role == "manager"


def test_inviting_an_address_already_on_the_team_is_refused(olivia, world):
    with schema_context(world.alice.schema_name):
        User.objects.filter(username="rita").update(email="rita@example.org")
    response = olivia.post("/team/invite/", {"email": "RITA@example.org", "role": "manager"})
    assert response.status_code == 400
    assert "already uses this email" in response.content.decode()
    assert mail.outbox == []
    with schema_context(world.alice.schema_name):
        assert not Invitation.objects.exists()
