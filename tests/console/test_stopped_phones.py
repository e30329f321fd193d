"""STOP is final in the console: the CSV import adds a phone that texted STOP opted out and says so in its
report; editing a member whose phone texted STOP opts them out (issue 12). STOPs come through Twilio's
signed webhook, to the leader's number."""

from __future__ import annotations

import gettext
import html
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from members.audience import audience_members
from members.consent import phone_hash
from members.models import ConsentRecord, Member
from tests import builders
from tests.console.conftest import client_for
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone

KEPT_SUMMARY = (
    "Kept opted out: %(kept)s. These phones asked to stop getting texts and never texted START again, so they "
    "get no texts until they do."
)
KEPT_LINE = "this phone asked to stop getting texts: added opted out, until it texts START"


def _import(leader, text_: str):
    upload = SimpleUploadedFile("supporters.csv", text_.encode(), content_type="text/csv")
    return client_for(leader, "dmitri").post(
        "/members/import/",
        {"file": upload, "consent_description": "Signed up at the rally", "default_country": "US"},
    )


def test_an_import_adds_a_phone_that_texted_stop_opted_out_and_reports_its_line(client, dana):
    tag = builders.new_tag()
    fresh, stopped, started = unique_phone(), unique_phone(), unique_phone()
    assert twiml_messages(text(client, dana, stopped, "STOP"))
    for word in ("STOP", "START"):
        assert twiml_messages(text(client, dana, started, word))

    response = _import(
        dana, f"phone,first_name,tags\n{fresh},Ana,{tag}\n{stopped},Omar,{tag}\n{started},Lea,{tag}\n"
    )

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "3 members added" in page
    assert KEPT_SUMMARY % {"kept": 1} in page
    assert f"<td>3</td><td>{KEPT_LINE}</td>" in page  # line 3 of the file: Omar
    with schema_context(dana.schema_name):
        omar = Member.objects.get(phone=stopped)
        the_stop = ConsentRecord.objects.get(phone_hash=phone_hash(stopped), member=None, kind="opt_out")
        assert omar.status == Member.Status.OPTED_OUT and omar.opted_out_at == the_stop.created_at
        assert not ConsentRecord.objects.filter(member=omar).exists()  # no opt-in over the phone's STOP
        assert ConsentRecord.objects.filter(member__phone=fresh, kind="opt_in", source="import").exists()
        assert set(audience_members({"tags_any": [tag]}).values_list("phone", flat=True)) == {fresh, started}
    dana.refresh_from_db()
    assert dana.member_count == 3


def test_an_import_without_stopped_phones_says_nothing_of_them(dana):
    response = _import(dana, f"phone\n{unique_phone()}\n")
    assert response.status_code == 200
    assert "Kept opted out" not in response.content.decode()


@pytest.mark.parametrize("language", ["fr", "es", "de", "ar"])
def test_the_report_of_stopped_phones_is_translated(language):
    catalogue = gettext.GNUTranslations(
        (Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.mo").open("rb")
    )
    for message in (KEPT_SUMMARY, KEPT_LINE):
        translated = catalogue.gettext(message)
        assert translated != message
        assert ("%(kept)s" in translated) == ("%(kept)s" in message)


def test_editing_a_member_whose_phone_texted_stop_opts_them_out(client, dana):
    """A member created subscribed after their phone's STOP (an import before this rule) is put right by the
    next edit of the member page."""
    tag = builders.new_tag()
    phone = unique_phone()
    assert twiml_messages(text(client, dana, phone, "STOP"))
    member = builders.member(leader=dana, phone=phone, tags=[tag])

    response = client_for(dana, "dmitri").post(f"/members/{member.pk}/", {"tags": f"{tag}, volunteer"})

    assert response.status_code == 302
    with schema_context(dana.schema_name):
        member.refresh_from_db()
        assert member.tags == [tag, "volunteer"]
        assert member.status == Member.Status.OPTED_OUT and member.opted_out_at is not None
        assert not audience_members({"tags_any": [tag]}).exists()


def test_editing_a_subscribed_member_leaves_them_subscribed(dana):
    member = builders.member(leader=dana)
    response = client_for(dana, "dmitri").post(f"/members/{member.pk}/", {"tags": "volunteer"})
    assert response.status_code == 302
    with schema_context(dana.schema_name):
        member.refresh_from_db()
        assert member.is_subscribed
