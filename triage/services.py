"""Triage's workflows. INTERFACE STUB: the pipeline helper writes the batch and completes label_move."""

from __future__ import annotations

from django.utils import timezone

from triage.models import Label


def label_move(*, label: Label, topic, by) -> Label:
    """A teammate says this text is about `topic` (a topics.Topic, or None: not any topic). The text becomes
    an example for the leader's classifier; the matrix's counters and the members' topics follow."""
    if label.corrected_at is None:
        label.predicted_topic_id = label.topic_id
    label.topic = topic
    label.corrected_by = by
    label.corrected_at = timezone.now()
    label.save(update_fields=["topic", "predicted_topic", "corrected_by", "corrected_at"])
    return label
