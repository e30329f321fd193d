"""What triage does when something happens elsewhere (common.events, model signals): an answered
conversation's texts leave the matrix's open counts; an erased member's labels leave its counters and their
topics go. Connected in TriageConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import post_delete

from common import events
from triage.models import Label
from triage.services import conversation_labels_close, label_uncount, member_topics_erase


def _label_deleted(sender, instance: Label, **kwargs) -> None:
    label_uncount(label=instance)


def connect() -> None:
    events.subscribe(events.CONVERSATION_ANSWERED, conversation_labels_close)
    events.subscribe(events.MEMBER_ERASED, member_topics_erase)
    # Labels go with their texts (an erasure deletes a member's messages): the counters follow, row by row,
    # which only an erasure's few texts ever take.
    post_delete.connect(_label_deleted, sender=Label, dispatch_uid="triage.label_uncount")
