"""Reads for the console's member pages that reach beyond the members layer (a member's texts)."""

from __future__ import annotations

from django.db.models import QuerySet

from members.models import Member
from messaging.models import Message


def member_messages(member: Member) -> QuerySet:
    """Every text to and from this member's phone, oldest first (the whole conversation)."""
    return Message.objects.filter(phone=member.phone).order_by("created_at", "id")
