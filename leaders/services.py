"""Workflows on leaders: onboarding, team accounts, suspension."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from common import events
from common.phones import PhoneError, number_defaults, phone_parse
from leaders.models import (
    Domain,
    Leader,
    pilot_regions_clean,
    schema_name_for,
    validate_country_code,
    validate_slug,
)


def normalize_phone_number(value: str) -> str:
    """E.164 for a valid number written in E.164 (+ and country code); ValidationError otherwise."""
    text = (value or "").strip()
    if not text.startswith("+"):
        raise ValidationError(
            f"{text!r} is not in E.164 form: start with + and the country code (+12025550142)."
        )
    try:
        return phone_parse(text)[0]
    except PhoneError as exc:
        raise ValidationError(f"{text!r}: {str(exc)[0].lower()}{str(exc)[1:]}") from None


def leader_default_domain(slug: str) -> str:
    return f"{slug}.{settings.PLATFORM_DOMAIN}"


def normalize_domain(value: str) -> str:
    host = (value or "").strip().lower().rstrip(".")
    if ":" in host:
        host = host.split(":", 1)[0]
    labels = host.split(".")
    if (
        not host
        or len(host) > 253
        or any(
            not label or len(label) > 63 or not all(c.isalnum() or c == "-" for c in label) or label[0] == "-"
            for label in labels
        )
    ):
        raise ValidationError(f"{value!r} is not a valid host name.")
    return host


def leader_validate(
    *,
    slug: str,
    name: str,
    phone_number: str,
    domain: str | None = None,
    countries: list[str] | tuple[str, ...] = (),
    number_type: str = Leader.NumberType.LONG_CODE,
) -> dict:
    """Check a new leader's details without writing anything; the normalised arguments of leader_create.

    Raises ValidationError with a message per field (slug, name, phone_number, domain, countries).
    """
    slug = (slug or "").strip().lower()
    errors: dict[str, list[str]] = {}

    def check(field: str, func, *args):
        try:
            return func(*args)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            return None

    check("slug", validate_slug, slug)
    number = check("phone_number", normalize_phone_number, phone_number)
    host = check("domain", normalize_domain, domain or leader_default_domain(slug or "x"))
    country_codes = sorted({(c or "").strip().upper() for c in countries if (c or "").strip()})
    for code in country_codes:
        check("countries", validate_country_code, code)
    if not (name or "").strip():
        errors.setdefault("name", []).append("A leader needs a display name.")
    if number_type not in Leader.NumberType.values:
        errors.setdefault("number_type", []).append(f"{number_type!r} is not a number type.")

    if slug and Leader.objects.filter(slug=slug).exists():
        errors.setdefault("slug", []).append(f"A leader with the slug {slug!r} already exists.")
    if number and Leader.objects.filter(phone_number=number).exists():
        errors.setdefault("phone_number", []).append(f"The number {number} already belongs to a leader.")
    # A derived domain of a slug that is already refused would only repeat the slug's error.
    if host and (domain or "slug" not in errors) and Domain.objects.filter(domain=host).exists():
        errors.setdefault("domain", []).append(f"The domain {host} is already in use.")
    if errors:
        raise ValidationError(errors)
    return {
        "slug": slug,
        "name": name.strip(),
        "phone_number": number,
        "domain": host,
        "countries": country_codes,
        "number_type": number_type,
    }


def leader_create(
    *,
    slug: str,
    name: str,
    phone_number: str,
    domain: str | None = None,
    countries: list[str] | tuple[str, ...] = (),
    number_type: str = Leader.NumberType.LONG_CODE,
) -> Leader:
    """Create a leader with its schema (cloned from the template) and its domain, all or nothing.

    Raises ValidationError with a message per problem (leader_validate); nothing is left behind when it
    does. Call it inside a caller's transaction to make the leader part of a larger all-or-nothing step.
    """
    spec = leader_validate(
        slug=slug,
        name=name,
        phone_number=phone_number,
        domain=domain,
        countries=countries,
        number_type=number_type,
    )
    # A new leader's clock and language follow its number (+33 → Europe/Paris, French), else the defaults;
    # the settings page changes them.
    zone, language = number_defaults(str(spec["phone_number"]))
    leader = Leader(
        slug=spec["slug"],
        schema_name=schema_name_for(spec["slug"]),
        name=spec["name"],
        phone_number=spec["phone_number"],
        allowed_countries=spec["countries"],
        number_type=spec["number_type"],
        time_zone=zone or Leader._meta.get_field("time_zone").default,
        default_language=language or Leader._meta.get_field("default_language").default,
    )
    try:
        # Schema DDL is transactional in PostgreSQL: a failure anywhere leaves no orphan schema or domain.
        with transaction.atomic():
            leader.save()
            Domain.objects.create(domain=spec["domain"], tenant=leader, is_primary=True)
    except IntegrityError as exc:
        # Lost a race with a concurrent creation of the same slug, number or domain.
        raise ValidationError(
            f"The slug, number or domain is already in use ({exc.__class__.__name__})."
        ) from None
    return leader


def leader_user_create(
    *, leader: Leader, username: str, role: str, password: str | None, email: str = ""
) -> User:
    """A team account inside the leader's schema."""
    if role not in User.Role.values:
        raise ValidationError(f"role must be one of {', '.join(User.Role.values)}, not {role!r}.")
    username = (username or "").strip()
    if not username:
        raise ValidationError("A username is required.")
    with schema_context(leader.schema_name):
        if User.objects.filter(username=username).exists():
            raise ValidationError(f"{username!r} is already on {leader.slug}'s team.")
        user = User(username=username, email=email, role=role)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    return user


def leader_primary_url(leader: Leader) -> str:
    """The leader's console/signup base URL, on the same scheme and port as PUBLIC_BASE_URL."""

    host = leader.primary_host or leader_default_domain(leader.slug)
    base = urlsplit(settings.PUBLIC_BASE_URL)
    port = f":{base.port}" if base.port else ""
    return f"{base.scheme}://{host}{port}"


def leader_pilot_changed(*, leader: Leader, before: list[str]) -> bool:
    """The leader's pilot regions were saved (console settings, the staff admin, `leader_pilot_open`); when
    that opened something (`Leader.pilot_widened`), say so (common.events.PILOT_OPENED): the signup app
    invites the waitlisted phones now inside, on commit. Returns whether it opened anything."""
    if not leader.pilot_widened(before):
        return False
    events.emit(events.PILOT_OPENED, leader=leader)
    return True


def leader_pilot_open(*, leader: Leader, regions: list[str] | None) -> list[str]:
    """Open `regions` (names as typed: "ontario", "ON") to membership, added to the pilot's; None ends the
    pilot (everywhere). Raises ValidationError for a name that is no region of the leader's accepted
    countries. Returns the regions that were not open before (everything: ["*"] when the pilot ended)."""
    added = [] if regions is None else pilot_regions_clean(regions, countries=leader.allowed_countries)
    with transaction.atomic():
        # The row as it is now, locked: two openings at once (the console and the API) both count, and
        # neither undoes the other's region after its invitations were queued.
        before = list(
            Leader.objects.select_for_update().values_list("pilot_regions", flat=True).get(pk=leader.pk)
        )
        if not before:
            return []  # no pilot: every region is open already (opening one must not start a pilot)
        after = [] if regions is None else before + [name for name in added if name not in before]
        if after == before:
            return []
        leader.pilot_regions = after
        leader.save(update_fields=["pilot_regions"])  # post_save clears the routing cache
        leader_pilot_changed(leader=leader, before=before)
    return ["*"] if not after else [name for name in after if name not in before]
