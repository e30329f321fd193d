"""members.consent: the one module that writes the consent ledger, and the one answer to "may this phone be
texted now?" that every path asks."""

from __future__ import annotations

from django.utils import timezone

from members.consent import (
    member_opt_in,
    member_opt_out,
    phone_consent_record,
    phone_hash,
    phone_opted_out,
    text_refusal,
)
from members.models import (
    KEYWORD_ANSWER,
    REFUSED_OPTED_OUT,
    REFUSED_PHONE_OPTED_OUT,
    REFUSED_UNREACHABLE,
    ConsentRecord,
    Member,
)
from tests.phones import unique_phone


def test_a_subscribed_member_may_be_texted_and_an_opted_out_one_only_the_answer_to_their_keyword(
    alice_schema,
):
    member = Member.objects.create(phone=unique_phone())
    assert text_refusal(phone=member.phone, member=member) == ""
    assert member.may_receive()

    assert member_opt_out(member=member, source=ConsentRecord.Source.SMS_KEYWORD, detail="STOP")
    assert text_refusal(phone=member.phone, member=member) == REFUSED_OPTED_OUT
    assert text_refusal(phone=member.phone, member=member, kind=KEYWORD_ANSWER) == ""
    assert not member.may_receive() and member.may_receive(KEYWORD_ANSWER)
    assert not Member.objects.reachable().filter(pk=member.pk).exists()


def test_an_unreachable_number_gets_nothing_not_even_a_keyword_answer(alice_schema):
    member = Member.objects.create(phone=unique_phone(), unreachable_at=timezone.now())
    assert text_refusal(phone=member.phone, member=member) == REFUSED_UNREACHABLE
    assert text_refusal(phone=member.phone, member=member, kind=KEYWORD_ANSWER) == REFUSED_UNREACHABLE
    assert not Member.objects.reachable().filter(pk=member.pk).exists()


def test_a_phone_that_is_no_member_is_judged_by_its_last_ledger_line(alice_schema):
    phone = unique_phone()
    assert text_refusal(phone=phone, member=None) == ""
    phone_consent_record(
        phone=phone, kind=ConsentRecord.Kind.OPT_OUT, source=ConsentRecord.Source.SMS_KEYWORD
    )
    assert phone_opted_out(phone)
    assert text_refusal(phone=phone, member=None) == REFUSED_PHONE_OPTED_OUT
    assert text_refusal(phone=phone, member=None, kind=KEYWORD_ANSWER) == ""
    phone_consent_record(phone=phone, kind=ConsentRecord.Kind.OPT_IN, source=ConsentRecord.Source.SMS_KEYWORD)
    assert text_refusal(phone=phone, member=None) == ""
    # Recorded by the keyed hash only: the ledger never holds the number itself.
    assert not ConsentRecord.objects.filter(detail__contains=phone).exists()
    assert ConsentRecord.objects.filter(phone_hash=phone_hash(phone), member__isnull=True).count() == 2


def test_opting_out_and_in_change_the_status_once_and_write_one_ledger_line_each(alice_schema):
    member = Member.objects.create(phone=unique_phone())
    assert member_opt_out(member=member, source=ConsentRecord.Source.API, detail="x" * 300)
    assert not member_opt_out(member=member, source=ConsentRecord.Source.API)
    assert member.status == Member.Status.OPTED_OUT and member.opted_out_at is not None
    assert member_opt_in(member=member, source=ConsentRecord.Source.SMS_KEYWORD, detail="START")
    assert not member_opt_in(member=member, source=ConsentRecord.Source.SMS_KEYWORD)
    kinds = list(member.consents.order_by("created_at", "pk").values_list("kind", "source"))
    assert kinds == [("opt_out", "api"), ("opt_in", "sms_keyword")]
    assert len(member.consents.get(kind="opt_out").detail) == 200
    assert all(record.phone_hash == phone_hash(member.phone) for record in member.consents.all())
