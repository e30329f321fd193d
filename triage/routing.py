"""Routing: a triaged conversation to a team by the first matching rule, then to its least-loaded teammate,
with the rule's response-time target. INTERFACE STUB: the routing helper writes the body."""

from __future__ import annotations

from collections.abc import Sequence


def conversations_route(*, labels: Sequence) -> None:
    """Route the conversations of freshly written `labels` (triage.models.Label) that no teammate has yet.
    Called by the triage batch, in the leader's schema, after the labels are saved."""
    return
