"""Workflows on team accounts, run by the console's team pages: invitations, roles. (Login and password-reset
limits are every login form's, in accounts.logins.)

Every function runs in the current leader's schema (the request's tenant): team accounts live there, so a
user of one leader is simply absent from another leader's schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.models import User

INVITATION_MAX_AGE_SECONDS = 7 * 24 * 3600
_INVITATION_SALT = "accounts.invitation"


# --- invitations -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invitation:
    email: str
    role: str
    invited_by: int


def _invitation_salt() -> str:
    # The schema is part of the salt: a link made for one leader is worthless on another's host.
    return f"{_INVITATION_SALT}:{connection.schema_name}"


def invitation_token_make(*, email: str, role: str, invited_by: User) -> str:
    """A signed, expiring token for an invitation link. Nothing is stored until the invitee accepts."""
    if role not in User.Role.values:
        raise ValidationError(_("Choose a role."))
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("Someone on the team already uses this email address."))
    return signing.dumps({"e": email, "r": role, "by": invited_by.pk}, salt=_invitation_salt(), compress=True)


def invitation_read(token: str) -> Invitation:
    """The invitation behind a token; ValidationError when it is forged, expired or already used."""
    try:
        data = signing.loads(token, salt=_invitation_salt(), max_age=INVITATION_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ValidationError(_("This invitation has expired. Ask for a new one.")) from None
    except signing.BadSignature:
        raise ValidationError(_("This invitation link is not valid.")) from None
    invitation = Invitation(email=data["e"], role=data["r"], invited_by=data["by"])
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(_("This invitation has already been used."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """Create the invitee's account with the invited role. The token works once: the email is then taken."""
    invitation = invitation_read(token)
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [_("This username is taken.")]})
    user = User(username=username, email=invitation.email, role=invitation.role)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


# --- the team --------------------------------------------------------------------------------------------


def _other_active_owners(user: User) -> bool:
    return User.objects.filter(role=User.Role.OWNER, is_active=True).exclude(pk=user.pk).exists()


@transaction.atomic
def team_member_update(*, actor: User, user: User, role: str, is_active: bool) -> User:
    """Change a teammate's role or (de)activate them. The team always keeps an active owner."""
    if role not in User.Role.values:
        raise ValidationError(_("Choose a role."))
    # Lock the owners so two owners demoting each other at once cannot leave the team without one.
    list(User.objects.select_for_update().filter(role=User.Role.OWNER))
    user.refresh_from_db()
    losing_owner = (
        user.role == User.Role.OWNER and user.is_active and (role != User.Role.OWNER or not is_active)
    )
    if losing_owner and not _other_active_owners(user):
        raise ValidationError(_("The team needs at least one active owner."))
    if user.pk == actor.pk and not is_active:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.role = role
    user.is_active = is_active
    user.save(update_fields=["role", "is_active"])
    return user
