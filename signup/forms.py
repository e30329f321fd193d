"""The signup form: what a fan types after opening their personal link. The phone is never asked: the link
knows it."""

from __future__ import annotations

import datetime
import unicodedata

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from members.models import Member
from places.gazetteer import MAX_INPUT_LENGTH, Place, resolve_city
from signup.services import SignupDetails
from topics.cache import TopicRef
from topics.models import Topic

NAME_MAX_LENGTH = 60  # Member.first_name / last_name
CITY_MAX_LENGTH = 120  # Member.city
OLDEST_AGE = 120

# Zero-width joiner and non-joiner are part of how Persian, Indic and emoji names are written.
_ALLOWED_FORMAT_CHARACTERS = {"\u200c", "\u200d"}


def _has_hidden_characters(value: str) -> bool:
    """Control, format, private-use or unassigned characters: nothing a person types in a name or city."""
    return any(
        unicodedata.category(ch).startswith("C") and ch not in _ALLOWED_FORMAT_CHARACTERS for ch in value
    )


# Django renders each widget through the template engine: about a millisecond per field, half of the page's
# time. These widgets write the same HTML directly (the page must stay well under 20 ms).
class _DirectInputMixin:
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        html = format_html('<input type="{}" name="{}"', widget["type"], widget["name"])
        if widget["value"] is not None:
            html += format_html(' value="{}"', str(widget["value"]))
        return format_html("{}{}>", html, flatatt(widget["attrs"]))


class TextInput(_DirectInputMixin, forms.TextInput):
    pass


class EmailInput(_DirectInputMixin, forms.EmailInput):
    pass


class DateInput(_DirectInputMixin, forms.DateInput):
    pass


class CheckboxInput(_DirectInputMixin, forms.CheckboxInput):
    pass


class Select(forms.Select):
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], flatatt(option["attrs"]), option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options
        )


def _gender_choices() -> list[tuple[str, str]]:
    return [
        ("", pgettext_lazy("gender", "Choose…")),
        (Member.Gender.FEMALE, pgettext_lazy("gender", "Female")),
        (Member.Gender.MALE, pgettext_lazy("gender", "Male")),
        (Member.Gender.NON_BINARY, pgettext_lazy("gender", "Non-binary")),
        (Member.Gender.ANOTHER, pgettext_lazy("gender", "Another gender")),
        (Member.Gender.UNDISCLOSED, pgettext_lazy("gender", "Prefer not to say")),
    ]


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


class SignupForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": _("Enter your first name."),
            "max_length": _("Use at most %(limit_value)d characters."),
        },
        widget=TextInput(attrs={"autocomplete": "given-name", "autocapitalize": "words"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        required=False,
        max_length=NAME_MAX_LENGTH,
        error_messages={"max_length": _("Use at most %(limit_value)d characters.")},
        widget=TextInput(attrs={"autocomplete": "family-name", "autocapitalize": "words"}),
    )
    gender = forms.ChoiceField(
        label=_("Gender"),
        widget=Select,
        choices=_gender_choices,
        error_messages={
            "required": _("Choose an answer, or “Prefer not to say”."),
            "invalid_choice": _("Choose one of the answers in the list."),
        },
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": _("Enter your birth date."),
            "invalid": _("Enter a date, like 1990-07-14."),
        },
        widget=DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=CITY_MAX_LENGTH,
        error_messages={
            "required": _("Enter the city where you live."),
            "max_length": _("Use at most %(limit_value)d characters."),
        },
        widget=TextInput(
            attrs={"autocomplete": "address-level2", "list": "city-options", "autocapitalize": "words"}
        ),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        max_length=254,
        error_messages={
            "invalid": _("Enter an email address like name@example.org."),
            "max_length": _("Use at most %(limit_value)d characters."),
        },
        widget=EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
    )
    consent = forms.BooleanField(
        label=_("Consent"),
        widget=CheckboxInput,
        error_messages={"required": _("Tick the box to agree to get texts, or close this page.")},
    )
    # The honeypot: hidden from people (and from screen readers), filled in by bots that fill every field.
    website = forms.CharField(required=False, widget=TextInput(attrs={"autocomplete": "off"}))

    def __init__(
        self,
        *args,
        minimum_age: int = 13,
        today: datetime.date,
        country: str | None,
        pilot_regions: list[str] | tuple[str, ...] = (),
        topics: tuple[TopicRef, ...] = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.minimum_age = minimum_age
        self.today = today
        self.country = country
        # A leader's pilot (Leader.pilot_regions; empty: none): a city elsewhere is refused, and
        # `outside_pilot` holds the place, for the waitlist.
        self.pilot_regions = tuple(pilot_regions)
        self.place: Place | None = None
        self.outside_pilot: Place | None = None
        if topics:
            # "What matters to you?": only when the leader has topics; optional, any number of them.
            self.fields["topics"] = forms.TypedMultipleChoiceField(
                label=_("What matters to you?"),
                required=False,
                coerce=int,
                choices=[(str(topic.id), topic.name) for topic in topics],
                widget=forms.CheckboxSelectMultiple,
                error_messages={"invalid_choice": _("Choose among the topics shown.")},
            )
        self._describe_fields()

    # Fields whose hint the template shows under the label (ids "<field id>_hint").
    HINTED_FIELDS = ("birth_date", "city")

    def _describe_fields(self) -> None:
        """Tie hints and errors to their inputs (aria-describedby), mark invalid ones (aria-invalid)."""
        for name, field in self.fields.items():
            auto_id = self.auto_id % name
            described_by = [f"{auto_id}_hint"] if name in self.HINTED_FIELDS else []
            if self.is_bound and name in self.errors:
                described_by.append(f"{auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if described_by:
                field.widget.attrs["aria-describedby"] = " ".join(described_by)
            if field.required and name != "consent":
                field.widget.attrs["aria-required"] = "true"

    def full_clean(self) -> None:
        super().full_clean()
        self._describe_fields()

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def _clean_text(self, name: str) -> str:
        value = " ".join(self.cleaned_data.get(name, "").split())
        if _has_hidden_characters(value):
            raise forms.ValidationError(_("Remove the invisible or special characters."), code="hidden")
        return value

    def clean_first_name(self) -> str:
        value = self._clean_text("first_name")
        if not value:
            raise forms.ValidationError(_("Enter your first name."), code="required")
        return value

    def clean_last_name(self) -> str:
        return self._clean_text("last_name")

    def clean_city(self) -> str:
        value = self._clean_text("city")
        if not value:
            raise forms.ValidationError(_("Enter the city where you live."), code="required")
        # An unknown city is kept as typed; the place fields stay blank.
        self.place = resolve_city(value[:MAX_INPUT_LENGTH], country=self.country)
        if self.pilot_regions:
            self._check_pilot(self.place)
        return value

    def _check_pilot(self, place: Place | None) -> None:
        """During a pilot the city decides: one the gazetteer cannot place could be anywhere, so the fan is
        asked for the nearest town it knows; one outside the pilot's regions is "not there yet"."""
        if place is None:
            raise forms.ValidationError(
                _("We can't find this city. Pick it from the list, or type the nearest town."),
                code="pilot_unknown",
            )
        if place.region not in self.pilot_regions:
            self.outside_pilot = place
            raise forms.ValidationError(
                _("We're not in %(region)s yet. We'll text you when we are.")
                % {"region": place.region or place.country_name},
                code="pilot_outside",
            )

    def clean_birth_date(self) -> datetime.date:
        born = self.cleaned_data["birth_date"]
        if born > self.today:
            raise forms.ValidationError(_("Your birth date cannot be in the future."), code="future")
        age = age_on(born, self.today)
        if age > OLDEST_AGE:
            raise forms.ValidationError(_("Check the year of your birth date."), code="too_old")
        if age < self.minimum_age:
            raise forms.ValidationError(
                _("You must be at least %(age)d years old to join.") % {"age": self.minimum_age},
                code="too_young",
            )
        return born

    def clean_email(self) -> str:
        return self.cleaned_data.get("email", "").strip()

    def topic_choices(self) -> list[tuple[str, str, bool]]:
        """(value, name, ticked) of each topic the page offers, for the template's own checkboxes (written
        directly: Django's widget templates would cost the page a millisecond each)."""
        field = self.fields.get("topics")
        if field is None:
            return []
        ticked = {str(value) for value in (self["topics"].value() or [])}
        return [(value, name, value in ticked) for value, name in field.choices]

    def details(self) -> SignupDetails:
        data = self.cleaned_data
        chosen = data.get("topics") or []
        return SignupDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            gender=data["gender"],
            birth_date=data["birth_date"],
            email=data["email"],
            city=data["city"],
            place=self.place,
            # A topic deleted since the page was shown is simply not followed.
            topics=tuple(Topic.objects.filter(pk__in=chosen).order_by("position", "id")) if chosen else (),
        )
