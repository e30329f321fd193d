"""Mail about the two-person rule: the teammates who may approve a broadcast hear that one waits for them,
and its author hears why it was rejected. Sent after the commit (a rollback sends nothing), in the leader's
default language, to teammates who gave an email address. Call inside the leader's schema."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from leaders.services import leader_primary_url
from messaging.models import Broadcast

logger = logging.getLogger(__name__)


def _link(leader, broadcast: Broadcast) -> str:
    return leader_primary_url(leader) + reverse(
        "broadcast", urlconf=settings.ROOT_URLCONF, kwargs={"broadcast_id": broadcast.pk}
    )


def _send(subject: str, body: str, emails: list[str]) -> int:
    if not emails:
        return 0
    try:
        return send_mail(subject, body, None, emails)
    except OSError:
        # A mail server that is down never undoes the approval request: the page shows it waiting anyway.
        logger.warning("approval mail could not be sent (%d recipient(s))", len(emails))
        return 0


def approvers_notify(*, leader, broadcast: Broadcast) -> int:
    """A broadcast waits for approval: mail every owner and manager but its author. How many were mailed."""
    approvers = (
        User.objects.filter(is_active=True, role__in=[User.Role.OWNER, User.Role.MANAGER])
        .exclude(email="")
        .exclude(pk=broadcast.created_by_id)
    )
    emails = sorted({user.email for user in approvers})
    author = broadcast.created_by.username if broadcast.created_by else "?"
    with translation.override(leader.default_language):
        subject = _("A broadcast to %(count)s members waits for your approval") % {
            "count": broadcast.audience_count
        }
        body = _(
            "%(author)s wrote a broadcast for %(leader)s to %(count)s members:\n\n%(text)s\n\n"
            "Approve or reject it: %(link)s"
        ) % {
            "author": author,
            "leader": leader.name,
            "count": broadcast.audience_count,
            "text": broadcast.body,
            "link": _link(leader, broadcast),
        }
    return _send(subject, body, emails)


def author_notify_rejected(*, leader, broadcast: Broadcast) -> int:
    """A broadcast was rejected: mail its author the reason."""
    author = broadcast.created_by
    if author is None or not author.email:
        return 0
    by = broadcast.rejected_by.username if broadcast.rejected_by else "?"
    with translation.override(leader.default_language):
        subject = _("Your broadcast was not approved")
        body = _("%(by)s rejected your broadcast:\n\n%(text)s\n\nTheir reason: %(reason)s\n\n%(link)s") % {
            "by": by,
            "text": broadcast.body,
            "reason": broadcast.rejection_reason,
            "link": _link(leader, broadcast),
        }
    return _send(subject, body, [author.email])
