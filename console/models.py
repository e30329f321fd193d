"""The console's own tables, in each leader's schema."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class CannedReply(models.Model):
    """A ready answer the team inserts into an inbox reply ("Thanks, we'll get back to you")."""

    MAX_BODY_LENGTH = 400  # a reply's limit (segments.MAX_BODY_LENGTH)

    title = models.CharField(_("title"), max_length=80)
    body = models.CharField(_("text"), max_length=MAX_BODY_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


# --- invitations to the team -----------------------------------------------------------------------------
# The console owns invitations: only its team pages issue, list, revoke and accept them, and an invitation
# is not yet a user (accounts keeps the user model and its roles, nothing about how people join). The rule
# that an invitation dies with its inviter's power to invite is kept in two places on purpose: the team
# workflow that deactivates or demotes someone revokes their pending invitations (so the owners' list is
# true), and acceptance checks the inviter live (so a change made any other way still stops the link).


def invitation_token_hash(raw: str) -> str:
    # A plain SHA-256 is enough: the token has 256 random bits, so there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        """Invitations that would still let someone join now: not accepted, revoked or expired, and their
        inviter still an active owner."""
        return self.filter(
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            invited_by__is_active=True,
            invited_by__role=User.Role.OWNER,
        )

    def revoke(self) -> int:
        """Revoke those of these invitations nobody accepted or revoked yet; returns how many."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


class Invitation(models.Model):
    """An owner's invitation to join the team with a role, by a link that carries a random token.

    Only the token's SHA-256 is stored: the link is in the email the invitee got, and nowhere else.
    """

    LIFETIME = datetime.timedelta(days=7)

    class Refusal(models.TextChoices):
        """Why an invitation no longer lets anyone join (the invitee's page says which)."""

        ACCEPTED = "accepted", _("This invitation has already been used.")
        REVOKED = (
            "revoked",
            _("This invitation is no longer valid: it was withdrawn. Ask the team for a new one."),
        )
        EXPIRED = (
            "expired",
            _("This invitation is no longer valid: it has expired. Ask the team for a new one."),
        )
        INVITER = (
            "inviter",
            _(
                "This invitation is no longer valid: the person who sent it can no longer invite. "
                "Ask the team for a new one."
            ),
        )

    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Stored in full for the owners' team page; pages anyone with the link can read show email_masked.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=User.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email_masked} ({self.role})"

    @classmethod
    def issue(cls, *, email: str, role: str, invited_by: User) -> tuple[Invitation, str]:
        """A new invitation and the raw token for its link (never stored)."""
        raw = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation = cls.objects.create(
            invited_by=invited_by,
            email=email,
            role=role,
            token_hash=invitation_token_hash(raw),
            created_at=now,
            expires_at=now + cls.LIFETIME,
        )
        return invitation, raw

    @property
    def email_masked(self) -> str:
        """ "n•••@example.org": enough for the invitee to recognise their address, not to learn someone's."""
        local, _at, domain = self.email.partition("@")
        return f"{local[:1]}•••@{domain}"

    def refusal(self) -> Invitation.Refusal | None:
        """Why this invitation cannot be accepted now, or None. The inviter is read as they are now."""
        if self.accepted_at is not None:
            return self.Refusal.ACCEPTED
        if self.revoked_at is not None:
            return self.Refusal.REVOKED
        if self.expires_at <= timezone.now():
            return self.Refusal.EXPIRED
        if not (self.invited_by.is_active and self.invited_by.is_owner):
            return self.Refusal.INVITER
        return None

    def revoke(self) -> bool:
        """Withdraw it; False when it was already accepted or revoked."""
        revoked = Invitation.objects.filter(pk=self.pk).revoke() == 1
        self.refresh_from_db(fields=["revoked_at", "accepted_at"])
        return revoked

    def accept(self) -> bool:
        """Mark it used, once: False when someone accepted or revoked it first."""
        accepted = (
            Invitation.objects.filter(pk=self.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
                accepted_at=timezone.now()
            )
            == 1
        )
        self.refresh_from_db(fields=["revoked_at", "accepted_at"])
        return accepted
