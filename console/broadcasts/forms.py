"""The broadcast composer's form: the message, its audience (an AudienceFilter's JSON form) and when."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from console.broadcasts.selectors import answer_filter_choices
from console.members.forms import DATE_INPUT, GENDER_CHOICES, LANGUAGE_CHOICES, audience_ranges_check
from members.services import tags_parse
from messaging.models import Broadcast
from places.gazetteer import region_names_for, resolve_city
from topics.models import Topic

WHEN_CHOICES = [("now", _("Send now")), ("later", _("Schedule"))]
MAX_CITIES = 50


def _split(text: str, separators: str = ",") -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def answered_filter(values: list[str]) -> list[dict[str, Any]]:
    """The "Answered" boxes ticked ("<question>:<choice>", checked against the offered choices) as the
    audience filter's `answered`: [{"question": 12, "choices": [1, 3]}, …]."""
    by_question: dict[int, list[int]] = {}
    for value in values:
        question, _sep, choice = value.partition(":")
        by_question.setdefault(int(question), []).append(int(choice))
    return [
        {"question": question, "choices": sorted(choices)}
        for question, choices in sorted(by_question.items())
    ]


class BroadcastForm(forms.Form):
    body = forms.CharField(
        label=_("Message"),
        max_length=Broadcast.MAX_BODY_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("{first_name} is replaced by each member's first name."),
        error_messages={
            "required": _("Write the message."),
            "max_length": _("The message is %(show_value)d characters long; the limit is %(limit_value)d."),
        },
    )
    cities = forms.CharField(
        label=_("Cities"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, like: Montréal, Quebec, Canada."),
    )
    regions = forms.CharField(
        label=_("Regions"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    countries = forms.CharField(
        label=_("Countries"), required=False, max_length=300, help_text=_("Two-letter codes, like US, CA.")
    )
    near_place = forms.CharField(label=_("Near the city"), required=False, max_length=200)
    near_km = forms.IntegerField(label=_("Within (km)"), required=False, min_value=1, max_value=2000)
    genders = forms.MultipleChoiceField(
        label=_("Gender"), required=False, choices=GENDER_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    languages = forms.MultipleChoiceField(
        label=_("Language"), required=False, choices=LANGUAGE_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    joined_after = forms.DateField(label=_("Joined from"), required=False, widget=DATE_INPUT)
    joined_before = forms.DateField(label=_("Joined until"), required=False, widget=DATE_INPUT)
    tags_any = forms.CharField(
        label=_("Has any of the tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    tags_all = forms.CharField(
        label=_("Has all of the tags"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    wrote_about = forms.MultipleChoiceField(
        label=_("Wrote about topic"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members who wrote about any of these topics."),
    )
    follows = forms.MultipleChoiceField(
        label=_("Follows topic"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members who follow any of these topics; those who left a topic are never in it."),
    )
    answered = forms.MultipleChoiceField(
        label=_("Answered to a survey question"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Members whose answer to the question includes any of the choices ticked under it; "
            "choices under several questions must all match."
        ),
    )
    when = forms.ChoiceField(
        label=_("When"), choices=WHEN_CHOICES, initial="now", widget=forms.RadioSelect, required=False
    )
    send_at = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
    )
    quiet_hours = forms.BooleanField(
        label=_("Respect quiet hours"),
        required=False,
        initial=True,
        help_text=_("Members in quiet hours get the message when their sending window opens."),
    )

    def __init__(self, *args, leader, **kwargs):
        self.leader = leader
        super().__init__(*args, **kwargs)
        # Let the writer go over the limit and see the counter say so, rather than the browser cutting text.
        self.fields["body"].widget.attrs.pop("maxlength", None)
        # The zone itself is named once per page, at its foot (templates/console/base.html).
        self.fields["send_at"].help_text = _("In your time zone.")
        topics = [(str(pk), name) for pk, name in Topic.objects.values_list("pk", "name")]
        self.fields["wrote_about"].choices = topics
        self.fields["follows"].choices = topics
        self.fields["answered"].choices = answer_filter_choices(default_language=leader.default_language)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        if not body.strip():
            raise forms.ValidationError(_("Write the message."))
        return body

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        place_ids: list[int] = []
        cities = _split(cleaned.get("cities") or "", "\n;")
        if len(cities) > MAX_CITIES:
            self.add_error("cities", _("At most %(n)d cities.") % {"n": MAX_CITIES})
        for name in cities[:MAX_CITIES]:
            place = resolve_city(name)
            if place is None:
                self.add_error("cities", _("No city called “%(name)s” is known.") % {"name": name})
            else:
                place_ids.append(place.geoname_id)
        cleaned["place_ids"] = place_ids
        near = None
        near_place = (cleaned.get("near_place") or "").strip()
        if near_place or cleaned.get("near_km"):
            if not near_place:
                self.add_error("near_place", _("Which city?"))
            elif not cleaned.get("near_km"):
                self.add_error("near_km", _("How many kilometres?"))
            else:
                place = resolve_city(near_place)
                if place is None:
                    self.add_error(
                        "near_place", _("No city called “%(name)s” is known.") % {"name": near_place}
                    )
                else:
                    near = {"place_id": place.geoname_id, "km": cleaned["near_km"]}
        cleaned["near"] = near
        for name in _split(cleaned.get("regions") or ""):
            if not region_names_for(name):
                self.add_error("regions", _("No region called “%(name)s” is known.") % {"name": name})
        countries = [code.upper() for code in _split(cleaned.get("countries") or "")]
        if any(len(code) != 2 or not code.isalpha() for code in countries):
            self.add_error("countries", _("Use two-letter country codes, like CA."))
        cleaned["country_codes"] = countries
        audience_ranges_check(self, cleaned)
        cleaned["send_at_utc"] = None
        if cleaned.get("when") == "later":
            send_at = cleaned.get("send_at")
            if send_at is None:
                if "send_at" not in self.errors:
                    self.add_error("send_at", _("Choose the date and time."))
            else:
                zone = self.leader_zone()
                moment = send_at.replace(tzinfo=None).replace(tzinfo=zone)
                if moment <= timezone.now():
                    self.add_error("send_at", _("This time is in the past."))
                else:
                    cleaned["send_at_utc"] = moment.astimezone(datetime.UTC)
        return cleaned

    def leader_zone(self) -> zoneinfo.ZoneInfo:
        return self.leader.zone

    def filters(self) -> dict[str, Any]:
        """The audience in AudienceFilter's JSON form (members.audience)."""
        data = self.cleaned_data
        filters: dict[str, Any] = {
            "place_ids": data.get("place_ids") or [],
            "regions": _split(data.get("regions") or ""),
            "countries": data.get("country_codes") or [],
            "genders": data.get("genders") or [],
            "age_min": data.get("age_min"),
            "age_max": data.get("age_max"),
            "languages": data.get("languages") or [],
            "joined_after": data["joined_after"].isoformat() if data.get("joined_after") else None,
            # A date is inclusive: members who joined that day are in.
            "joined_before": (data["joined_before"] + datetime.timedelta(days=1)).isoformat()
            if data.get("joined_before")
            else None,
            "tags_any": tags_parse(data.get("tags_any") or ""),
            "tags_all": tags_parse(data.get("tags_all") or ""),
            "wrote_about": [int(pk) for pk in data.get("wrote_about") or []],
            "follows": [int(pk) for pk in data.get("follows") or []],
            "answered": answered_filter(data.get("answered") or []),
        }
        if data.get("near"):
            filters["near"] = data["near"]
        return {key: value for key, value in filters.items() if value not in (None, [], "")}
