"""Segments from listening: the members who wrote the texts of a matrix cell (topic × region × language ×
time range) get a tag, and so become an audience for a broadcast (members.audience: tags_any).

One UPDATE … WHERE id IN (SELECT member_id FROM triage_label WHERE <the cell>) in SQL, whatever the number
of members: no loop over members in Python. Members who already carry the tag are left as they are, so
making the same segment twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Func, Value
from django.db.models.fields import CharField
from django.utils.translation import gettext as _

from members.models import Member
from members.services import MAX_TAGS, tags_parse
from triage.selectors import Cell, cell_labels


class SegmentError(ValueError):
    """A segment that cannot be made; the message says why, for the person who asked."""


@dataclass(frozen=True)
class Segment:
    tag: str
    tagged: int  # members who got the tag now
    members: int  # members who wrote in the cell and carry the tag (now or before)


def segment_tag_clean(tag: str) -> str:
    """A tag as members carry it (members.services.tags_parse): trimmed, lower case, at most 50 characters;
    one tag, not a list."""
    tags = tags_parse((tag or "").replace(",", " ").replace(";", " "))
    if not tags:
        raise SegmentError(_("Give the segment a tag name."))
    return tags[0]


@transaction.atomic
def segment_from_cell(*, cell: Cell, tag: str) -> Segment:
    """Tag every member who wrote a text in `cell` with `tag`. Members already carrying MAX_TAGS tags keep
    theirs and are left out (members.services.member_tags_set's limit)."""
    tag = segment_tag_clean(tag)
    writers = cell_labels(cell).filter(member_id__isnull=False).values("member_id")
    members = Member.objects.filter(pk__in=writers)
    tagged = (
        members.exclude(tags__contains=[tag])
        .filter(tags__len__lt=MAX_TAGS)
        .update(tags=Func(F("tags"), Value(tag, output_field=CharField()), function="array_append"))
    )
    return Segment(tag=tag, tagged=tagged, members=members.filter(tags__contains=[tag]).count())
