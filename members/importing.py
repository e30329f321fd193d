"""Adding existing supporters from a CSV file, in the current leader's schema: every row checked, then
all written (with a consent ledger row each) or none."""

from __future__ import annotations

import csv
import datetime
import io
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from common.phones import phone_country, phone_normalize
from leaders.models import Leader
from members.consent import consent_records_opt_in, members_opt_out_keep
from members.models import ConsentRecord, Member
from members.services import MAX_TAGS, tags_parse
from places.gazetteer import resolve_city

logger = logging.getLogger(__name__)

IMPORT_MAX_ROWS = 25_000  # per file, like RapidPro: bigger lists are split, so a report stays readable
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_BATCH = 2_000
IMPORT_COLUMNS = (
    "phone",
    "first_name",
    "last_name",
    "email",
    "gender",
    "birth_date",
    "language",
    "city",
    "tags",
    "joined_at",
)
_LANGUAGES = {code for code, _name in settings.LANGUAGES}
_GENDERS = set(Member.Gender.values)


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): already members
    # (line, why): added opted out, because the phone asked to stop and never asked to start again
    kept_opted_out: list[tuple[int, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong); line 0: the file

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_rows(upload: UploadedFile) -> tuple[list[str], list[dict[str, str]]] | str:
    if upload.size and upload.size > IMPORT_MAX_BYTES:
        return _("The file is larger than 10 MB. Split it into smaller files.")
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _("The file is not UTF-8 text. Save it as CSV UTF-8.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "phone" not in headers:
        return _("The first line must name the columns, including phone.")
    reader.fieldnames = headers
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > IMPORT_MAX_ROWS:
                return _("A file holds at most %(count)s rows. Split it into smaller files.") % {
                    "count": f"{IMPORT_MAX_ROWS:,}"
                }
    except csv.Error as exc:
        return _("The file is not valid CSV: %(error)s") % {"error": exc}
    return headers, rows


def members_import(
    *, leader: Leader, upload: UploadedFile, consent_description: str, default_country: str, imported_by
) -> ImportReport:
    """Add existing supporters from a CSV file: every row valid, or nothing written.

    Each row is checked (phone normalised to E.164 with `default_country`, duplicates in the file, email,
    gender, birth date, language, the leader's accepted countries); numbers that are already members are
    skipped and reported. New members get a consent ledger row (source import) carrying the description
    of how they consented, except those whose phone asked to stop and never asked to start again: they are
    added opted out, without that row, and reported (`kept_opted_out`). Rows are written with bulk_create
    in batches inside one transaction.
    """
    report = ImportReport()
    consent_description = (consent_description or "").strip()
    if not consent_description:
        report.errors.append((0, _("Say how these people agreed to receive texts.")))
        return report
    read = _read_rows(upload)
    if isinstance(read, str):
        report.errors.append((0, read))
        return report
    _headers, rows = read
    report.rows = len(rows)
    if not rows:
        report.errors.append((0, _("The file has no rows.")))
        return report

    members: list[Member] = []
    first_line_of: dict[str, int] = {}
    now = timezone.now()
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        problems: list[str] = []
        raw_phone = (row.get("phone") or "").strip()
        phone = phone_normalize(raw_phone, country=default_country or None) if raw_phone else None
        if not raw_phone:
            problems.append(_("phone is missing"))
        elif phone is None:
            problems.append(_("%(phone)s is not a valid phone number") % {"phone": raw_phone[:20]})
        elif phone in first_line_of:
            problems.append(_("duplicate of line %(line)d") % {"line": first_line_of[phone]})
        else:
            first_line_of[phone] = number
            region = phone_country(phone)
            if not leader.accepts_country(region):
                problems.append(_("numbers from %(country)s are not accepted") % {"country": region})
        email = (row.get("email") or "").strip()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(_("%(email)s is not an email address") % {"email": email[:60]})
        gender = (row.get("gender") or "").strip().lower()
        if gender and gender not in _GENDERS:
            problems.append(_("gender must be one of %(choices)s") % {"choices": ", ".join(sorted(_GENDERS))})
        birth_date = None
        raw_birth = (row.get("birth_date") or "").strip()
        if raw_birth:
            try:
                birth_date = datetime.date.fromisoformat(raw_birth)
                if not datetime.date(1900, 1, 1) <= birth_date <= now.date():
                    raise ValueError
            except ValueError:
                problems.append(
                    _("birth_date %(value)s is not a date like 1990-04-25") % {"value": raw_birth[:20]}
                )
        joined_at = now
        raw_joined = (row.get("joined_at") or "").strip()
        if raw_joined:
            try:
                joined_at = datetime.datetime.fromisoformat(raw_joined)
                if joined_at.tzinfo is None:
                    joined_at = joined_at.replace(tzinfo=datetime.UTC)
                if joined_at > now:
                    raise ValueError
            except ValueError:
                problems.append(
                    _("joined_at %(value)s is not a past date like 2024-05-01") % {"value": raw_joined[:25]}
                )
        language = (row.get("language") or "").strip().lower() or leader.default_language
        if language not in _LANGUAGES:
            problems.append(
                _("language must be one of %(choices)s") % {"choices": ", ".join(sorted(_LANGUAGES))}
            )
        first_name = (row.get("first_name") or "").strip()
        last_name = (row.get("last_name") or "").strip()
        city = (row.get("city") or "").strip()
        if len(first_name) > 60 or len(last_name) > 60 or len(city) > 120:
            problems.append(_("a name or city is too long"))
        if problems:
            report.errors.append((number, "; ".join(problems)))
            continue
        member = Member(
            phone=phone,
            first_name=first_name,
            last_name=last_name,
            email=email,
            gender=gender,
            birth_date=birth_date,
            language=language,
            city=city,
            tags=tags_parse(row.get("tags") or "")[:MAX_TAGS],
            joined_at=joined_at,
        )
        if city:
            place = resolve_city(city, country=phone_country(phone))
            if place is not None:
                member.place_set(place)
        members.append(member)

    if report.errors:
        return report

    existing = set()
    phones = [m.phone for m in members]
    for start in range(0, len(phones), IMPORT_BATCH):
        existing.update(
            Member.objects.filter(phone__in=phones[start : start + IMPORT_BATCH]).values_list(
                "phone", flat=True
            )
        )
    new_members = []
    for member in members:
        if member.phone in existing:
            report.skipped.append((first_line_of[member.phone], _("already a member: kept as is")))
        else:
            new_members.append(member)
    # A phone that texted STOP (or was opted out, or erased) and never texted a start word stays opted out:
    # added, but opted out, with no opt-in recorded over its own word.
    kept = members_opt_out_keep(new_members)
    for member in kept:
        report.kept_opted_out.append(
            (
                first_line_of[member.phone],
                _("this phone asked to stop getting texts: added opted out, until it texts START"),
            )
        )
    report.kept_opted_out.sort()

    detail = (getattr(upload, "name", "") or "import")[:200]
    try:
        _import_write(
            leader=leader,
            members=new_members,
            opted_in=[member for member in new_members if member.is_subscribed],
            consent_description=consent_description,
            detail=detail,
            now=now,
        )
    except IntegrityError:
        # A fan joined by text with one of these numbers while the file was checked: nothing was written.
        report.errors.append(
            (0, _("Someone in the file joined while it was being imported. Import it again."))
        )
        report.skipped.clear()
        report.kept_opted_out.clear()
        return report
    report.created = len(new_members)
    logger.info(
        "import into %s by user %s: %d rows, %d created (%d kept opted out), %d skipped",
        leader.slug,
        getattr(imported_by, "pk", None),
        report.rows,
        report.created,
        len(report.kept_opted_out),
        len(report.skipped),
    )
    return report


@transaction.atomic
def _import_write(
    *,
    leader: Leader,
    members: list[Member],
    opted_in: list[Member],
    consent_description: str,
    detail: str,
    now,
) -> None:
    """Write the new members; an opt-in in the ledger for those in `opted_in` (the others' phones opted
    out: members_opt_out_keep)."""
    for start in range(0, len(members), IMPORT_BATCH):
        Member.objects.bulk_create(members[start : start + IMPORT_BATCH])
    for start in range(0, len(opted_in), IMPORT_BATCH):
        consent_records_opt_in(
            members=opted_in[start : start + IMPORT_BATCH],
            source=ConsentRecord.Source.IMPORT,
            text=consent_description,
            detail=detail,
            created_at=now,
        )
    if members:
        Leader.count_members_joined(leader.pk, len(members))
