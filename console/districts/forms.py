"""The district form: places and regions typed one per line, as people write them ("Laval, QC",
"Montréal, Quebec, Canada"; "Ontario", "QC"), resolved here to the gazetteer's places; the workflow
(districts.services.district_save) checks the rest."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from districts.models import District
from districts.services import COORDINATOR_ROLES
from places.gazetteer import resolve_city


class _TeammateChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.display_name or obj.get_full_name()
        label = f"{obj.username} ({name})" if name else obj.username
        return f"{label} · {obj.get_role_display()}"


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


class DistrictForm(forms.Form):
    name = forms.CharField(label=_("District name"), max_length=District.NAME_MAX_LENGTH)
    places = forms.CharField(
        label=_("Cities and towns"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line, with its region when the name is common: “Laval, QC”."),
    )
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Whole states or provinces, one per line (Quebec, ON). A member is in the district when "
            "their city or their region is listed; in two districts, they are in none."
        ),
    )
    coordinators = _TeammateChoice(
        label=_("Coordinators"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Volunteers of the district are given to the coordinator with the fewest open conversations. "
            "Responders never see members' numbers; owners do, and managers unless you turned it off."
        ),
        error_messages={
            "invalid_choice": _("Choose coordinators from the list."),
            "invalid_pk_value": _("Choose coordinators from the list."),
        },
    )

    def __init__(self, *args, countries=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Only the leader's own countries may hint a city's country (a single one: "Laval" is Quebec's).
        self.country_hint = countries[0] if len(countries) == 1 else None
        self.fields["coordinators"].queryset = (
            get_user_model().objects.filter(role__in=COORDINATOR_ROLES, is_active=True).order_by("username")
        )

    @classmethod
    def initial_for(cls, district: District) -> dict:
        return {
            "name": district.name,
            "places": "\n".join(district.place_labels),
            "regions": "\n".join(district.regions),
            "coordinators": list(district.coordinators.values_list("pk", flat=True)),
        }

    def clean_places(self) -> list[int]:
        ids, unknown = [], []
        for line in _lines(self.cleaned_data.get("places", "")):
            place = resolve_city(line, country=self.country_hint)
            if place is None:
                unknown.append(line)
            elif place.geoname_id not in ids:
                ids.append(place.geoname_id)
        if unknown:
            raise ValidationError(
                _("No city called %(names)s: add its region (“Laval, QC”) or choose the nearest town.")
                % {"names": ", ".join(f"“{name}”" for name in unknown[:5])}
            )
        return ids

    def clean_regions(self) -> list[str]:
        return _lines(self.cleaned_data.get("regions", ""))
