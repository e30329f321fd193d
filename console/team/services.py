"""Workflows on team accounts, run by the console's team pages: invitations, roles. (Login and password-reset
limits are every login form's, in accounts.logins.)

Every function runs in the current leader's schema (the request's tenant): team accounts live there, so a
user of one leader is simply absent from another leader's schema.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from console.models import Invitation, invitation_token_hash
from districts.services import volunteers_place

# --- invitations -----------------------------------------------------------------------------------------


def invitation_create(*, email: str, role: str, invited_by: User) -> tuple[Invitation, str]:
    """A stored invitation and the raw token for its link (only its hash is kept). Inviting an address again
    withdraws its earlier pending invitation, so one address has one working link at a time."""
    if role not in User.Role.values:
        raise ValidationError(_("Choose a role."))
    if not (invited_by.is_active and invited_by.is_owner):
        raise ValidationError(_("Only an owner can invite."))
    email = User.objects.normalize_email(email).strip()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError(_("Someone on the team already uses this email address."))
    with transaction.atomic():
        Invitation.objects.filter(email__iexact=email).revoke()
        return Invitation.issue(email=email, role=role, invited_by=invited_by)


def invitation_read(token: str) -> Invitation:
    """The invitation behind a link's token; ValidationError saying why when it cannot be accepted."""
    invitation = (
        Invitation.objects.select_related("invited_by")
        .filter(token_hash=invitation_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        # Unknown here: forged, mistyped, from before invitations were stored, or another leader's.
        raise ValidationError(_("This invitation link is not valid."))
    refusal = invitation.refusal()
    if refusal is not None:
        raise ValidationError(refusal.label)
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(Invitation.Refusal.ACCEPTED.label)
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """Create the invitee's account with the invited role, once, if the invitation still holds."""
    invitation = invitation_read(token)
    # Lock the inviter's row, which team_member_update locks too (it locks every owner) before it demotes or
    # deactivates them: an acceptance either sees the change or happens before it, never half of each.
    inviter = User.objects.select_for_update().get(pk=invitation.invited_by_id)
    invitation.invited_by = inviter
    refusal = invitation.refusal()
    if refusal is not None:
        raise ValidationError(refusal.label)
    username = (username or "").strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": [_("This username is taken.")]})
    if not invitation.accept():  # a second submit of the same link, or a revoke just before
        raise ValidationError(Invitation.Refusal.ACCEPTED.label)
    user = User(username=username, email=invitation.email, role=invitation.role)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def invitation_revoke(*, invitation: Invitation) -> bool:
    """Withdraw an invitation (an owner, from the team page). False when it was no longer pending."""
    return invitation.revoke()


def invitations_pending() -> list[Invitation]:
    """The invitations the owners see on the team page, newest first."""
    return list(Invitation.objects.pending().select_related("invited_by"))


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
    if role != User.Role.OWNER or not is_active:
        # Only active owners invite: their links stop working with that power (acceptance checks it too).
        Invitation.objects.filter(invited_by=user).revoke()
    if not is_active:
        # A deactivated coordinator's volunteers go to their district's other coordinators, if any.
        volunteers_place()
    return user
