"""The subjects a leader's fans write about (health, security, cost of living...). A leader defines up to
MAX_TOPICS of them; triage sorts every inbound text into one, and members carry the topics they wrote about
(members.MemberTopic). They live in each leader's schema, below members, so that a member, an audience filter
and any feature (triage, interests) can name a topic without importing each other."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_TOPICS = 50
MAX_EXAMPLES = 20
MAX_EXAMPLE_LENGTH = 400
MAX_KEYWORDS = 20


class Topic(models.Model):
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    # Texts as fans write them, in any language: what the classifier learns the topic from, beside the
    # team's corrections (triage.Label rows a teammate moved).
    examples = ArrayField(models.CharField(max_length=MAX_EXAMPLE_LENGTH), default=list, blank=True)
    # Words that settle a text's topic when they appear in it, whatever the classifier thinks.
    keywords = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(Lower("name"), name="topics_topic_name_ci_uniq")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.name = " ".join(self.name.split())
        self.examples = [" ".join(text.split()) for text in self.examples if text and text.strip()]
        self.keywords = sorted({" ".join(word.lower().split()) for word in self.keywords if word.strip()})
        if len(self.examples) > MAX_EXAMPLES:
            raise ValidationError({"examples": _("At most %(n)d examples.") % {"n": MAX_EXAMPLES}})
        if len(self.keywords) > MAX_KEYWORDS:
            raise ValidationError({"keywords": _("At most %(n)d keywords.") % {"n": MAX_KEYWORDS}})
        if self._state.adding and Topic.objects.count() >= MAX_TOPICS:
            raise ValidationError(_("A leader has at most %(n)d topics.") % {"n": MAX_TOPICS})
        if Topic.objects.filter(name__iexact=self.name).exclude(pk=self.pk).exists():
            raise ValidationError({"name": _("A topic with this name already exists.")})
