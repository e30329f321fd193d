"""The members pages' forms: the filter, tags, CSV import; and the member choices and labels other console
pages share (broadcast audiences, the dashboard, console_tags)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from leaders.models import validate_country_code
from members.services import tags_parse
from places.gazetteer import region_names_for, resolve_city
from topics.models import Topic

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


def audience_ranges_check(form: forms.Form, cleaned: dict) -> None:
    """The age and join-date ranges of an audience filter, the same on the members page and a broadcast."""
    low, high = cleaned.get("age_min"), cleaned.get("age_max")
    if low is not None and high is not None and low > high:
        form.add_error("age_max", _("The highest age is below the lowest."))
    after, before = cleaned.get("joined_after"), cleaned.get("joined_before")
    if after and before and after > before:
        form.add_error("joined_before", _("This date is before the first one."))


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

    def clean_region(self) -> str:
        value = self.cleaned_data["region"].strip()
        if value and not region_names_for(value):
            raise ValidationError(_("No region by this name is known."))
        return value

    def clean(self):
        cleaned = super().clean()
        audience_ranges_check(self, cleaned)
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
        """The plain dict members.selectors.members_filter reads."""
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


def export_filters(form: MembersFilterForm) -> dict[str, str | bool]:
    """The filter of an export as the teammate chose it, for the record of exports (members.ExportRecord):
    the fields given, as typed, except the search text (a name, a number or an email), noted only as used."""
    if not form.is_bound:
        return {}
    chosen: dict[str, str | bool] = {}
    for name in form.fields:
        value = (form.data.get(name) or "").strip()[:120]
        if value:
            chosen[name] = True if name == "q" else value
    return chosen


def export_filters_described(filters: dict) -> list[str]:
    """An export's recorded filter, one "label: value" per field, in the page's language."""
    described = []
    if "survey_name" in filters:  # an export of a survey's answers (console/surveys), not a filter of members
        return [str(_("Answers to the survey “%(name)s”") % {"name": filters["survey_name"]})]
    if "event_title" in filters:  # the attendees of an event (console/events)
        return [str(_("Attendees of the event “%(title)s”") % {"title": filters["event_title"]})]
    for name, value in filters.items():
        field = MembersFilterForm.base_fields.get(name)
        if field is None:
            continue
        if name == "q":
            described.append(str(_("a search (its text is not kept)")))
            continue
        choices = {str(key): label for key, label in getattr(field, "choices", None) or []}
        described.append(f"{field.label}: {choices.get(str(value), value)}")
    return described


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )

    def clean_tags(self) -> list[str]:
        return tags_parse(self.cleaned_data["tags"])


class TopicFollowForm(forms.Form):
    """A teammate adds a topic to what a member follows, or takes one away (`action`)."""

    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("This topic no longer exists.")},
    )
    action = forms.ChoiceField(choices=[("follow", "follow"), ("leave", "leave")], widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.all()


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


MEMBER_GENDER_LABELS = dict(GENDER_CHOICES)
MEMBER_STATUS_LABELS = dict(STATUS_CHOICES)
