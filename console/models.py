"""The console's own tables, in each leader's schema."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Reserved by carriers and by the platform's own handling (shared/PRODUCT.md, "Keywords").
RESERVED_KEYWORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "OPT OUT",
        "REVOKE",
        "REMOVE",
        "START",
        "UNSTOP",
        "YES",
        "GO",
        "RESTART",
        "JOIN",
        "HELP",
        "INFO",
    }
)
_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = ".,!?¡¿;:'\"«»()[]"


def keyword_normalize(text: str) -> str:
    """How a keyword is compared: trimmed, surrounding punctuation dropped, inner spaces single, upper case."""
    return _SPACES.sub(" ", (text or "").strip().strip(_EDGE_PUNCTUATION).strip()).upper()


class KeywordReply(models.Model):
    """A keyword fans can text (RALLY, VOLUNTEER…): the automatic answer, and a tag given to the member."""

    keyword = models.CharField(_("keyword"), max_length=40, unique=True)
    reply = models.CharField(_("reply"), max_length=400)
    tag = models.CharField(_("tag"), max_length=50, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["keyword"]

    def __str__(self) -> str:
        return self.keyword

    def clean(self) -> None:
        super().clean()
        self.keyword = keyword_normalize(self.keyword)
        if not self.keyword:
            raise ValidationError({"keyword": _("Enter a keyword.")})
        if self.keyword in RESERVED_KEYWORDS:
            raise ValidationError(
                {"keyword": _("%(keyword)s is reserved (STOP, START, HELP…).") % {"keyword": self.keyword}}
            )
        self.tag = self.tag.strip()


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
