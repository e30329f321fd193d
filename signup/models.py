"""How fans join: their personal signup links. This table lives in each leader's schema."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone

from common.phones import PhoneField
from members.models import Member


class SignupToken(models.Model):
    """A personal signup link: unguessable, bound to one phone, expires, works once.

    Only a hash of the token is stored, so a database leak does not leak working links.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    phone = PhoneField(db_index=True)
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE)

    class Meta:
        indexes = [models.Index(fields=["phone", "created_at"])]

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return self.used_at is None and (now or timezone.now()) < self.expires_at
