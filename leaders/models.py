"""Leaders are the platform's tenants: each has its own number, PostgreSQL schema, domain and team."""

from __future__ import annotations

import datetime
import re
import zoneinfo

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import schema_exists
from phonenumber_field.modelfields import PhoneNumberField

from leaders.schemas import template_clone
from places.gazetteer import region_countries, region_names_for

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# Slugs become host names and schema names; these would collide with the platform's own.
RESERVED_SLUGS = frozenset(
    {"public", "www", "admin", "api", "static", "media", "template", "leader-template", "webhooks", "mail"}
)
SCHEMA_PREFIX = "leader_"


def validate_slug(value: str) -> None:
    if not 2 <= len(value) <= 40:
        raise ValidationError("A slug is 2 to 40 characters long.", code="slug_length")
    if not SLUG_PATTERN.match(value):
        raise ValidationError(
            "A slug uses lowercase letters, digits and single hyphens, and starts with a letter.",
            code="slug_format",
        )
    if value in RESERVED_SLUGS:
        raise ValidationError(f"{value!r} is reserved for the platform.", code="slug_reserved")


def validate_country_code(value: str) -> None:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValidationError(f"{value!r} is not a two-letter country code (US, CA, FR…).", code="country")


PILOT_REGIONS_MAX = 100


def pilot_regions_clean(names, *, countries) -> list[str]:
    """A pilot's regions as stored: the gazetteer's names of the regions typed ("québec", "QC" -> "Quebec";
    as members.audience reads region filters), in the order given, repeats dropped. Refused, all errors at
    once: a name no region has, a region of none of `countries` (the leader's accepted countries) when those
    are set, more than PILOT_REGIONS_MAX."""
    found: list[str] = []
    errors: list[ValidationError] = []
    countries = {c.upper() for c in countries or []}
    for typed in names or []:
        typed = " ".join(str(typed).split())
        if not typed:
            continue
        known = region_names_for(typed)
        if not known:
            errors.append(
                ValidationError(
                    _("No region is called %(name)s."), code="region_unknown", params={"name": typed}
                )
            )
            continue
        inside = [name for name in known if not countries or region_countries(name) & countries]
        if not inside:
            errors.append(
                ValidationError(
                    _("%(name)s is not a region of your accepted countries (%(countries)s)."),
                    code="region_elsewhere",
                    params={"name": typed, "countries": ", ".join(sorted(countries))},
                )
            )
        found.extend(name for name in inside if name not in found)
    if len(found) > PILOT_REGIONS_MAX:
        errors.append(
            ValidationError(
                _("At most %(max)s pilot regions."), code="regions_many", params={"max": PILOT_REGIONS_MAX}
            )
        )
    if errors:
        raise ValidationError(errors)
    return found


def schema_name_for(slug: str) -> str:
    # Slugs have no underscores, so replacing hyphens keeps the mapping one to one.
    return SCHEMA_PREFIX + slug.replace("-", "_")


def leader_photo_path(leader: Leader, filename: str) -> str:
    return f"leaders/{leader.slug}/{filename}"


def time_zone_choices() -> list[tuple[str, str]]:
    """Every time zone this machine knows, by name (America/Toronto), sorted: what a leader's zone is chosen
    from (console settings, staff admin). Read once per process."""
    global _TIME_ZONE_CHOICES
    if _TIME_ZONE_CHOICES is None:
        names = sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")
        _TIME_ZONE_CHOICES = [(name, name.replace("_", " ")) for name in names]
    return _TIME_ZONE_CHOICES


_TIME_ZONE_CHOICES: list[tuple[str, str]] | None = None


class Leader(TenantMixin):
    """A politician, party or artist: one tenant, one schema, one published number."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"  # webhooks still answer; nothing is sent

    class NumberType(models.TextChoices):
        LONG_CODE = "long_code", "Long code (10DLC)"
        TOLL_FREE = "toll_free", "Toll-free"
        SHORT_CODE = "short_code", "Short code"

    # Carrier rates in segments per second, by number type (shared/PRODUCT.md): the default pace.
    DEFAULT_SEGMENTS_PER_SECOND = {
        NumberType.LONG_CODE: 1,
        NumberType.TOLL_FREE: 3,
        NumberType.SHORT_CODE: 100,
    }

    slug = models.SlugField(max_length=40, unique=True, validators=[validate_slug])
    name = models.CharField("display name", max_length=120)
    phone_number = PhoneNumberField(
        unique=True, help_text="The number fans text, in E.164 (+12025550142). Unique on the platform."
    )
    number_type = models.CharField(max_length=16, choices=NumberType.choices, default=NumberType.LONG_CODE)
    segments_per_second = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The sending rate this number is allowed, in SMS segments per second. "
        "Blank: the carrier default for its type (long code 1, toll-free 3, short code 100).",
    )
    allowed_countries = ArrayField(
        models.CharField(max_length=2, validators=[validate_country_code]),
        default=list,
        blank=True,
        help_text="Country codes members may text from (US, CA…). Empty: any country.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # What fans see and hear. Blank texts fall back to the platform's translated defaults.
    time_zone = models.CharField(max_length=64, default="America/New_York")
    default_language = models.CharField(max_length=8, default="en")
    welcome_text = models.CharField(max_length=200, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    signup_intro = models.CharField(max_length=300, blank=True)
    voice_greeting = models.CharField(max_length=400, blank=True)
    # The signup page's photo, under MEDIA_ROOT/leaders/<slug>/ (set in the console's settings).
    signup_photo = models.FileField(upload_to=leader_photo_path, max_length=200, blank=True)
    minimum_age = models.PositiveSmallIntegerField(default=13)
    quiet_hours_start = models.TimeField(default=datetime.time(21, 0))
    quiet_hours_end = models.TimeField(default=datetime.time(9, 0))
    approval_threshold = models.PositiveIntegerField(
        default=10_000, help_text="Broadcasts to more members than this need a second teammate's approval."
    )
    # Triage (the triage app): below this confidence a text stays unsorted rather than guessed; None is
    # triage.DEFAULT_THRESHOLD.
    triage_threshold = models.FloatField(null=True, blank=True)
    # Replies end with "— <teammate's display name>".
    sign_replies = models.BooleanField(default=False)
    # Responders always see phone numbers masked (•••• 0142); the owner decides for managers.
    managers_see_phones = models.BooleanField(default=True)
    # Interests (issue 14). At most this many broadcasts reach one member in any 7 days, across broadcasts;
    # those over it are skipped and counted (Broadcast.capped_count), never queued for later. 0: no cap.
    announcement_cap = models.PositiveSmallIntegerField(default=0)
    # A pilot: membership limited to these regions (gazetteer region names, as Member.region stores them), on
    # top of allowed_countries. A fan texting from elsewhere is told "not there yet" and waitlisted
    # (members.WaitlistEntry). Empty: no pilot, every region of the allowed countries.
    pilot_regions = ArrayField(models.CharField(max_length=120), default=list, blank=True)
    # Words that opt a fan out on top of the ones every leader honours (messaging.keywords), as the console
    # stores them (messaging.keywords.keyword_clean: upper case, accents kept); matched accents and case
    # folded. Checked by the console's settings form (at most 20, none a start or help word or a keyword
    # reply). Read on every inbound text from the cached leader (leaders.routing): no query of their own.
    stop_words = ArrayField(models.CharField(max_length=30), default=list, blank=True)

    # Denormalised counters for the staff admin, so no page loops over schemas.
    member_count = models.PositiveIntegerField(default=0, editable=False)
    messages_sent_month = models.DateField(null=True, blank=True, editable=False)
    messages_sent_this_month = models.PositiveIntegerField(default=0, editable=False)

    # django-tenants creates the schema on first save (cloned from TENANT_BASE_SCHEMA).
    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"])]

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Clone the migrated template schema; fall back to django-tenants' migrate when there is none.

        The clone copies the template's rows of django_migrations too, so the "fake migrate" that
        django-tenants runs after cloning (loading the whole migration graph, about as long as the clone
        itself) has nothing to record and is skipped. The clone itself is leaders.schemas.template_clone,
        which stays flat as leaders accumulate (django-tenants' general clone does not).
        """
        base = settings.TENANT_BASE_SCHEMA
        if (
            not sync_schema
            or not schema_exists(base)
            or (check_if_exists and schema_exists(self.schema_name))
        ):
            return super().create_schema(
                check_if_exists=check_if_exists, sync_schema=sync_schema, verbosity=verbosity
            )
        if schema_exists(self.schema_name, case_sensitive=False):
            raise ValidationError(f"The schema {self.schema_name} already exists.")
        connection.set_schema_to_public()
        template_clone(self.schema_name)
        connection.set_schema_to_public()
        return True

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def clean(self) -> None:
        super().clean()
        if self.slug and not self.schema_name:
            self.schema_name = schema_name_for(self.slug)
        self.allowed_countries = sorted({c.upper() for c in self.allowed_countries or []})
        try:
            self.pilot_regions = pilot_regions_clean(self.pilot_regions, countries=self.allowed_countries)
        except ValidationError as error:
            raise ValidationError({"pilot_regions": error.error_list}) from None

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def sending_rate(self) -> int:
        """Segments per second this leader's number may send."""
        return self.segments_per_second or self.DEFAULT_SEGMENTS_PER_SECOND[self.number_type]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The leader's time zone (``time_zone``), UTC when the name is not a zone this machine knows."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def phones_visible_to(self, user) -> bool:
        """Whether this teammate reads fans' numbers in full, in the console and through their API token.
        Owners always do; responders never (they answer texts: the thread is what they need, and a number
        copied out is a fan's privacy gone); managers unless the owner turned it off."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.is_owner:
            return True
        if user.role == user.Role.MANAGER:
            return bool(self.managers_see_phones)
        return False

    def accepts_country(self, country_code: str | None) -> bool:
        return not self.allowed_countries or (country_code or "").upper() in self.allowed_countries

    def pilot_admits(self, region: str) -> bool:
        """Whether a fan from `region` (a gazetteer region name, "" when unknown) may join, as far as the
        pilot goes: no pilot, or one of its regions. The country is `accepts_country`'s to say."""
        return not self.pilot_regions or region in self.pilot_regions

    def pilot_widened(self, before: list[str]) -> bool:
        """Whether going from the pilot regions `before` to this leader's opened something: a region added,
        or the pilot ended (no regions: everywhere)."""
        if not before:
            return False
        return not self.pilot_regions or bool(set(self.pilot_regions) - set(before))

    def suspend(self, *, reason: str = "") -> None:
        self.status = self.Status.SUSPENDED
        self.suspended_at = timezone.now()
        self.suspension_reason = reason
        self.save(update_fields=["status", "suspended_at", "suspension_reason"])

    def reactivate(self) -> None:
        self.status = self.Status.ACTIVE
        self.suspended_at = None
        self.suspension_reason = ""
        self.save(update_fields=["status", "suspended_at", "suspension_reason"])

    # Adds %(sent)s to leader %(leader_id)s's counter for %(month)s (its first day), starting over when the
    # month changes; one statement, so two workers crossing the month boundary together cannot lose a count.
    # Also embedded, as a CTE, in the statement that records an inbound webhook's welcome
    # (inbound.statements.WELCOME), so that counting costs it no round trip.
    COUNT_SENT_SQL = """
        UPDATE "public".leaders_leader SET
            messages_sent_this_month = CASE WHEN messages_sent_month = %(month)s
                THEN messages_sent_this_month + %(sent)s ELSE %(sent)s END,
            messages_sent_month = %(month)s
        WHERE id = %(leader_id)s"""

    @classmethod
    def count_messages_sent(cls, leader_id: int, count: int) -> None:
        """Add to this month's sent counter in one UPDATE, starting over when the month changes."""
        with connection.cursor() as cursor:
            cursor.execute(cls.COUNT_SENT_SQL, cls.count_params(leader_id, count))

    @staticmethod
    def count_params(leader_id: int, count: int) -> dict:
        return {"leader_id": leader_id, "sent": count, "month": timezone.now().date().replace(day=1)}

    @classmethod
    def count_members_joined(cls, leader_id: int, count: int = 1) -> None:
        cls.objects.filter(pk=leader_id).update(member_count=F("member_count") + count)

    @cached_property
    def primary_host(self) -> str | None:
        """The host name of the leader's primary domain, None without one: read once per instance, so the
        leader the inbound webhook keeps cached for a few seconds costs no query per welcome link."""
        domain = self.get_primary_domain()
        return domain.domain if domain else None

    @property
    def messages_sent_in_current_month(self) -> int:
        month = timezone.now().date().replace(day=1)
        return self.messages_sent_this_month if self.messages_sent_month == month else 0


class Domain(DomainMixin):
    """A host name that routes to a leader: <slug>.<PLATFORM_DOMAIN>, or the leader's own."""

    class Meta:
        ordering = ["domain"]
