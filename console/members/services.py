"""Workflows the console runs on one member."""

from __future__ import annotations

from django.db import transaction

from leaders.models import Leader
from members.models import ConsentRecord, Member
from members.services import member_erase as erase


@transaction.atomic
def member_erase(*, member: Member, leader: Leader) -> None:
    """Erase a member's personal data from the console: the same erasure as the API's (an anonymous
    tombstone keeps the counts, the consent ledger keeps the keyed phone hash)."""
    erase(member=member, source=ConsentRecord.Source.CONSOLE, detail="erased from the console")
