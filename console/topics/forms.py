"""Forms of the topics page: a topic (its examples one per line, its keywords separated by commas) and the
leader's triage threshold. The limits are the model's (topics.models): the form shows its errors by field."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from topics.models import MAX_EXAMPLE_LENGTH, MAX_EXAMPLES, MAX_KEYWORDS, Topic
from triage.models import DEFAULT_THRESHOLD


class TopicForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=60, error_messages={"required": _("Give the topic a name.")}
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What texts about it say, in a sentence."),
    )
    examples = forms.CharField(
        label=_("Examples"),
        required=False,
        max_length=MAX_EXAMPLES * (MAX_EXAMPLE_LENGTH + 2),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Texts as fans write them, one per line, in any language (at most 20)."),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        max_length=MAX_KEYWORDS * 42,
        help_text=_("Separated by commas. A text with one of these words gets this topic."),
    )

    def __init__(self, *args, instance: Topic | None = None, **kwargs):
        self.instance = instance or Topic()
        data = args[0] if args else kwargs.get("data")
        if instance is not None and data is None:
            kwargs["initial"] = {
                "name": instance.name,
                "description": instance.description,
                "examples": "\n".join(instance.examples),
                "keywords": ", ".join(instance.keywords),
            }
        super().__init__(*args, **kwargs)

    def clean_examples(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["examples"].splitlines() if line.strip()]
        if len(lines) > MAX_EXAMPLES:
            raise ValidationError(
                _("%(count)d examples: at most %(n)d.") % {"count": len(lines), "n": MAX_EXAMPLES}
            )
        for line in lines:
            if len(line) > MAX_EXAMPLE_LENGTH:
                raise ValidationError(
                    _("An example is at most %(n)d characters long.") % {"n": MAX_EXAMPLE_LENGTH}
                )
        return lines

    def clean_keywords(self) -> list[str]:
        words = [word.strip() for word in self.cleaned_data["keywords"].replace(";", ",").split(",")]
        words = [word for word in words if word]
        if any(len(word) > 40 for word in words):
            raise ValidationError(_("A keyword is at most 40 characters long."))
        return words

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        topic = self.instance
        topic.name = cleaned["name"]
        topic.description = cleaned.get("description") or ""
        topic.examples = cleaned.get("examples") or []
        topic.keywords = cleaned.get("keywords") or []
        try:
            # The model's rules: at most MAX_TOPICS, examples and keywords, one topic per name (any case).
            topic.full_clean(validate_constraints=False)
        except ValidationError as error:
            self.add_error(None, error)
        return cleaned


class ThresholdForm(forms.Form):
    threshold = forms.FloatField(
        label=_("Confidence needed to sort a text"),
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
        error_messages={"required": _("Give a number between 0 and 1.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["threshold"].help_text = _(
            "Between 0 and 1. Below it a text stays unsorted rather than guessed. The default is %(default)s."
        ) % {"default": DEFAULT_THRESHOLD}
