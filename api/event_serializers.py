"""The API's shapes for events (docs/api.md, "Events"): an event, its RSVPs and check-ins, an alert, the
counts; and the payloads of the `event.rsvp` and `event.checked_in` webhook events. What the values mean is
events.services' (the console's rules): these state the JSON's types for the OpenAPI schema."""

from __future__ import annotations

from rest_framework import serializers

from api.serializers import AudienceFilterSerializer, PhoneMaskedForReaderMixin, StrictCharField
from events.models import CheckIn, Event, Rsvp, Source
from events.selectors import COUNTS
from messaging.texts import LANGUAGES

MOMENT_HELP = "ISO 8601; without a zone offset, read in the venue's time zone (2026-12-12T14:00)."


class EventSerializer(serializers.ModelSerializer):
    starts_at_local = serializers.SerializerMethodField(help_text="The start in the venue's zone.")
    ends_at_local = serializers.SerializerMethodField(help_text="The end in the venue's zone.")
    cancelled = serializers.SerializerMethodField()
    alerts = serializers.SerializerMethodField(help_text="The ids of the broadcasts that invited to it.")

    class Meta:
        model = Event
        fields = [
            "id",
            "title",
            "description",
            "place_id",
            "address",
            "place_name",
            "region",
            "country",
            "latitude",
            "longitude",
            "time_zone",
            "starts_at",
            "ends_at",
            "starts_at_local",
            "ends_at_local",
            "capacity",
            "rsvp_deadline",
            "code_word",
            "languages",
            "reminder_offsets",
            "cancelled",
            "alerts",
            "created_at",
            "updated_at",
        ]

    def get_starts_at_local(self, event: Event) -> str:
        return event.local_start().isoformat()

    def get_ends_at_local(self, event: Event) -> str:
        return event.local_end().isoformat()

    def get_cancelled(self, event: Event) -> bool:
        return event.is_cancelled

    def get_alerts(self, event: Event) -> list[int]:
        return [alert.broadcast_id for alert in event.alerts.all()]


class EventWriteSerializer(serializers.Serializer):
    """Every field optional on PATCH; title, starts_at, ends_at, code_word and a venue (place_id, or latitude
    and longitude) required on POST."""

    title = StrictCharField(max_length=120, required=False)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True)
    place_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, allow_null=True)
    address = StrictCharField(max_length=200, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    time_zone = StrictCharField(max_length=64, required=False, help_text="The venue's (IANA name).")
    starts_at = StrictCharField(max_length=64, required=False, help_text=MOMENT_HELP)
    ends_at = StrictCharField(max_length=64, required=False, help_text=MOMENT_HELP)
    capacity = serializers.IntegerField(min_value=1, max_value=1_000_000, required=False, allow_null=True)
    rsvp_deadline = StrictCharField(max_length=64, required=False, allow_null=True, help_text=MOMENT_HELP)
    code_word = StrictCharField(max_length=40, required=False, help_text="One word texted at the door.")
    languages = serializers.ListField(
        child=serializers.ChoiceField(choices=LANGUAGES), max_length=len(LANGUAGES), required=False
    )
    reminder_offsets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=14 * 24 * 60),
        max_length=4,
        required=False,
        help_text="Minutes before the start (default: 1440 and 120).",
    )


class RsvpSerializer(PhoneMaskedForReaderMixin, serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    phone = serializers.CharField(
        source="member.phone", help_text="Masked for readers who see numbers masked."
    )
    region = serializers.CharField(source="member.region")
    status = serializers.ChoiceField(choices=Rsvp.Status.choices)
    waitlist_position = serializers.IntegerField(allow_null=True, help_text="Only while waitlisted.")
    source = serializers.ChoiceField(choices=Source.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)


class RsvpWriteSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    answer = serializers.ChoiceField(choices=["yes", "no"])


class CheckInSerializer(PhoneMaskedForReaderMixin, serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.IntegerField()
    member_id = serializers.IntegerField()
    phone = serializers.CharField(
        source="member.phone", help_text="Masked for readers who see numbers masked."
    )
    source = serializers.ChoiceField(choices=Source.choices)
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    at = serializers.DateTimeField()


class CheckInWriteSerializer(serializers.Serializer):
    member_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class AlertRequestSerializer(serializers.Serializer):
    filter = AudienceFilterSerializer(required=False)
    body = StrictCharField(
        max_length=400,
        required=False,
        allow_blank=True,
        help_text="The alert's text (default: title, time and venue); the RSVP instruction is appended in "
        "each member's language.",
    )


class CountsSerializer(serializers.Serializer):
    total = serializers.DictField(child=serializers.IntegerField(), help_text=", ".join(COUNTS))
    by_region = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Region name → the same counts; "(none)": members with no known region.',
    )


def rsvp_payload(rsvp: Rsvp) -> dict:
    """`event.rsvp`'s payload: numbers in full (the leader's own systems, as member events)."""
    return {
        "event": rsvp.event_id,
        "member": {"id": rsvp.member_id, "phone": rsvp.member.phone},
        "status": rsvp.status,
        "waitlist_position": rsvp.waitlist_position,
        "source": rsvp.source,
        "updated_at": rsvp.updated_at.isoformat(),
    }


def check_in_payload(check_in: CheckIn) -> dict:
    return {
        "event": check_in.event_id,
        "member": {"id": check_in.member_id, "phone": check_in.member.phone},
        "source": check_in.source,
        "by": check_in.by.username if check_in.by_id else None,
        "at": check_in.at.isoformat(),
    }
