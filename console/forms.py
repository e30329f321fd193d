"""Console forms: the members filter, tags, CSV import, the leader's settings, keyword replies."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from console.services import tags_parse
from leaders.models import Leader, validate_country_code
from messaging.models import KeywordReply
from places.gazetteer import resolve_city

GENDER_CHOICES = [
    ("female", _("Female")),
    ("male", _("Male")),
    ("non_binary", _("Non-binary")),
    ("another", _("Another gender")),
    ("undisclosed", _("Prefer not to say")),
]
STATUS_CHOICES = [("subscribed", _("Subscribed")), ("opted_out", _("Opted out"))]
LANGUAGE_CHOICES = list(settings.LANGUAGES)
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices) -> list:
    return [("", _("Any"))] + list(choices)


class MembersFilterForm(forms.Form):
    """The members page's search and filters, read from the query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    country = forms.CharField(label=_("Country code"), required=False, max_length=2)
    region = forms.CharField(label=_("Region"), required=False, max_length=120)
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    near_km = forms.IntegerField(
        label=_("Within (km)"),
        required=False,
        min_value=1,
        max_value=2000,
        help_text=_("Of the city: members nearby too."),
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=_blank(GENDER_CHOICES))
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_blank(LANGUAGE_CHOICES))
    tag = forms.CharField(label=_("Tag"), required=False, max_length=50)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_blank(STATUS_CHOICES))
    joined_after = forms.DateField(label=_("Joined from"), required=False, widget=DATE_INPUT)
    joined_before = forms.DateField(label=_("Joined until"), required=False, widget=DATE_INPUT)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value:
            try:
                validate_country_code(value)
            except ValidationError:
                raise ValidationError(_("Use a two-letter country code, like CA.")) from None
        return value

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("age_min"), cleaned.get("age_max")
        if low is not None and high is not None and low > high:
            self.add_error("age_max", _("The highest age is below the lowest."))
        after, before = cleaned.get("joined_after"), cleaned.get("joined_before")
        if after and before and after > before:
            self.add_error("joined_before", _("This date is before the first one."))
        city = (cleaned.get("city") or "").strip()
        if cleaned.get("near_km") and not city:
            self.add_error("city", _("Which city?"))
        cleaned["place_id"] = None
        if city:
            place = resolve_city(city, country=cleaned.get("country") or None)
            if place is None:
                self.add_error("city", _("No city by this name is known."))
            else:
                cleaned["place_id"] = place.geoname_id
        return cleaned

    def to_filters(self) -> dict:
        """The plain dict console.selectors.members_filter reads."""
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "countries": [data["country"]] if data.get("country") else [],
            "regions": [data["region"].strip()] if (data.get("region") or "").strip() else [],
            "place_ids": [data["place_id"]] if data.get("place_id") and not data.get("near_km") else [],
            "near": {"place_id": data["place_id"], "km": data["near_km"]}
            if data.get("place_id") and data.get("near_km")
            else None,
            "genders": [data["gender"]] if data.get("gender") else [],
            "age_min": data.get("age_min"),
            "age_max": data.get("age_max"),
            "languages": [data["language"]] if data.get("language") else [],
            "tags": tags_parse(data.get("tag") or ""),
            "status": data.get("status") or "",
            "joined_after": data.get("joined_after"),
            "joined_before": data.get("joined_before"),
        }


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )

    def clean_tags(self) -> list[str]:
        return tags_parse(self.cleaned_data["tags"])


class ImportForm(forms.Form):
    file = forms.FileField(label=_("CSV file"), help_text=_("UTF-8, first line: column names."))
    consent_description = forms.CharField(
        label=_("How did these people agree to receive texts?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Kept in each member's consent record, for example: signed up at the rally on 2026-05-01."
        ),
    )
    default_country = forms.CharField(
        label=_("Country of numbers written without +"),
        max_length=2,
        initial="US",
        help_text=_("Two-letter code, like US or CA."),
    )

    def clean_default_country(self) -> str:
        value = self.cleaned_data["default_country"].strip().upper()
        try:
            validate_country_code(value)
        except ValidationError:
            raise ValidationError(_("Use a two-letter country code, like CA.")) from None
        return value


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


MEMBER_GENDER_LABELS = dict(GENDER_CHOICES)
MEMBER_STATUS_LABELS = dict(STATUS_CHOICES)
