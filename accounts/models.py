"""People who log in.

The same table exists in every schema: in the public schema it holds platform staff (the Django admin);
in a leader's schema it holds that leader's team. A user of one leader therefore cannot exist in, or log
into, another leader's console: their row is simply not in that schema.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"  # everything, including the team and settings
        MANAGER = "manager", "Manager"  # broadcasts, members, inbox
        RESPONDER = "responder", "Responder"  # inbox only

    # Blank for platform staff in the public schema.
    role = models.CharField(max_length=16, choices=Role.choices, blank=True)
    # How the teammate signs replies when the leader signs them ("Dr. Amina Diallo, MP"); the full name
    # when blank.
    display_name = models.CharField(max_length=80, blank=True)

    class Meta:
        db_table = "accounts_user"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER

    @property
    def can_manage(self) -> bool:
        """Broadcasts, members and settings that are not the owner's alone."""
        return self.role in (self.Role.OWNER, self.Role.MANAGER)

    @property
    def can_answer(self) -> bool:
        return self.role in (self.Role.OWNER, self.Role.MANAGER, self.Role.RESPONDER)
