"""Teammates and districts for the districts tests, in the current leader's schema."""

from __future__ import annotations

import uuid

from accounts.models import User
from districts.services import district_save


def teammate(role: str = "responder", **fields) -> User:
    """A fresh teammate (the world's olivia, mark and rita stay as other tests expect them)."""
    return User.objects.create_user(username=f"co{uuid.uuid4().hex[:10]}", role=role, **fields)


def district(name: str | None = None, *, places=(), regions=(), coordinators=()):
    return district_save(
        name=name or f"District {uuid.uuid4().hex[:6]}",
        place_ids=[place.geoname_id for place in places],
        regions=list(regions),
        coordinator_ids=[user.pk for user in coordinators],
    )
