"""The console's own tables, in each leader's schema."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
