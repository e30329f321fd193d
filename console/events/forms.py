"""The events pages' forms: an event (venue, times in the venue's zone, seats, RSVP deadline, code word,
languages, reminders) and its alert (the message and who gets it).

The forms own the checks a teammate can get wrong, each with an error under its input; the events engine's
models hold the same rules as constraints, so nothing the forms let through can break them.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.phones import phone_normalize
from events.models import DEFAULT_REMINDER_OFFSETS, MAX_REMINDERS, Event
from events.services import CODE_WORD, MAX_OFFSET_MINUTES
from members.models import Member
from messaging.models import Broadcast
from places.gazetteer import Place, get_place, region_names_for, resolve_city
from topics.models import Topic

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# Values written the same in every language (numbers, zone names, "24 h"): left to right in Arabic too.
LTR = {"dir": "ltr"}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
LANGUAGE_CHOICES = list(settings.LANGUAGES)
DEFAULT_RADIUS_KM = 25
MAX_RADIUS_KM = 2000
# Reminders are written as "24 h, 2 h" (or "1 d", "90 min"): units a teammate reads at a glance.
_OFFSET = re.compile(r"^(\d{1,5})\s*(d|days?|h|hours?|m|mins?|minutes?)$", re.IGNORECASE)
_UNIT_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
# The coordinates' decimals a venue needs (about a metre); more is noise from a map.
COORDINATE_PLACES = 6


def _split(text: str, separators: str = ",") -> list[str]:
    for separator in separators[1:]:
        text = text.replace(separator, separators[0])
    return [part.strip() for part in text.split(separators[0]) if part.strip()]


def offsets_text(offsets: list[int]) -> str:
    """[1440, 120, 5] → "24 h, 2 h, 5 min": how the form shows reminders it was given."""
    parts = []
    for minutes in offsets:
        if minutes % 60 == 0:
            parts.append(f"{minutes // 60} h")
        else:
            parts.append(f"{minutes} min")
    return ", ".join(parts)


def offsets_parse(text: str) -> list[int]:
    """ "24 h, 2 h, 5 min" → [1440, 120, 5], latest first; forms.ValidationError naming the first wrong part."""
    offsets: list[int] = []
    for part in _split(text or "", ",;"):
        match = _OFFSET.match(part)
        if match is None:
            raise forms.ValidationError(
                _("“%(part)s” is not a time before the start: write it like 24 h, 2 h or 10 min.")
                % {"part": part[:40]}
            )
        minutes = int(match.group(1)) * _UNIT_MINUTES[match.group(2)[0].lower()]
        if not 1 <= minutes <= MAX_OFFSET_MINUTES:
            raise forms.ValidationError(
                _("A reminder goes between 1 minute and 14 days before the start, not “%(part)s”.")
                % {"part": part[:40]}
            )
        if minutes in offsets:
            raise forms.ValidationError(_("“%(part)s” is there twice.") % {"part": part[:40]})
        offsets.append(minutes)
    if len(offsets) > MAX_REMINDERS:
        raise forms.ValidationError(_("At most %(n)d reminders.") % {"n": MAX_REMINDERS})
    return sorted(offsets, reverse=True)


def _aware(value: datetime.datetime | None, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    """A time typed on the page, read in the venue's zone (the browser sends it without a zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=None).replace(tzinfo=zone).astimezone(datetime.UTC)


class EventForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=Event._meta.get_field("title").max_length,
        error_messages={"required": _("Give the event a title.")},
        help_text=_("Members see it in the alert and the reminders."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=Event._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    place = forms.CharField(
        label=_("City"),
        required=False,
        max_length=200,
        help_text=_("Like: Montréal, Quebec, Canada. Or leave it empty and give the coordinates."),
        widget=forms.TextInput(attrs={"list": "place-options", "autocomplete": "off"}),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=Event._meta.get_field("address").max_length,
        help_text=_("The hall and street, as members should read it."),
    )
    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        min_value=-90,
        max_value=90,
        max_digits=9,
        decimal_places=COORDINATE_PLACES,
        help_text=_("Like 45.5088. Optional with a city: it places the venue exactly."),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        min_value=-180,
        max_value=180,
        max_digits=10,
        decimal_places=COORDINATE_PLACES,
        help_text=_("Like -73.5542."),
    )
    time_zone = forms.CharField(
        label=_("Time zone of the venue"),
        required=False,
        max_length=64,
        help_text=_("Empty: the city's own zone, or yours with coordinates alone. Like America/Toronto."),
    )
    starts_at = forms.DateTimeField(
        label=_("Starts"),
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
        error_messages={"required": _("When does it start?"), "invalid": _("Enter a date and a time.")},
    )
    ends_at = forms.DateTimeField(
        label=_("Ends"),
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
        error_messages={"required": _("When does it end?"), "invalid": _("Enter a date and a time.")},
    )
    capacity = forms.IntegerField(
        label=_("Seats"),
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text=_("Empty: no limit. When it is full, those who say yes wait in line for a freed seat."),
    )
    rsvp_deadline = forms.DateTimeField(
        label=_("Answers until"),
        required=False,
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
        error_messages={"invalid": _("Enter a date and a time.")},
        help_text=_("Empty: until the event ends."),
    )
    code_word = forms.CharField(
        label=_("Code word"),
        max_length=Event._meta.get_field("code_word").max_length,
        error_messages={"required": _("Choose the word members text at the door.")},
        help_text=_("Members text it at the door to check in. One word, not used by another event."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages of its texts"),
        choices=LANGUAGE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language.")},
        help_text=_(
            "Each member gets the event's texts in their language when it is ticked, else in the first."
        ),
    )
    reminders = forms.CharField(
        label=_("Reminders before the start"),
        required=False,
        max_length=200,
        help_text=_(
            "To those who said yes, like: 24 h, 2 h. Empty: no reminder. A short one (5 min) lets you try it."
        ),
    )

    def __init__(self, *args, leader, event: Event | None = None, **kwargs):
        self.leader = leader
        self.event = event
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at", "rsvp_deadline"):
            self.fields[name].help_text = self.fields[name].help_text or _("In the venue's time zone.")
        for name in ("latitude", "longitude", "time_zone", "code_word", "reminders"):
            self.fields[name].widget.attrs.update(LTR)
        if not self.is_bound and event is None:
            self.initial.setdefault("languages", [leader.default_language])
            self.initial.setdefault("reminders", offsets_text(DEFAULT_REMINDER_OFFSETS))

    @staticmethod
    def initial_for(event: Event) -> dict[str, Any]:
        zone = event.zone
        place = get_place(event.place_id) if event.place_id else None
        copied = place is not None and (event.latitude, event.longitude) == (place.latitude, place.longitude)

        def local(value):
            return value.astimezone(zone).replace(tzinfo=None) if value else None

        return {
            "title": event.title,
            "description": event.description,
            "place": place.label if place else "",
            "address": event.address,
            # The engine copies a city's coordinates onto the event: shown only when they are the teammate's
            # own (a hall placed exactly), so that saving again keeps them.
            "latitude": None if copied else event.latitude,
            "longitude": None if copied else event.longitude,
            "time_zone": event.time_zone,
            "starts_at": local(event.starts_at),
            "ends_at": local(event.ends_at),
            "capacity": event.capacity,
            "rsvp_deadline": local(event.rsvp_deadline),
            "code_word": event.code_word,
            "languages": list(event.languages),
            "reminders": offsets_text(list(event.reminder_offsets)),
        }

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError(_("Give the event a title."))
        return title

    def clean_code_word(self) -> str:
        word = self.cleaned_data["code_word"].strip()
        if not CODE_WORD.match(word):
            raise forms.ValidationError(_("One word of 2 to 40 letters or digits, without spaces."))
        taken = Event.objects.filter(code_word__iexact=word)
        if self.event is not None:
            taken = taken.exclude(pk=self.event.pk)
        if taken.exists():
            raise forms.ValidationError(_("Another event uses this code word: choose another."))
        return word

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        if value and value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone. Use a name like America/Toronto."))
        return value

    def clean_languages(self) -> list[str]:
        chosen = self.cleaned_data["languages"]
        # The leader's default language goes first when ticked: it is what other members get.
        default = self.leader.default_language
        return ([default] if default in chosen else []) + [code for code in chosen if code != default]

    def clean_reminders(self) -> list[int]:
        return offsets_parse(self.cleaned_data.get("reminders") or "")

    def _venue(self, cleaned: dict) -> None:
        text = (cleaned.get("place") or "").strip()
        place: Place | None = None
        if text:
            place = resolve_city(text, country=(self.leader.allowed_countries or [None])[0])
            if place is None:
                self.add_error("place", _("No city called “%(name)s” is known.") % {"name": text[:80]})
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        # A coordinate refused by its own field (out of range) is already explained under it.
        coordinate_errors = self.has_error("latitude") or self.has_error("longitude")
        if (latitude is None) != (longitude is None) and not coordinate_errors:
            name = "longitude" if longitude is None else "latitude"
            self.add_error(name, _("Give both the latitude and the longitude."))
        if not text and latitude is None and longitude is None and not coordinate_errors:
            self.add_error("place", _("Where is it? Choose a city, or give the coordinates."))
        cleaned["place_obj"] = place
        zone_name = cleaned.get("time_zone") or (place.timezone if place else self.leader.time_zone)
        cleaned["zone_name"] = zone_name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._venue(cleaned)
        try:
            zone = zoneinfo.ZoneInfo(cleaned["zone_name"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        starts = _aware(cleaned.get("starts_at"), zone)
        ends = _aware(cleaned.get("ends_at"), zone)
        deadline = _aware(cleaned.get("rsvp_deadline"), zone)
        moved = self.event is None or (starts is not None and starts != self.event.starts_at)
        if starts is not None and moved and starts <= timezone.now():
            self.add_error("starts_at", _("This time is in the past."))
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", _("The end is not after the start."))
        if deadline is not None and ends is not None and deadline > ends:
            self.add_error("rsvp_deadline", _("Answers must close by the end of the event."))
        cleaned["starts_utc"], cleaned["ends_utc"], cleaned["deadline_utc"] = starts, ends, deadline
        return cleaned

    def event_fields(self) -> dict[str, Any]:
        """The event as the engine stores it (events.models.Event's fields)."""
        data = self.cleaned_data
        place: Place | None = data["place_obj"]
        latitude, longitude = data.get("latitude"), data.get("longitude")
        return {
            "title": data["title"],
            "description": data.get("description") or "",
            "place_id": place.geoname_id if place else None,
            "address": data.get("address") or "",
            "latitude": float(latitude) if latitude is not None else None,
            "longitude": float(longitude) if longitude is not None else None,
            "time_zone": data["zone_name"],
            "starts_at": data["starts_utc"],
            "ends_at": data["ends_utc"],
            "capacity": data.get("capacity"),
            "rsvp_deadline": data["deadline_utc"],
            "code_word": data["code_word"],
            "languages": data["languages"],
            "reminder_offsets": data["reminders"],
        }


AUDIENCE_CHOICES = [
    ("near", _("Members near the venue")),
    ("regions", _("Members in regions")),
    ("topics", _("Members who follow topics")),
]


class AlertForm(forms.Form):
    """The alert: a message (the RSVP instruction is added to it in each member's language) and who gets it,
    one of three audiences."""

    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("{first_name} is replaced by each member's first name. How to answer is added after it."),
        error_messages={"required": _("Write the message.")},
    )
    audience = forms.ChoiceField(
        label=_("Who gets it"), choices=AUDIENCE_CHOICES, initial="near", widget=forms.RadioSelect
    )
    km = forms.IntegerField(
        label=_("Within (km) of the venue"),
        required=False,
        min_value=1,
        max_value=MAX_RADIUS_KM,
        initial=DEFAULT_RADIUS_KM,
    )
    regions = forms.CharField(
        label=_("Regions"), required=False, max_length=1000, help_text=_("Separated by commas.")
    )
    follows = forms.MultipleChoiceField(
        label=_("Follows topic"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Members who follow any of these topics."),
    )
    quiet_hours = forms.BooleanField(
        label=_("Respect quiet hours"),
        required=False,
        initial=True,
        help_text=_("Members in quiet hours get the message when their sending window opens."),
    )

    def __init__(self, *args, event: Event, suffixes: dict[str, str], **kwargs):
        self.event = event
        self.suffixes = suffixes
        super().__init__(*args, **kwargs)
        self.fields["follows"].choices = [
            (str(pk), name) for pk, name in Topic.objects.values_list("pk", "name")
        ]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        if not body.strip():
            raise forms.ValidationError(_("Write the message."))
        longest = max(
            (len(Broadcast.with_suffix(body, text)) for text in self.suffixes.values()), default=len(body)
        )
        if longest > Broadcast.MAX_BODY_LENGTH:
            raise forms.ValidationError(
                _("With how to answer, the message is %(n)d characters long; the limit is %(limit)d.")
                % {"n": longest, "limit": Broadcast.MAX_BODY_LENGTH}
            )
        return body

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        audience = cleaned.get("audience")
        if audience == "near" and not self.has_error("km"):
            if cleaned.get("km") is None:
                self.add_error("km", _("How many kilometres?"))
            elif self.event.latitude is None and not self.event.place_id:
                self.add_error("km", _("The venue has no coordinates: choose regions or topics."))
        elif audience == "regions":
            names = _split(cleaned.get("regions") or "")
            if not names:
                self.add_error("regions", _("Which regions?"))
            for name in names:
                if not region_names_for(name):
                    self.add_error(
                        "regions", _("No region called “%(name)s” is known.") % {"name": name[:80]}
                    )
        elif audience == "topics" and not cleaned.get("follows"):
            self.add_error("follows", _("Which topics?"))
        return cleaned

    def filters(self) -> dict[str, Any]:
        """The audience in AudienceFilter's JSON form (members.audience)."""
        data = self.cleaned_data
        if data["audience"] == "regions":
            return {"regions": _split(data.get("regions") or "")}
        if data["audience"] == "topics":
            return {"follows": [int(pk) for pk in data.get("follows") or []]}
        if self.event.latitude is not None:
            return {"near": {"lat": self.event.latitude, "lon": self.event.longitude, "km": data["km"]}}
        return {"near": {"place_id": self.event.place_id, "km": data["km"]}}


class CheckInForm(forms.Form):
    """A teammate at the door checks a member in: one on the list (its button sends the member's id), or
    anyone by their number (someone who never answered, or came without their phone). The number goes in the
    POST body, never in a URL, and only the exact number finds a member (console/masking.py)."""

    member = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    phone = forms.CharField(label=_("Phone number"), required=False, max_length=40)

    def __init__(self, *args, leader, **kwargs):
        self.leader = leader
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"dir": "ltr", "autocomplete": "off", "inputmode": "tel"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        member_id, text = cleaned.get("member"), (cleaned.get("phone") or "").strip()
        found = None
        if member_id:
            # An erased member is nobody: nothing new may be tied to them.
            found = (
                Member.objects.filter(pk=member_id).exclude(phone__startswith=Member.ERASED_PREFIX).first()
            )
        elif text:
            phone = phone_normalize(text, country=(self.leader.allowed_countries or [None])[0])
            if phone is None:
                raise forms.ValidationError(_("This is not a phone number."))
            found = Member.objects.filter(phone=phone).first()
        if found is None:
            raise forms.ValidationError(_("No such member."))
        cleaned["found"] = found
        return cleaned
