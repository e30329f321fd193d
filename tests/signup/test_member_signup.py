"""signup.services.member_signup on its own: one member per link, even when two submits race."""

from __future__ import annotations

import threading

from django.db import connection
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.consent import phone_hash
from members.models import ConsentRecord, Member
from signup.models import SignupToken
from signup.services import SignupDetails, SignupLinkUnusableError, member_signup, token_hash
from tests.signup.helpers import link_issue


def test_two_submits_racing_on_one_link_make_one_member(live_db, world):
    path, phone = link_issue(world.alice)
    with schema_context(world.alice.schema_name):
        token = SignupToken.objects.get(token_hash=token_hash(path.rsplit("/", 1)[1]))
    count_before = Leader.objects.get(pk=world.alice.pk).member_count
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit(first_name: str) -> None:
        try:
            with schema_context(world.alice.schema_name):
                barrier.wait(timeout=10)
                member_signup(
                    leader=world.alice,
                    token=token,
                    details=SignupDetails(first_name=first_name, city="Laval"),
                    language="en",
                    consent_text="I agree.",
                    consent_version="test",
                )
                outcomes.append("joined")
        except SignupLinkUnusableError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("Ana", "Bea")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["joined", "refused"]
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=phone).count() == 1
        assert ConsentRecord.objects.filter(phone_hash=phone_hash(phone)).count() == 1
    assert Leader.objects.get(pk=world.alice.pk).member_count == count_before + 1
