"""The settings page's forms: the leader's settings (with the signup page photo) and keyword replies."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from console.members.forms import LANGUAGE_CHOICES
from leaders.models import Leader
from messaging.models import KeywordReply

# Image types the signup page shows, recognised by their first bytes (no image library needed).
IMAGE_SIGNATURES = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"), (b"RIFF", ".webp"))
MAX_PHOTO_BYTES = 2 * 1024 * 1024


class LeaderSettingsForm(forms.ModelForm):
    allowed_countries = forms.CharField(
        label=_("Accepted countries"),
        required=False,
        help_text=_("Two-letter codes separated by commas (US, CA). Empty: any country."),
    )
    time_zone = forms.CharField(
        label=_("Time zone"), max_length=64, help_text=_("For example America/Toronto.")
    )
    default_language = forms.ChoiceField(label=_("Default language"), choices=LANGUAGE_CHOICES)
    signup_photo = forms.FileField(
        label=_("Signup page photo"), required=False, help_text=_("JPEG, PNG or WebP, at most 2 MB.")
    )
    remove_photo = forms.BooleanField(label=_("Remove the photo"), required=False)

    class Meta:
        model = Leader
        fields = [
            "welcome_text",
            "help_text",
            "signup_intro",
            "voice_greeting",
            "minimum_age",
            "allowed_countries",
            "quiet_hours_start",
            "quiet_hours_end",
            "time_zone",
            "default_language",
            "approval_threshold",
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
        }
        help_texts = {
            "welcome_text": _("The first answer to a new fan. Empty: the platform's text in their language."),
            "help_text": _("The answer to HELP. Empty: the platform's text."),
            "voice_greeting": _("What callers to the number hear."),
            "approval_threshold": _(
                "Broadcasts to more members than this need a second teammate's approval."
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
        if self.instance and not self.is_bound:
            self.initial["allowed_countries"] = ", ".join(self.instance.allowed_countries or [])

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

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"].strip()
        if value not in zoneinfo.available_timezones():
            raise ValidationError(_("Unknown time zone. Use a name like America/Toronto."))
        return value

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


class KeywordReplyForm(forms.ModelForm):
    class Meta:
        model = KeywordReply
        fields = ["keyword", "reply", "tag"]
        labels = {"keyword": _("Keyword"), "reply": _("Reply"), "tag": _("Tag given to the member")}
        widgets = {"reply": forms.Textarea(attrs={"rows": 2})}
