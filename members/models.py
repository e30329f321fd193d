"""A leader's members and the consent ledger. These tables live in each leader's schema; they were created
by the signup app and keep its table names (signup_member, signup_consentrecord): moving a model between
apps moved only Django's state, no row."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Reverse, Upper
from django.utils import timezone

from common.phones import PhoneField
from topics.models import Topic

# The kind of text that may still reach a member who opted out: the answer to their own keyword (the STOP
# confirmation itself, HELP). It is messaging.models.Message.Kind.KEYWORD's value.
KEYWORD_ANSWER = "keyword"

# Why a text may not go to a phone (Member.refusal, members.consent.text_refusal): stored as a message's
# failure reason, and mapped to a sentence by the console and to an error code by the API.
REFUSED_OPTED_OUT = "member opted out"
REFUSED_PHONE_OPTED_OUT = "phone opted out"
REFUSED_UNREACHABLE = "number cannot receive texts"


class MemberQuerySet(models.QuerySet):
    def reachable(self) -> MemberQuerySet:
        """Members any text may go to: subscribed and not known unreachable. The SQL spelling of
        Member.may_receive() for everything but keyword answers (audiences, dispatch's claim)."""
        return self.filter(status=Member.Status.SUBSCRIBED, unreachable_at__isnull=True)


class Member(models.Model):
    """A fan who joined: the phone number is the identity, the rest comes from the signup form."""

    # Erased members keep an anonymous row whose phone is "~<id>": not a number, so nothing can be sent to it.
    ERASED_PREFIX = "~"

    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        NON_BINARY = "non_binary", "Non-binary"
        ANOTHER = "another", "Another gender"
        UNDISCLOSED = "undisclosed", "Prefer not to say"

    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed", "Subscribed"
        OPTED_OUT = "opted_out", "Opted out"  # STOP, carrier 21610, or erased: nothing is ever sent

    phone = PhoneField(unique=True)
    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    language = models.CharField(max_length=8, default="en")

    # The city as the fan typed it, and the gazetteer place it resolved to (blank when unknown).
    city = models.CharField(max_length=120, blank=True)
    place_id = models.PositiveIntegerField(null=True, blank=True, help_text="GeoNames id")
    place_name = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)

    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBSCRIBED)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # Set when the carrier says the number cannot receive texts (21211, 21614): sending skips it.
    unreachable_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MemberQuerySet.as_manager()

    class Meta:
        db_table = "signup_member"
        indexes = [
            models.Index(fields=["joined_at"]),
            models.Index(fields=["status", "joined_at"]),
            models.Index(fields=["place_id"]),
            models.Index(fields=["country", "region"]),
            models.Index(fields=["birth_date"]),
            models.Index(fields=["gender"]),
            models.Index(fields=["language"]),
            models.Index(fields=["latitude", "longitude"]),
            # "Within N km" of those who may be texted (an event's alert, a broadcast's `near`): the box around
            # the point read from the index alone, never the table's pages (issue 15's bench: 68 ms against
            # 335 ms at 187,000 members in the box).
            models.Index(
                fields=["latitude", "longitude"],
                name="signup_member_reachable_at",
                condition=models.Q(status="subscribed", unreachable_at__isnull=True),
            ),
            GinIndex(fields=["tags"], name="signup_member_tags_gin"),
            # The console's search (console/selectors.py): prefix matches that stay index scans at a
            # million members. Phone by its last digits (reverse(phone) LIKE '1234%'); names, email and
            # city case-insensitively from their start (UPPER(x) LIKE 'MA%'). pattern_ops: the database
            # collation is not C.
            models.Index(OpClass(Reverse("phone"), name="text_pattern_ops"), name="signup_member_phone_rev"),
            models.Index(
                OpClass(Upper("first_name"), name="text_pattern_ops"), name="signup_member_first_pfx"
            ),
            models.Index(OpClass(Upper("last_name"), name="text_pattern_ops"), name="signup_member_last_pfx"),
            models.Index(OpClass(Upper("email"), name="text_pattern_ops"), name="signup_member_email_pfx"),
            models.Index(OpClass(Upper("city"), name="text_pattern_ops"), name="signup_member_city_pfx"),
            models.Index(
                OpClass(Upper("place_name"), name="text_pattern_ops"), name="signup_member_place_pfx"
            ),
            # Broadcast audiences (members.audience): the usual combined filter (cities, gender, age)
            # over reachable members only, answered from this index alone (an index-only scan).
            models.Index(
                fields=["place_id", "gender", "birth_date"],
                name="signup_member_audience",
                condition=models.Q(status="subscribed", unreachable_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or f"member {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_subscribed(self) -> bool:
        return self.status == self.Status.SUBSCRIBED

    def refusal(self, kind: str = "") -> str:
        """Why a text of `kind` must not go to this member now, or "" when it may: the one rule behind every
        path that texts a member (one-to-one texts, the sending worker, inbox and API replies, through
        members.consent.text_refusal). Broadcasts apply the same rule in SQL (`Member.objects.reachable()`)."""
        if not self.is_subscribed and kind != KEYWORD_ANSWER:
            return REFUSED_OPTED_OUT
        if self.unreachable_at is not None:
            return REFUSED_UNREACHABLE
        return ""

    def may_receive(self, kind: str = "") -> bool:
        return not self.refusal(kind)

    def place_set(self, place) -> None:
        """Take the gazetteer's place (a places.gazetteer.Place, or None when the city is unknown) as where
        this member lives: the one mapping of a place onto a member's fields."""
        for name, value in self.place_fields(place).items():
            setattr(self, name, value)

    @staticmethod
    def place_fields(place) -> dict:
        """The member's fields for `place`. An unknown place clears what came from a place, but not the
        country, which the phone number may have told us."""
        if place is None:
            return {
                "place_id": None,
                "place_name": "",
                "region": "",
                "latitude": None,
                "longitude": None,
                "time_zone": "",
            }
        return {
            "place_id": place.geoname_id,
            "place_name": place.name,
            "region": place.region,
            "country": place.country,
            "latitude": place.latitude,
            "longitude": place.longitude,
            "time_zone": place.timezone,
        }

    def age_on(self, day: datetime.date) -> int | None:
        if self.birth_date is None:
            return None
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class MemberTopic(models.Model):
    """A topic a member wrote about (triage labels their texts): what "wrote about topic X" selects in an
    audience, without the audience reading a million messages. Kept up to date by triage, in batches."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="topic_rows", db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    texts = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "topic"], name="members_membertopic_uniq"),
        ]
        indexes = [models.Index(fields=["topic", "last_at"])]


class MemberInterest(models.Model):
    """A topic a member follows, or left (issue 14): announcements on a topic go to its followers only.

    Consent-like: once the member left a topic ("STOP HOUSING"), only the member can follow it again (a
    survey answer, "JOIN HOUSING", the signup form); a teammate, the API or an import cannot. The row is
    kept when they leave, so that rule holds and the console can say when they left."""

    class Source(models.TextChoices):
        SURVEY = "survey", "Survey answer"
        KEYWORD = "keyword", "Text keyword"
        SIGNUP = "signup", "Signup form"
        API = "api", "API"
        CONSOLE = "console", "Console"
        IMPORT = "import", "Import"

    # What the member said themselves: the only sources that may follow a topic they left.
    MEMBER_SOURCES = frozenset({Source.SURVEY, Source.KEYWORD, Source.SIGNUP})

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="interest_rows", db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")
    following = models.BooleanField(default=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    followed_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "topic"], name="members_memberinterest_uniq"),
        ]
        # "follows topic X" in an audience: the followers of a topic, by an index that holds only them.
        indexes = [
            models.Index(
                fields=["topic", "member"],
                name="members_interest_following",
                condition=models.Q(following=True),
            )
        ]

    def may_follow(self, source: str) -> bool:
        """Whether `source` may (re)start following: anyone for a topic never left, the member alone after."""
        return self.left_at is None or source in self.MEMBER_SOURCES


class MemberAnswer(models.Model):
    """A member's latest answer to one survey question, as audiences read it ("answered 2 to question 7"):
    kept by the surveys app beside its full record (surveys.Answer), like MemberTopic for triage, so the
    audience filter needs no import of a feature. `question_id` is surveys.Question's id (no foreign key:
    members sits below surveys)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="answer_rows", db_index=False)
    question_id = models.PositiveIntegerField()
    choices = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)  # choice positions
    value = models.CharField(max_length=200, blank=True)  # a number, yes/no or free text, normalised
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "question_id"], name="members_memberanswer_uniq"),
        ]
        indexes = [models.Index(fields=["question_id", "member"], name="members_answer_question")]


class WaitlistEntry(models.Model):
    """A phone that texted from outside the leader's pilot regions (Leader.pilot_regions): told "we're not
    there yet" and invited (a signup link, once) when its region opens. Not a member: no consent was given
    to anything but that one invitation, and an opted-out phone (the consent ledger) is never invited."""

    phone = PhoneField(unique=True)
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=120, blank=True)  # a gazetteer region name, or "" when unknown
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    last_text_at = models.DateTimeField(default=timezone.now)
    invited_at = models.DateTimeField(null=True, blank=True)  # the invitation went (exactly once)

    class Meta:
        indexes = [
            models.Index(
                fields=["country", "region"],
                name="members_waitlist_region",
                condition=models.Q(invited_at__isnull=True),
            )
        ]


class ConsentRecord(models.Model):
    """The consent ledger: every opt-in and opt-out, with what was shown and where it came from.

    Kept when a member's personal data is erased (the member is then an anonymous tombstone; the phone was
    only ever kept hashed), so the platform can still prove why it texted a number; the erasure clears the
    IP address and keeps only the day (members.consent.consent_records_anonymise).
    """

    class Kind(models.TextChoices):
        OPT_IN = "opt_in", "Opted in"
        OPT_OUT = "opt_out", "Opted out"

    class Source(models.TextChoices):
        WEB_FORM = "web_form", "Signup form"
        SMS_KEYWORD = "sms_keyword", "Text keyword"
        CARRIER = "carrier", "Carrier (recipient unsubscribed)"
        IMPORT = "import", "Import"
        API = "api", "API"
        CONSOLE = "console", "Console"

    member = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="consents")
    phone_hash = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    text = models.TextField(blank=True, help_text="What the member was shown or sent")
    text_version = models.CharField(max_length=32, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True, help_text="keyword, import file, API token…")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "signup_consentrecord"
        ordering = ["-created_at"]


class ExportRecord(models.Model):
    """Who exported members, when, with which filter and how many rows: shown to the leader's owners.

    The filter is kept as chosen, by field name, except the search text, which may be a name, a number or an
    email, and is only noted as used. Nothing else about the members exported is kept.
    """

    class Kind(models.TextChoices):
        MEMBERS_CSV = "members_csv", "Members (CSV)"
        SURVEY_ANSWERS = "survey_answers", "Survey answers (CSV)"  # filters: {"survey": id, "survey_name": …}
        # filters: {"event": id, "event_title": …}
        EVENT_ATTENDEES = "event_attendees", "Event attendees (CSV)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)  # kept when the teammate's account goes
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MEMBERS_CSV)
    filters = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(null=True, blank=True)  # None until the whole file was sent
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk} by {self.username}"
