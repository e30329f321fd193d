"""The settings page's forms: the leader's settings (with the signup page photo) and keyword replies."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from console.members.forms import LANGUAGE_CHOICES
from leaders.models import Leader, time_zone_choices
from messaging.keywords import (
    LEADER_STOP_WORD_MAX_LENGTH,
    LEADER_STOP_WORDS_MAX,
    STOP_WORDS_BY_LANGUAGE,
    Keyword,
    keyword_clean,
    keyword_fold,
    keyword_reserved,
)
from messaging.models import KeywordReply

# Image types the signup page shows, recognised by their first bytes (no image library needed).
IMAGE_SIGNATURES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"RIFF", ".webp"))
MAX_PHOTO_BYTES = 2 * 1024 * 1024
LEADER_STOP_WORD_MIN_LENGTH = 2
MAX_ANNOUNCEMENT_CAP = 100
_WORD_SEPARATORS = re.compile(r"[,;\n]")


def _compared(word: str) -> str:
    """How a leader's stop word and a keyword reply are compared with each other: folded, spaces dropped
    (the inbound path matches "OPT OUT" as "OPTOUT" too)."""
    return keyword_fold(word).replace(" ", "")


class LeaderSettingsForm(forms.ModelForm):
    allowed_countries = forms.CharField(
        label=_("Accepted countries"),
        required=False,
        help_text=_("Two-letter codes separated by commas (US, CA). Empty: any country."),
    )
    pilot_regions = forms.CharField(
        label=_("Pilot regions"),
        required=False,
        max_length=2000,
        help_text=_(
            "Only fans from these regions may join (Quebec, Ontario), separated by commas; the others are "
            "waitlisted and invited when their region opens. Empty: no pilot."
        ),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    default_language = forms.ChoiceField(label=_("Default language"), choices=LANGUAGE_CHOICES)
    signup_photo = forms.FileField(
        label=_("Signup page photo"), required=False, help_text=_("JPEG, PNG or WebP, at most 2 MB.")
    )
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)
    stop_words = forms.CharField(
        label=_("Your own stop words"),
        required=False,
        max_length=1000,
        help_text=_(
            "Extra words that opt a fan out, separated by commas (at most 20). "
            "Case, accents and punctuation are ignored."
        ),
    )

    class Meta:
        model = Leader
        fields = [
            "welcome_text",
            "help_text",
            "stop_words",
            "signup_intro",
            "voice_greeting",
            "minimum_age",
            "allowed_countries",
            "pilot_regions",
            "quiet_hours_start",
            "quiet_hours_end",
            "time_zone",
            "default_language",
            "approval_threshold",
            "announcement_cap",
            "sign_replies",
            "managers_see_phones",
        ]
        labels = {
            "welcome_text": _("Welcome reply"),
            "help_text": _("Help reply"),
            "signup_intro": _("Signup page text"),
            "voice_greeting": _("Voice greeting"),
            "minimum_age": _("Minimum age"),
            "quiet_hours_start": _("Quiet hours start"),
            "quiet_hours_end": _("Quiet hours end"),
            "approval_threshold": _("Approval threshold"),
            "announcement_cap": _("Broadcasts per member per week"),
            "sign_replies": _("Sign the team's replies"),
            "managers_see_phones": _("Managers see phone numbers"),
        }
        help_texts = {
            "welcome_text": _("The first answer to a new fan. Empty: the platform's text in their language."),
            "help_text": _("The answer to HELP. Empty: the platform's text."),
            "voice_greeting": _("What callers to the number hear."),
            "approval_threshold": _(
                "Broadcasts to more members than this need a second teammate's approval."
            ),
            "announcement_cap": _(
                "At most this many broadcasts reach a member in any 7 days; members over it are skipped "
                "(and counted on the broadcast's page), never sent later. 0: no limit."
            ),
            "sign_replies": _(
                "Each reply ends with “— ” and the teammate's display name (or full name, if they set none)."
            ),
            "managers_see_phones": _(
                "Off: managers see numbers masked (•••• 0142), as responders always do. Owners see them in full."
            ),
        }
        widgets = {
            "welcome_text": forms.Textarea(attrs={"rows": 2}),
            "help_text": forms.Textarea(attrs={"rows": 2}),
            "signup_intro": forms.Textarea(attrs={"rows": 3}),
            "voice_greeting": forms.Textarea(attrs={"rows": 3}),
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["announcement_cap"].required = False  # empty: no cap
        if self.instance and not self.is_bound:
            self.initial["allowed_countries"] = ", ".join(self.instance.allowed_countries or [])
            self.initial["pilot_regions"] = ", ".join(self.instance.pilot_regions or [])
            self.initial["stop_words"] = ", ".join(self.instance.stop_words or [])

    @property
    def required_stop_words(self) -> list[str]:
        """The words that stop texts for every leader, in every language: shown, never editable."""
        return [word for words in STOP_WORDS_BY_LANGUAGE.values() for word in words]

    def clean_announcement_cap(self) -> int:
        """Left empty: no cap (0). At most MAX_ANNOUNCEMENT_CAP a week: above that a cap protects no one."""
        cap = self.cleaned_data.get("announcement_cap") or 0
        if cap > MAX_ANNOUNCEMENT_CAP:
            raise ValidationError(
                _("At most %(n)d broadcasts a week; 0 for no limit.") % {"n": MAX_ANNOUNCEMENT_CAP}
            )
        return cap

    def clean_allowed_countries(self) -> list[str]:
        codes = sorted(
            {
                c.strip().upper()
                for c in self.cleaned_data["allowed_countries"].replace(";", ",").split(",")
                if c.strip()
            }
        )
        bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValidationError(_("Not country codes: %(codes)s") % {"codes": ", ".join(bad)})
        return codes

    def clean_pilot_regions(self) -> list[str]:
        """The names as typed; the model checks them against the gazetteer and the accepted countries
        (leaders.models.pilot_regions_clean, in Leader.clean) and stores the gazetteer's names."""
        return [
            name.strip()
            for name in _WORD_SEPARATORS.split(self.cleaned_data["pilot_regions"])
            if name.strip()
        ]

    def clean_stop_words(self) -> list[str]:
        """The leader's own stop words as stored (messaging.keywords.keyword_clean: "désinscrire" →
        "DÉSINSCRIRE"), in the order typed, repeats (accents and case aside) dropped. Refused: a word
        too short or too long or without a letter, a word every leader already has, a start or help
        word in any language, one of the leader's keyword replies, more than LEADER_STOP_WORDS_MAX."""
        words: dict[str, str] = {}
        errors: list[ValidationError] = []
        replies = {_compared(keyword) for keyword in KeywordReply.objects.values_list("keyword", flat=True)}
        for part in _WORD_SEPARATORS.split(self.cleaned_data["stop_words"]):
            word = keyword_clean(part)
            if not word or _compared(word) in words:
                continue
            words[_compared(word)] = word
            values = {"word": word, "max": LEADER_STOP_WORD_MAX_LENGTH}
            reserved = keyword_reserved(word)
            if len(word) > LEADER_STOP_WORD_MAX_LENGTH:
                errors.append(
                    ValidationError(_("%(word)s is longer than %(max)s characters."), params=values)
                )
            elif len(word) < LEADER_STOP_WORD_MIN_LENGTH:
                errors.append(ValidationError(_("%(word)s is too short to be a stop word."), params=values))
            elif not any(c.isalpha() for c in word):
                errors.append(
                    ValidationError(_("%(word)s is not a word: a stop word has letters."), params=values)
                )
            elif reserved == Keyword.STOP:
                errors.append(ValidationError(_("%(word)s is already a stop word."), params=values))
            elif reserved == Keyword.HELP:
                errors.append(
                    ValidationError(_("%(word)s is a help word: it can't also stop texts."), params=values)
                )
            elif reserved == Keyword.START:
                errors.append(
                    ValidationError(_("%(word)s is a start word: it can't also stop texts."), params=values)
                )
            elif _compared(word) in replies:
                errors.append(
                    ValidationError(
                        _(
                            "%(word)s is one of your keyword replies: remove that keyword first, or choose another word."
                        ),
                        params=values,
                    )
                )
        if len(words) > LEADER_STOP_WORDS_MAX:
            errors.append(
                ValidationError(_("At most %(max)s stop words."), params={"max": LEADER_STOP_WORDS_MAX})
            )
        if errors:
            raise ValidationError(errors)
        return list(words.values())

    def clean_minimum_age(self) -> int:
        value = self.cleaned_data["minimum_age"]
        if not 13 <= value <= 21:
            raise ValidationError(_("The minimum age is between 13 and 21."))
        return value

    def clean_signup_photo(self):
        photo = self.cleaned_data.get("signup_photo")
        if not photo:
            return None
        if photo.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("The photo is larger than 2 MB."))
        head = photo.read(12)
        photo.seek(0)
        for signature, extension in IMAGE_SIGNATURES:
            if head.startswith(signature) and (extension != ".webp" or head[8:12] == b"WEBP"):
                photo.name = "signup" + extension
                return photo
        raise ValidationError(_("The photo must be a JPEG, PNG or WebP image."))

    def save(self, commit: bool = True) -> Leader:
        leader = super().save(commit=False)
        if self.cleaned_data.get("remove_photo") and leader.signup_photo:
            leader.signup_photo.delete(save=False)
        if self.cleaned_data.get("signup_photo"):
            if leader.signup_photo:
                leader.signup_photo.delete(save=False)
            leader.signup_photo = self.cleaned_data["signup_photo"]
        if commit:
            leader.save()
        return leader


def keyword_replies_listed(leader) -> list[KeywordReply]:
    """The leader's keyword replies for the settings page, each marked `shadowed` when a text of it would
    never get the reply: a stop, start or help word (one added to the platform after the keyword was) or
    one of the leader's own stop words, which the inbound path honours first."""
    stop_words = {_compared(word) for word in leader.stop_words}
    keywords = list(KeywordReply.objects.all())
    for keyword in keywords:
        keyword.shadowed = bool(keyword_reserved(keyword.keyword)) or _compared(keyword.keyword) in stop_words
    return keywords


class KeywordReplyForm(forms.ModelForm):
    """A keyword reply; the model refuses every stop, start and help word (KeywordReply.clean), the form
    also the leader's own stop words, which the inbound path would take first."""

    class Meta:
        model = KeywordReply
        fields = ["keyword", "reply", "tag"]
        labels = {"keyword": _("Keyword"), "reply": _("Reply"), "tag": _("Tag given to the member")}
        widgets = {"reply": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, leader=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.leader = leader

    def clean_keyword(self) -> str:
        keyword = self.cleaned_data["keyword"]
        stop_words = {_compared(word) for word in (self.leader.stop_words if self.leader else [])}
        if keyword_clean(keyword) and _compared(keyword) in stop_words:
            raise ValidationError(
                _("%(keyword)s is one of your stop words."), params={"keyword": keyword_clean(keyword)}
            )
        return keyword
