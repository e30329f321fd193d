"""A phone's opt-out is final whatever the path (issue 12): which ledger rows speak for a phone
(members.consent.phones_opt_out_standing), keeping members opted out (members_opt_out_keep), and seeding."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from members.consent import (
    consent_record,
    member_opt_in,
    member_opt_out,
    members_opt_out_keep,
    phone_consent_record,
    phone_opt_out_standing,
    phones_opt_out_standing,
)
from members.demo import fictional_number
from members.models import ConsentRecord, Member
from tests.messaging.webhooks import text, twiml_messages
from tests.phones import unique_phone

OPT_IN, OPT_OUT = ConsentRecord.Kind.OPT_IN, ConsentRecord.Kind.OPT_OUT
Source = ConsentRecord.Source


def test_only_the_phones_own_opt_in_lifts_its_opt_out(alice_schema):
    phone = unique_phone()
    assert phone_opt_out_standing(phone) is None
    phone_consent_record(phone=phone, kind=OPT_OUT, source=Source.SMS_KEYWORD, detail="STOP")
    stopped_at = phone_opt_out_standing(phone)
    assert stopped_at is not None
    # The leader's word about the phone (an import, the API, the console) is no opt-in of the phone's.
    for source in (Source.IMPORT, Source.API, Source.CONSOLE):
        consent_record(phone=phone, kind=OPT_IN, source=source)
        assert phone_opt_out_standing(phone) == stopped_at
    phone_consent_record(phone=phone, kind=OPT_IN, source=Source.SMS_KEYWORD, detail="START")
    assert phone_opt_out_standing(phone) is None


def test_a_signup_forms_opt_in_lifts_it_and_any_later_opt_out_stands_again(alice_schema):
    member = Member.objects.create(phone=unique_phone())
    consent_record(member=member, phone=member.phone, kind=OPT_OUT, source=Source.CARRIER)
    assert phone_opt_out_standing(member.phone) is not None
    consent_record(member=member, phone=member.phone, kind=OPT_IN, source=Source.WEB_FORM)
    assert phone_opt_out_standing(member.phone) is None
    member_opt_out(member=member, source=Source.API)
    assert phone_opt_out_standing(member.phone) is not None


def test_an_erased_members_rows_still_speak_for_the_phone(alice_schema):
    phone = unique_phone()
    erased = Member.objects.create(phone=phone)
    member_opt_out(member=erased, source=Source.CONSOLE, erasing=True)
    Member.objects.filter(pk=erased.pk).update(phone=f"{Member.ERASED_PREFIX}{erased.pk}")
    assert phone_opt_out_standing(phone) is not None


def test_many_phones_are_answered_at_once(alice_schema):
    stopped, started, never = unique_phone(), unique_phone(), unique_phone()
    for phone in (stopped, started):
        phone_consent_record(phone=phone, kind=OPT_OUT, source=Source.SMS_KEYWORD)
    phone_consent_record(phone=started, kind=OPT_IN, source=Source.SMS_KEYWORD)
    assert set(phones_opt_out_standing([stopped, started, never, stopped])) == {stopped}


def test_keeping_opted_out_writes_no_ledger_row_and_leaves_other_members_alone(alice_schema):
    stopped, other = Member(phone=unique_phone()), Member(phone=unique_phone())
    phone_consent_record(phone=stopped.phone, kind=OPT_OUT, source=Source.CARRIER)
    rows = ConsentRecord.objects.count()

    assert members_opt_out_keep([stopped, other]) == [stopped]

    assert (stopped.status, other.status) == (Member.Status.OPTED_OUT, Member.Status.SUBSCRIBED)
    assert stopped.opted_out_at == phone_opt_out_standing(stopped.phone)
    assert stopped.pk is None  # a new member: the caller saves it
    assert ConsentRecord.objects.count() == rows


def test_keeping_a_saved_member_opted_out_writes_their_status(alice_schema):
    member = Member.objects.create(phone=unique_phone())
    phone_consent_record(phone=member.phone, kind=OPT_OUT, source=Source.SMS_KEYWORD)
    stale = Member.objects.get(pk=member.pk)

    assert members_opt_out_keep([stale]) == [stale]

    member.refresh_from_db()
    assert member.status == Member.Status.OPTED_OUT
    assert members_opt_out_keep([member]) == [member]  # kept again, nothing more to write
    assert member_opt_in(member=member, source=Source.SMS_KEYWORD, detail="START")
    assert members_opt_out_keep([member]) == []


# --- seeding ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seeding_adds_a_demo_number_that_texted_stop_opted_out(client, world):
    """Demo numbers are fictional, but the phone simulator plays them: one that texted STOP before seed_demo
    reached it is seeded opted out (and so never in an audience)."""
    with schema_context(world.alice.schema_name):
        first = Member.objects.count()
    stopped, seeded = fictional_number(first + 3), fictional_number(first + 4)
    assert stopped != str(world.alice.phone_number)
    assert twiml_messages(text(client, world.alice, stopped, "STOP"))

    call_command("seed_demo", "--leader", "alice", "--members", "8", stdout=io.StringIO())

    with schema_context(world.alice.schema_name):
        member = Member.objects.get(phone=stopped)
        assert member.status == Member.Status.OPTED_OUT
        assert timezone.now() - member.opted_out_at < datetime.timedelta(minutes=5)
        assert not Member.objects.reachable().filter(phone=stopped).exists()
        assert Member.objects.filter(phone=seeded).exists()
