"""Builders for the signup page tests: personal links issued the way the inbound text handler issues them."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone
from django_tenants.utils import schema_context

from signup.models import SignupToken
from signup.services import signup_link_issue
from tests.phones import unique_phone


def link_issue(leader, *, phone: str | None = None, language: str = "en") -> tuple[str, str]:
    """(path "/j/<token>", phone) of a fresh personal link for this leader."""
    phone = phone or unique_phone()
    with schema_context(leader.schema_name):
        url = signup_link_issue(leader=leader, phone=phone, language=language)
    return url[url.index("/j/") :], phone


def link_expire(leader, path: str) -> None:
    from signup.services import token_hash

    with schema_context(leader.schema_name):
        SignupToken.objects.filter(token_hash=token_hash(path.rsplit("/", 1)[1])).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1)
        )


def host(leader) -> str:
    return leader.get_primary_domain().domain


def valid_form(**overrides) -> dict[str, str]:
    data = {
        "first_name": "Jordan",
        "last_name": "Okafor",
        "gender": "non_binary",
        "birth_date": "1990-07-14",
        "city": "Montréal",
        "email": "jordan@example.org",
        "consent": "on",
        "website": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def leader_today(leader) -> datetime.date:
    """The date at the leader's place, which the signup form's age and birth-date checks use (near midnight
    UTC it is not the machine's date)."""
    return timezone.localtime(timezone=zoneinfo.ZoneInfo(leader.time_zone)).date()
