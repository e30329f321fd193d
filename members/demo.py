"""Synthetic members for the demo leader and benchmarks: realistic, invented, and loaded with COPY.

Phone numbers belong to no one: the fictional lines 555-0100..0199 behind each of the 451 valid North
American area codes (45,100 numbers), then the unassigned +1 555 area code, which no carrier routes, for
the millions a benchmark needs. Emails are at example.org.
"""

from __future__ import annotations

import datetime
import random
import unicodedata

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from common.phones import phone_normalize
from members.consent import phones_opt_out_standing
from members.models import ConsentRecord, Member
from places.gazetteer import Place, resolve_city

AREA_CODES = sorted(npa for npa in range(200, 1000) if phone_normalize(f"+1{npa}5550142"))
AREA_CODES.remove(202)
AREA_CODES.insert(0, 202)
FICTIONAL_LINES = len(AREA_CODES) * 100


def fictional_number(index: int) -> str:
    """The index-th phone number that belongs to no one; the same index always gives the same number."""
    if index < FICTIONAL_LINES:
        return f"+1{AREA_CODES[index // 100]}55501{index % 100:02d}"
    return f"+1555{index - FICTIONAL_LINES:07d}"


# (city, country, weight, languages): the demo community is North American with diaspora abroad.
DEMO_CITIES = [
    ("Montréal", "CA", 14, ("fr", "fr", "en")),
    ("Laval", "CA", 4, ("fr", "en")),
    ("Québec", "CA", 4, ("fr",)),
    ("Toronto", "CA", 10, ("en", "en", "fr")),
    ("Vancouver", "CA", 5, ("en",)),
    ("Ottawa", "CA", 4, ("en", "fr")),
    ("New York City", "US", 10, ("en", "es")),
    ("Los Angeles", "US", 7, ("en", "es")),
    ("Chicago", "US", 5, ("en",)),
    ("Houston", "US", 4, ("en", "es")),
    ("Miami", "US", 4, ("es", "en")),
    ("Washington", "US", 3, ("en",)),
    ("Mexico City", "MX", 6, ("es",)),
    ("Guadalajara", "MX", 2, ("es",)),
    ("Madrid", "ES", 2, ("es",)),
    ("Paris", "FR", 3, ("fr",)),
    ("Lyon", "FR", 1, ("fr",)),
    ("Berlin", "DE", 2, ("de",)),
    ("München", "DE", 1, ("de",)),
    ("Casablanca", "MA", 1, ("ar", "fr")),
    ("Cairo", "EG", 1, ("ar",)),
]
FIRST_NAMES = {
    "female": [
        "Maya",
        "Sofía",
        "Chloé",
        "Emma",
        "Léa",
        "Fatima",
        "Ana",
        "Olivia",
        "Camille",
        "Lucía",
        "Mia",
        "Nour",
        "Hannah",
        "Zoé",
        "Isabella",
        "Amira",
        "Gabrielle",
        "Valentina",
        "Sarah",
        "Noémie",
    ],
    "male": [
        "Liam",
        "Mateo",
        "Noah",
        "Louis",
        "Youssef",
        "Lucas",
        "Diego",
        "Félix",
        "Omar",
        "Jonas",
        "Ethan",
        "Santiago",
        "Gabriel",
        "Karim",
        "Thomas",
        "Leon",
        "Samuel",
        "Antoine",
        "Hugo",
        "Daniel",
    ],
    "other": ["Alex", "Sam", "Charlie", "Robin", "Camille", "Dominique", "Jordan", "Noa", "Sasha", "Eden"],
}
LAST_NAMES = [
    "Tremblay",
    "García",
    "Martin",
    "Gagnon",
    "Smith",
    "Hernández",
    "Roy",
    "Müller",
    "Bouchard",
    "López",
    "Côté",
    "Nguyen",
    "Johnson",
    "Dubois",
    "Benali",
    "Schmidt",
    "Pelletier",
    "Rodríguez",
    "Lefebvre",
    "Haddad",
    "Brown",
    "Fournier",
    "Morales",
    "Wagner",
    "Leblanc",
    "Ortiz",
    "Khalil",
]
GENDERS = [("female", 48), ("male", 46), ("non_binary", 2), ("another", 1), ("undisclosed", 3)]
TAGS = ["volunteer", "donor", "rally-2026", "vip", "press", "student"]

COLUMNS = (
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
    "latitude",
    "longitude",
    "time_zone",
    "tags",
    "status",
    "opted_out_at",
    "joined_at",
    "updated_at",
)


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _resolved_cities() -> list[tuple[str, Place | None, int, tuple[str, ...]]]:
    return [
        (name, resolve_city(name, country=country), weight, languages)
        for name, country, weight, languages in DEMO_CITIES
    ]


def members_seed(*, count: int, start_index: int = 0, seed: int = 2026, batch: int = 10_000) -> int:
    """COPY `count` synthetic members into the current schema; returns how many were written.

    Run inside the leader's schema_context. Phone numbers continue from start_index, so calling it again
    with start_index = the number already seeded adds members without collisions. A number whose opt-out
    stands in the leader's consent ledger (someone played it in the phone simulator and texted STOP) is
    seeded opted out, as every path that creates members does (members.consent.members_opt_out_keep).
    """
    rng = random.Random(seed + start_index)
    # Every generated value is free of tabs, newlines and backslashes, so rows are joined without
    # escaping; the city columns are rendered once per city.
    cities = [
        (languages, "\t".join(_copy_text(v) for v in _city_columns(name, place)))
        for name, place, _, languages in _resolved_cities()
    ]
    city_weights = [weight for _, _, weight, _ in DEMO_CITIES]
    genders = [g for g, _ in GENDERS]
    gender_weights = [w for _, w in GENDERS]
    tag_choices = [[]] * 3 + [[tag] for tag in TAGS] + [[a, b] for a in TAGS[:3] for b in TAGS[3:]]
    now = timezone.now()
    now_text = now.isoformat()
    today = now.date()
    year_seconds = 365 * 86400
    table = connection.ops.quote_name("signup_member")
    columns = ", ".join(COLUMNS)
    written = 0
    stopped = _opt_outs_standing(start_index, count)
    with transaction.atomic():
        # A large load builds the secondary indexes once at the end, several times faster than
        # maintaining nine indexes row by row; the unique phone index stays, so collisions still fail.
        rebuild = _secondary_indexes_drop() if count >= 100_000 else []
        # One COPY fed in chunks: PostgreSQL stores a chunk while Python makes the next.
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            while written < count:
                size = min(batch, count - written)
                lines = []
                picked_cities = rng.choices(cities, weights=city_weights, k=size)
                picked_genders = rng.choices(genders, weights=gender_weights, k=size)
                for offset in range(size):
                    index = start_index + written + offset
                    languages, city_columns = picked_cities[offset]
                    gender = picked_genders[offset]
                    first = rng.choice(FIRST_NAMES.get(gender) or FIRST_NAMES["other"])
                    last = rng.choice(LAST_NAMES)
                    # Ages 13-90, weighted towards adults the way a politician's audience is.
                    age = min(90, max(13, int(rng.gauss(42, 16))))
                    birth = today - datetime.timedelta(days=age * 365 + rng.randrange(365))
                    joined = now - datetime.timedelta(seconds=rng.randrange(year_seconds))
                    opted_out = rng.random() < 0.03
                    email = (
                        f"{_ascii(first)}.{_ascii(last)}.{index}@example.org" if rng.random() < 0.85 else ""
                    )
                    opted_out_at = (joined + datetime.timedelta(days=rng.randint(1, 60))).isoformat()
                    phone = fictional_number(index)
                    if phone in stopped:
                        opted_out, opted_out_at = True, stopped[phone].isoformat()
                    lines.append(
                        f"{phone}\t{first}\t{last}\t{gender}\t{birth.isoformat()}\t{email}\t"
                        f"{rng.choice(languages)}\t{city_columns}\t{{{','.join(rng.choice(tag_choices))}}}\t"
                        f"{'opted_out' if opted_out else 'subscribed'}\t{opted_out_at if opted_out else NULL}\t"
                        f"{joined.isoformat()}\t{now_text}\n"
                    )
                copy.write("".join(lines))
                written += size
        if rebuild:
            with connection.cursor() as cursor:
                for statement in rebuild:
                    cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return written


NULL = "\\N"


def _opt_outs_standing(start_index: int, count: int) -> dict:
    """The numbers about to be seeded whose opt-out stands in this schema's ledger (none in a new demo
    leader's: then no number is hashed)."""
    if not ConsentRecord.objects.filter(kind=ConsentRecord.Kind.OPT_OUT).exists():
        return {}
    return phones_opt_out_standing(
        fictional_number(index) for index in range(start_index, start_index + count)
    )


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _city_columns(name: str, place: Place | None) -> tuple:
    """city, then the place's fields in COLUMNS' order, as Member.place_fields maps them."""
    fields = {"country": "", **Member.place_fields(place)}
    return (name, *(fields[column] for column in COLUMNS[COLUMNS.index("place_id") : COLUMNS.index("tags")]))


def _secondary_indexes_drop() -> list[str]:
    """Drop signup_member's non-unique indexes in this schema; return the statements that rebuild them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            JOIN pg_class c ON c.relname = i.indexname
            JOIN pg_index x ON x.indexrelid = c.oid
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
            WHERE i.tablename = 'signup_member' AND i.schemaname = current_schema() AND NOT x.indisunique
            """
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _, definition in indexes]


def leader_member_count_refresh(leader) -> int:
    """Recount members from the leader's schema into the public counter (after bulk loads)."""
    with schema_context(leader.schema_name):
        count = Member.objects.count()
    type(leader).objects.filter(pk=leader.pk).update(member_count=count)
    return count
