"""What the API reads and writes. Input serializers validate; output serializers describe the JSON."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from api.filters import FilterError, audience_from_api, moment_parse
from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from api.webhooks import WebhookUrlError, webhook_url_check
from common.phones import PhoneError, phone_mask_for_fan, phone_parse
from members import audience as audiences
from members.models import Member
from messaging.models import Broadcast, Conversation, Message
from topics.models import MAX_EXAMPLE_LENGTH, MAX_EXAMPLES, MAX_KEYWORDS, Topic
from triage.models import Label, PlaceSource

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
MAX_TAGS = 100
MAX_TAG_LENGTH = 50


class StrictCharField(serializers.CharField):
    """Text must be sent as a JSON string: 42 is not a name (DRF would quietly take it as "42")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON number: "18" and true are not ages (DRF would quietly take them)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number, not a string or a boolean."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


# What "blank" means, said once for the check and for the OpenAPI pattern: every character Python's
# str.strip() removes (which DRF trims) and every one JSON Schema's `\s` matches, so the schema and the API
# agree on which text has something visible in it.
BLANK_CHARACTERS = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# No null character anywhere (DRF refuses them: PostgreSQL cannot store them) and at least one visible one.
VISIBLE_TEXT = RegexValidator(
    rf"^[^\x00]*[^\x00{BLANK_CHARACTERS}][^\x00]*$", "Write some visible text.", code="blank"
)
NO_NULL = r"^[^\u0000]*$"
COUNTRY_CODE = RegexValidator(r"^[A-Za-z]{2}$", "Use a two-letter country code (US, CA…).", code="invalid")


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"}], "nullable": True}
)
class IPAddressField(serializers.IPAddressField):
    """An IPv4 or IPv6 address (DRF's own field documents it as any string)."""


class TextField(StrictCharField):
    """Text a request must give, with something visible in it (the schema's pattern says the same)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(VISIBLE_TEXT)


class CountryField(StrictCharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 2)
        super().__init__(**kwargs)
        self.validators.append(COUNTRY_CODE)


# --- errors ---------------------------------------------------------------------------------------------
class ErrorDetailSerializer(serializers.Serializer):
    code = StrictCharField(help_text="A stable, machine-readable code, e.g. `invalid`, `not_found`.")
    message = StrictCharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=StrictCharField()),
        help_text="Per-field messages for `invalid` requests, keyed by field (dotted for nested ones).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- members --------------------------------------------------------------------------------------------
def _tags_normalize(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        tag = value.strip()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


class TagListField(serializers.ListField):
    child = TextField(max_length=MAX_TAG_LENGTH, trim_whitespace=True)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_TAGS)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return _tags_normalize(super().to_internal_value(data))


@extend_schema_field(serializers.ChoiceField(choices=Member.Gender.choices, allow_blank=True))
class GenderField(serializers.CharField):
    """Blank when the member did not say."""


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}$", "example": "21:00"})
class HourMinuteField(serializers.TimeField):
    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class MemberSerializer(serializers.ModelSerializer):
    gender = GenderField(read_only=True)
    email = StrictCharField(read_only=True, help_text="Blank when unknown.")

    class Meta:
        model = Member
        fields = [
            "id",
            "phone",
            "first_name",
            "last_name",
            "gender",
            "birth_date",
            "email",
            "language",
            "city",
            "place_id",
            "place_name",
            "region",
            "country",
            "time_zone",
            "tags",
            "status",
            "opted_out_at",
            "joined_at",
            "updated_at",
        ]
        read_only_fields = fields


class MemberUpsertedSerializer(MemberSerializer):
    """The answer to `POST members/`: the member, and whether the phone's opt-out kept them opted out."""

    kept_opted_out = serializers.SerializerMethodField(
        help_text=(
            "True when this phone asked to stop (STOP, the carrier, an opt-out or an erasure) and never asked "
            "to start again: the member is opted out (`status`), whatever consent was sent, and that consent "
            "was not recorded. Only the phone can opt back in, by texting START."
        )
    )

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "kept_opted_out"]
        read_only_fields = fields

    def get_kept_opted_out(self, member: Member) -> bool:
        return bool(self.context.get("kept_opted_out"))


class MemberFieldsMixin(serializers.Serializer):
    """The fields a client may set on a member, all optional."""

    first_name = StrictCharField(max_length=60, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=60, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=Member.Gender.choices, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=LANGUAGE_CODES, required=False)
    city = StrictCharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="As the member wrote it; resolved to a place (region, country, time zone) when known.",
    )

    def validate_birth_date(self, value: datetime.date | None) -> datetime.date | None:
        if value is None:
            return value
        today = timezone.localdate()
        if value > today or value.year < 1900:
            raise serializers.ValidationError("Enter a birth date between 1900 and today.")
        leader = self.context["leader"]
        before_birthday = (today.month, today.day) < (value.month, value.day)
        if today.year - value.year - before_birthday < leader.minimum_age:
            raise serializers.ValidationError(f"Members must be at least {leader.minimum_age} years old.")
        return value


class ConsentSerializer(serializers.Serializer):
    text = TextField(
        max_length=2000, help_text="What the person agreed to, word for word, and where (form, event…)."
    )
    detail = StrictCharField(
        max_length=150, required=False, allow_blank=True, help_text="Where consent was collected."
    )
    ip_address = IPAddressField(required=False, allow_null=True)


class MemberCreateSerializer(MemberFieldsMixin):
    phone = TextField(max_length=40, help_text="E.164 (+12025550142), or a national format with `country`.")
    country = CountryField(
        required=False,
        help_text="ISO country code for a phone number written without +country code (US, CA…).",
    )
    tags = TagListField(required=False, help_text="Added to the member's tags (upsert keeps existing ones).")
    consent = ConsentSerializer(
        help_text="The member's consent to get texts; recorded in the consent ledger."
    )

    def validate(self, attrs: dict) -> dict:
        leader = self.context["leader"]
        country = attrs.pop("country", None)
        try:
            attrs["phone"], phone_country = phone_parse(attrs["phone"], country=country)
        except PhoneError as exc:
            raise serializers.ValidationError({"phone": [str(exc)]}) from None
        if not leader.accepts_country(phone_country):
            accepted = ", ".join(leader.allowed_countries)
            raise serializers.ValidationError(
                {"phone": [f"This leader accepts members from {accepted} only."]}
            )
        attrs["phone_country"] = phone_country
        return attrs


class MemberUpdateSerializer(MemberFieldsMixin):
    tags = TagListField(required=False, help_text="Replaces the member's tags.")
    add_tags = TagListField(required=False, help_text="Added to the member's tags.")
    remove_tags = TagListField(required=False, help_text="Removed from the member's tags.")
    status = serializers.ChoiceField(
        choices=[Member.Status.OPTED_OUT],
        required=False,
        help_text="`opted_out` stops every text to this member. Only the member can opt back in (START).",
    )


# --- settings -------------------------------------------------------------------------------------------
class QuietHoursSerializer(serializers.Serializer):
    start = HourMinuteField()
    end = HourMinuteField()


class LeaderSettingsSerializer(serializers.Serializer):
    name = StrictCharField()
    slug = StrictCharField()
    phone_number = StrictCharField(help_text="The number fans text, in E.164.")
    number_type = StrictCharField()
    time_zone = StrictCharField()
    default_language = StrictCharField()
    languages = serializers.ListField(child=StrictCharField(), help_text="Languages the signup page offers.")
    quiet_hours = QuietHoursSerializer(
        help_text="No broadcast reaches a member in these hours, their own time."
    )
    minimum_age = serializers.IntegerField()
    accepted_countries = serializers.ListField(
        child=StrictCharField(), help_text="Countries members may text from; empty: any."
    )
    sending_rate = serializers.IntegerField(help_text="SMS segments per second this number may send.")
    stop_words = serializers.ListField(
        child=StrictCharField(),
        help_text="The leader's own stop words (set in the console), on top of the ones every leader "
        "honours (STOP, ARRÊT, BAJA, STOPP…). Case and accents are ignored when a text is compared.",
    )
    pilot_regions = serializers.ListField(
        child=StrictCharField(),
        help_text="The pilot: only fans from these regions (the gazetteer's names, as members' `region`) may "
        "join; the others are waitlisted (`waitlist/`). Empty: no pilot.",
    )
    announcement_cap = serializers.IntegerField(
        help_text="At most this many broadcasts reach a member in any 7 days, across broadcasts (set in the "
        "console); those over it are left out of a broadcast and counted in its `stats.capped`. 0: no cap."
    )


def leader_settings_data(leader) -> dict:
    return {
        "name": leader.name,
        "slug": leader.slug,
        "phone_number": str(leader.phone_number),
        "number_type": leader.number_type,
        "time_zone": leader.time_zone,
        "default_language": leader.default_language,
        "languages": LANGUAGE_CODES,
        "quiet_hours": {"start": leader.quiet_hours_start, "end": leader.quiet_hours_end},
        "minimum_age": leader.minimum_age,
        "accepted_countries": list(leader.allowed_countries),
        "sending_rate": leader.sending_rate,
        "stop_words": list(leader.stop_words),
        "pilot_regions": list(leader.pilot_regions),
        "announcement_cap": leader.announcement_cap,
    }


# --- the pilot's waitlist ---------------------------------------------------------------------------------
class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: "true" and 1 are not answers (DRF would quietly take them)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class WaitlistRegionSerializer(serializers.Serializer):
    country = StrictCharField(help_text="Two-letter country code.")
    region = StrictCharField(help_text="The gazetteer's region name; empty when nothing told where.")
    waiting = serializers.IntegerField(help_text="Phones not invited yet.")
    invited = serializers.IntegerField(help_text="Phones sent their signup link (once each).")
    open = serializers.BooleanField(help_text="Fans from there may join now.")


class WaitlistSerializer(serializers.Serializer):
    pilot_regions = serializers.ListField(child=StrictCharField(), help_text="Empty: no pilot.")
    waiting = serializers.IntegerField()
    invited = serializers.IntegerField()
    regions = WaitlistRegionSerializer(many=True, help_text="Most waiting first.")
    opened = serializers.ListField(
        child=StrictCharField(),
        required=False,
        help_text="After `waitlist/open/`: the regions that opened (`*`: everywhere); empty when none did.",
    )


class WaitlistOpenSerializer(serializers.Serializer):
    regions = serializers.ListField(
        child=TextField(max_length=120),
        max_length=100,
        required=False,
        default=list,
        help_text='Regions to add to the pilot, as people write them ("ontario", "ON", "Québec"): '
        "the gazetteer's regions of the accepted countries.",
    )
    everywhere = StrictBooleanField(
        required=False, default=False, help_text="True ends the pilot: every region is open."
    )


def waitlist_data(leader, rows) -> dict:
    return {
        "pilot_regions": list(leader.pilot_regions),
        "waiting": sum(row.waiting for row in rows),
        "invited": sum(row.invited for row in rows),
        "regions": [
            {
                "country": row.country,
                "region": row.region,
                "waiting": row.waiting,
                "invited": row.invited,
                "open": leader.accepts_country(row.country) and leader.pilot_admits(row.region),
            }
            for row in rows
        ],
    }


# --- conversations --------------------------------------------------------------------------------------
class TeammateSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "role"]
        read_only_fields = fields


class TopicRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PlaceSerializer(serializers.Serializer):
    city = serializers.CharField(help_text="Blank when only the region or country is known.")
    region = serializers.CharField(
        help_text="A first-level region's name (Jalisco, Quebec); blank if unknown."
    )
    country = serializers.CharField(help_text="ISO country code; blank if unknown.")
    source = serializers.ChoiceField(
        choices=[choice for choice in PlaceSource.values if choice],
        help_text="Where the place came from: `member` (the member's city), `carrier` (the carrier's "
        "FromCity/FromState), `phone` (the number's region), `text` (a place named in the text).",
    )


def message_label(message: Message) -> Label | None:
    """The message's triage, when it has one. Only a fan's texts are triaged: a reply never costs a query;
    querysets that list texts `select_related("label__topic")`, so a page costs no query per text."""
    if message.direction != Message.Direction.INBOUND:
        return None
    try:
        return message.label
    except ObjectDoesNotExist:
        return None


class PhoneMaskedForReaderMixin:
    """A reader through the API sees fans' numbers as they would in the console (Leader.phones_visible_to):
    a responder's token, or a manager's when the owner hid numbers from managers, reads "•••• 0142". Webhook
    payloads (built without a request) go to the leader's own systems and carry numbers in full."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        leader = getattr(request, "tenant", None)
        if (
            request is not None
            and leader is not None
            and data.get("phone")
            and not leader.phones_visible_to(getattr(request, "user", None))
        ):
            data["phone"] = phone_mask_for_fan(str(data["phone"]))
        return data


class MessageSerializer(PhoneMaskedForReaderMixin, serializers.ModelSerializer):
    """A text as the API shows it, with its triage (null until triage has read it: `triaged_at`)."""

    sent_by = TeammateSerializer(read_only=True, allow_null=True)
    language = serializers.SerializerMethodField(
        help_text="ISO 639-1 code of the text's language, as triage detected it; null until triaged, or "
        "when it could not be told."
    )
    topic = serializers.SerializerMethodField(
        help_text="The topic triage (or a teammate) sorted the text into; null when not triaged yet or "
        "unsorted (`triaged_at` tells which)."
    )
    topic_confidence = serializers.SerializerMethodField(
        help_text="The classifier's confidence in its best topic, 0 to 1 (kept when below the leader's "
        "threshold, which leaves the text unsorted); null until triaged."
    )
    place = serializers.SerializerMethodField(
        help_text="Where the sender is; null when unknown or not triaged."
    )
    triaged_at = serializers.SerializerMethodField(
        help_text="When triage labelled the text; null until then."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation_id",
            "member_id",
            "phone",
            "direction",
            "kind",
            "body",
            "status",
            "error_code",
            "failure_reason",
            "sent_by",
            "created_at",
            "sent_at",
            "language",
            "topic",
            "topic_confidence",
            "place",
            "triaged_at",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "nullable": True})
    def get_language(self, message: Message) -> str | None:
        label = message_label(message)
        return (label.language or None) if label else None

    @extend_schema_field(TopicRefSerializer(allow_null=True))
    def get_topic(self, message: Message) -> dict | None:
        label = message_label(message)
        if label is None or label.topic is None:
            return None
        return {"id": label.topic.pk, "name": label.topic.name}

    @extend_schema_field({"type": "number", "format": "double", "minimum": 0, "maximum": 1, "nullable": True})
    def get_topic_confidence(self, message: Message) -> float | None:
        label = message_label(message)
        return None if label is None else min(max(float(label.confidence), 0.0), 1.0)

    @extend_schema_field(PlaceSerializer(allow_null=True))
    def get_place(self, message: Message) -> dict | None:
        label = message_label(message)
        if label is None or not (label.place_source and (label.city or label.region or label.country)):
            return None
        return {
            "city": label.city,
            "region": label.region,
            "country": label.country,
            "source": label.place_source,
        }

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_triaged_at(self, message: Message) -> str | None:
        label = message_label(message)
        return None if label is None else serializers.DateTimeField().to_representation(label.triaged_at)


class ConversationSerializer(PhoneMaskedForReaderMixin, serializers.ModelSerializer):
    assigned_to = TeammateSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "phone",
            "member_id",
            "status",
            "unread_count",
            "assigned_to",
            "last_message_at",
            "last_message_preview",
            "created_at",
        ]
        read_only_fields = fields


class ConversationDetailSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField(help_text="The latest 50 messages, oldest first.")

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, conversation: Conversation) -> list[dict]:
        messages = conversation.messages.select_related("sent_by", "label__topic")
        latest = list(messages.order_by("-created_at", "-id")[:50])
        return MessageSerializer(reversed(latest), many=True, context=self.context).data


class ReplySerializer(serializers.Serializer):
    MAX_SIGNED = 400  # the body with the teammate's signature, when the leader signs replies

    body = TextField(max_length=400, help_text="At most 400 characters (3 to 6 SMS segments).")


# --- topics ---------------------------------------------------------------------------------------------
class TopicSerializer(serializers.ModelSerializer):
    examples = serializers.ListField(child=serializers.CharField())
    keywords = serializers.ListField(child=serializers.CharField())
    texts_7d = serializers.SerializerMethodField(
        help_text="Texts triage sorted into this topic over the last 7 days (from the matrix's counters)."
    )

    class Meta:
        model = Topic
        fields = [
            "id",
            "name",
            "description",
            "examples",
            "keywords",
            "position",
            "texts_7d",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_texts_7d(self, topic: Topic) -> int:
        return int(self.context.get("texts_7d", {}).get(topic.pk, 0))


class TopicWriteSerializer(serializers.Serializer):
    """A topic's fields. `PATCH` changes those given; `POST` and `PUT` set them all (`name` required, the
    others empty when left out). Spacing is tidied and keywords lower-cased and deduplicated, as the console
    does: both save through the model's own checks (topics.models.Topic.clean)."""

    name = TextField(
        max_length=Topic._meta.get_field("name").max_length, help_text="Unique, whatever the case."
    )
    description = StrictCharField(
        max_length=Topic._meta.get_field("description").max_length, required=False, allow_blank=True
    )
    examples = serializers.ListField(
        child=TextField(max_length=MAX_EXAMPLE_LENGTH),
        max_length=MAX_EXAMPLES,
        required=False,
        help_text="Texts about the topic as fans write them, in any language: what triage learns it from.",
    )
    keywords = serializers.ListField(
        child=TextField(max_length=Topic._meta.get_field("keywords").base_field.max_length),
        max_length=MAX_KEYWORDS,
        required=False,
        help_text="Words that settle a text's topic when they appear in it.",
    )
    position = StrictIntegerField(
        min_value=0, max_value=32767, required=False, help_text="The topic's rank in lists (lowest first)."
    )

    def full_data(self) -> dict:
        """The validated fields, with every one left out at its empty value (POST and PUT)."""
        return {"description": "", "examples": [], "keywords": [], "position": 0, **self.validated_data}


# --- webhooks -------------------------------------------------------------------------------------------
class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.Name.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "events", "is_active", "created_at"]
        read_only_fields = fields


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = StrictCharField(help_text="Signs every delivery. Shown once: store it now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookUrlField(serializers.URLField):
    """A URL our workers may call (api.webhooks.webhook_url_check), refused with the reason: a port that
    cannot be (0, past 65535, not a number), a private address in production, another scheme."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            webhook_url_check(value, resolve=False)
        except WebhookUrlError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
        return value


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = WebhookUrlField(max_length=500, help_text="An http(s) URL that accepts POSTed JSON.")
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.Name.choices), min_length=1, max_length=10
    )


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "attempted_at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = StrictCharField(source="event.event_id", read_only=True)
    event = StrictCharField(source="event.name", read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "completed_at",
            "attempt_log",
        ]
        read_only_fields = fields


# --- audience and broadcasts ----------------------------------------------------------------------------
@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
        "description": "A date (midnight UTC) or a date and time; a time without a zone is read as UTC.",
    }
)
class MomentField(serializers.Field):
    """An ISO 8601 date (midnight UTC) or date and time; a time without a zone is UTC."""

    default_error_messages = {
        "invalid": "An ISO 8601 date or date and time (2026-05-01 or 2026-05-01T09:00:00Z)."
    }

    def to_internal_value(self, data):
        moment = moment_parse(data) if isinstance(data, str) and len(data) <= 64 else None
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "string", "format": "date-time"})
class ZonedDateTimeField(serializers.Field):
    """An ISO 8601 date and time with its zone offset (2026-05-01T18:00:00-04:00, or Z for UTC)."""

    default_error_messages = {
        "invalid": "An ISO 8601 date and time with its zone, like 2026-05-01T18:00:00-04:00 or …Z.",
        "naive": "Add the zone offset (Z for UTC, or like -04:00): a time alone is ambiguous.",
    }

    def to_internal_value(self, data):
        try:
            moment = parse_datetime(data) if isinstance(data, str) and len(data) <= 64 else None
        except (ValueError, OverflowError):
            moment = None
        if moment is None:
            self.fail("invalid")
        if timezone.is_naive(moment):
            self.fail("naive")
        try:
            # In UTC: PostgreSQL refuses offsets past ±15:59, which ISO 8601 (and Python) allow.
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            self.fail("invalid")

    def to_representation(self, value):
        return serializers.DateTimeField().to_representation(value)


def _texts(help_text: str, **kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=TextField(max_length=120), max_length=100, required=False, help_text=help_text, **kwargs
    )


def _place_id(**kwargs) -> StrictIntegerField:
    return StrictIntegerField(min_value=0, max_value=audiences.MAX_PLACE_ID, **kwargs)


def _age(help_text: str) -> StrictIntegerField:
    return StrictIntegerField(min_value=0, max_value=audiences.MAX_AGE, required=False, help_text=help_text)


class NearSerializer(serializers.Serializer):
    """Within `km` of a place: a city by name, a GeoNames id, or coordinates (docs/broadcasts.md)."""

    city = TextField(max_length=120, required=False, help_text="A city's name, as the gazetteer knows it.")
    place_id = _place_id(required=False, help_text="A GeoNames id; wins over `city`.")
    lat = StrictFloatField(min_value=-90, max_value=90, required=False, help_text="Latitude, with `lon`.")
    lon = StrictFloatField(min_value=-180, max_value=180, required=False, help_text="Longitude, with `lat`.")
    km = StrictFloatField(max_value=audiences.MAX_RADIUS_KM, help_text="The radius, above 0.")
    # The schema's words for what the fields cannot say one by one (api/schema.py adds them).
    schema_extra = {
        "additionalProperties": False,
        "anyOf": [{"required": ["city"]}, {"required": ["place_id"]}, {"required": ["lat", "lon"]}],
    }
    schema_properties = {"km": {"exclusiveMinimum": True, "minimum": 0}}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown; near takes")
        values = super().to_internal_value(data)
        if not values.get("km", 0) > 0:
            raise serializers.ValidationError({"km": ["The radius is above 0 km."]})
        return values


def _refuse_unknown_keys(data, fields, message: str) -> None:
    # An unknown key is a mistake to point out, never a criterion quietly dropped (everyone would match).
    unknown = sorted(map(str, set(data) - set(fields))) if isinstance(data, dict) else []
    if unknown:
        raise serializers.ValidationError({unknown[0][:60]: [f"{message} {', '.join(fields)}."]})


class AnsweredSerializer(serializers.Serializer):
    """Members whose latest answer to a survey question includes any of these choices."""

    question = StrictIntegerField(
        min_value=1, max_value=audiences.MAX_ID, help_text="A survey question's id."
    )
    choices = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=audiences.MAX_CHOICE_POSITION),
        min_length=1,
        max_length=audiences.MAX_VALUES,
        help_text="Choice positions (1, 2, …), as members answer with them; any of them matches.",
    )
    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown; an answered criterion takes")
        return super().to_internal_value(data)


class AudienceFilterSerializer(serializers.Serializer):
    """Who: the broadcasts' filter language (docs/broadcasts.md), the console's and `manage.py broadcast`'s.
    Every key optional, `{}` is every member a broadcast may reach (subscribed and reachable). Keys combine
    with AND; the values of one list with OR. The same keys filter GET /members/. This serializer checks
    the JSON types and bounds; what the values mean (cities, places, age ranges) is checked by the broadcast
    engine's own `AudienceFilter.from_dict`."""

    place_ids = serializers.ListField(
        child=_place_id(), max_length=100, required=False, help_text="GeoNames ids of members' cities."
    )
    cities = _texts('City names, resolved to GeoNames ids with the gazetteer ("Montréal", "Laval, CA").')
    regions = _texts("Region names in any country, any case or accents (Quebec, Tokyo, jalisco).")
    countries = serializers.ListField(
        child=CountryField(), max_length=100, required=False, help_text="ISO country codes (US, CA)."
    )
    near = NearSerializer(required=False, help_text="Members within `km` of a place.")
    genders = serializers.ListField(
        child=serializers.ChoiceField(choices=Member.Gender.choices), max_length=10, required=False
    )
    age_min = _age("Aged at least this many whole years today (members without a birth date never match).")
    age_max = _age("Aged at most this many whole years today; not below `age_min`.")
    languages = _texts("Language codes (en, fr).")
    joined_after = MomentField(required=False, help_text="Joined at or after (a date is midnight UTC).")
    joined_before = MomentField(required=False, help_text="Joined before.")
    tags_any = _texts("Members with any of these tags.")
    tags_all = _texts("Members with all of these tags.")
    tags = _texts("The API's earlier name for `tags_any`, still accepted.")
    follows = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=audiences.MAX_ID),
        max_length=100,
        required=False,
        help_text="Ids of the leader's topics: members who follow any of them (never those who left one).",
    )
    answered = serializers.ListField(
        child=AnsweredSerializer(),
        max_length=audiences.MAX_ANSWERED,
        required=False,
        help_text="Survey answers: members whose answer to each question includes one of its choices "
        "(several questions: all of them).",
    )
    schema_extra = {"additionalProperties": False}

    def to_internal_value(self, data):
        _refuse_unknown_keys(data, self.fields, "Unknown filter; known:")
        return super().to_internal_value(data)

    def validate(self, attrs):
        filters = {key: value for key, value in attrs.items() if key != "near"}
        if attrs.get("near"):
            filters["near"] = dict(attrs["near"])
        try:
            attrs["audience"] = audience_from_api(filters)
        except FilterError as exc:
            raise serializers.ValidationError({k: [v] for k, v in exc.fields.items()}) from None
        return attrs


BODY_HELP = (
    "The text, at most 400 characters. `{first_name}`, `{name}` and `{city}` are replaced per member "
    "(counted at their longest for the cost)."
)


class AudiencePreviewRequestSerializer(serializers.Serializer):
    filter = AudienceFilterSerializer(required=False)
    body = StrictCharField(
        max_length=400, required=False, allow_blank=True, trim_whitespace=False, help_text=BODY_HELP
    )


class AudienceCostSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    encoding = serializers.ChoiceField(choices=["GSM-7", "UCS-2"])
    segments_per_message = serializers.IntegerField()
    total_segments = serializers.IntegerField()
    segments_per_second = serializers.IntegerField(help_text="The leader's sending rate.")
    estimated_seconds = serializers.FloatField(help_text="How long sending takes at that rate.")
    gsm7_suggestions = serializers.DictField(
        child=serializers.CharField(),
        help_text="Characters that force UCS-2 (about twice the segments) and their GSM-7 replacements.",
    )


class AudiencePreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Members a broadcast with this filter would reach now.")
    filter = serializers.DictField(help_text="The filter as understood (normalised).")
    approval_threshold = serializers.IntegerField()
    approval_required = serializers.BooleanField(
        help_text="True when `count` is above the leader's approval threshold: the API refuses to send it."
    )
    cost = AudienceCostSerializer(allow_null=True, help_text="Only when a body is given.")


class BroadcastCreateSerializer(serializers.Serializer):
    body = TextField(max_length=400, trim_whitespace=False, help_text=BODY_HELP)
    filter = AudienceFilterSerializer(required=False)
    send_at = ZonedDateTimeField(
        required=False,
        allow_null=True,
        help_text="When to start, in the future, with its zone; omitted or null: now.",
    )
    ignore_quiet_hours = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Send at once to every member, even where it is night (the leader's quiet hours).",
    )


class BroadcastStatsSerializer(serializers.Serializer):
    recipients = serializers.IntegerField(help_text="Deliveries materialised when queueing started.")
    queued = serializers.IntegerField(help_text="Not yet handed to Twilio.")
    sent = serializers.IntegerField(help_text="Accepted by Twilio.")
    delivered = serializers.IntegerField()
    undelivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Opted out or unreachable before their turn.")
    cancelled = serializers.IntegerField()
    capped = serializers.IntegerField(
        help_text="Left out when queueing: they had already got the leader's announcement cap of broadcasts "
        "in the last 7 days (never sent later)."
    )
    opt_outs = serializers.IntegerField()
    replies = serializers.IntegerField()
    segments_sent = serializers.IntegerField()


class BroadcastSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Broadcast.Status.values)
    body = serializers.CharField()
    filter = serializers.DictField()
    encoding = serializers.CharField()
    segments_per_message = serializers.IntegerField()
    send_at = serializers.DateTimeField(allow_null=True)
    ignore_quiet_hours = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    queued_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    stats = BroadcastStatsSerializer()


def broadcast_data(broadcast, progress: dict | None = None) -> dict:
    """A broadcast as the API shows it; `progress` is `messaging.broadcasts.selectors.broadcast_progress`'s answer
    (fresh from the database), else the counters as loaded."""

    if progress is None:
        progress = broadcast.counters()
    return {
        "id": broadcast.pk,
        "status": broadcast.status,
        "body": broadcast.body,
        "filter": broadcast.filters,
        "encoding": broadcast.encoding,
        "segments_per_message": broadcast.segments,
        "send_at": broadcast.send_at,
        "ignore_quiet_hours": broadcast.ignore_quiet_hours,
        "created_at": broadcast.created_at,
        "queued_at": broadcast.queued_at,
        "completed_at": broadcast.completed_at,
        "cancelled_at": broadcast.cancelled_at,
        "failure_reason": broadcast.failure_reason,
        "stats": {key: progress[key] for key in BroadcastStatsSerializer().fields},
    }
