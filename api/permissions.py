"""What each teammate's token may do, by the teammate's role at the time of the request."""

from __future__ import annotations

from rest_framework import permissions

from accounts.models import User

OWNER = User.Role.OWNER
MANAGER = User.Role.MANAGER
RESPONDER = User.Role.RESPONDER

# The API's areas and the roles allowed in each (owner: all; manager: members, broadcasts, conversations,
# topics, surveys; responder: conversations and messages, and reading topics and surveys).
MEMBERS = frozenset({OWNER, MANAGER})
TOPICS = frozenset({OWNER, MANAGER})
TOPICS_READ = frozenset({OWNER, MANAGER, RESPONDER})
# Surveys: owners and managers write and send them; every teammate reads them, their results, runs and answers
# (numbers masked as in the console), as responders read the listening matrix and the inbox.
SURVEYS = frozenset({OWNER, MANAGER})
SURVEYS_READ = frozenset({OWNER, MANAGER, RESPONDER})
BROADCASTS = frozenset({OWNER, MANAGER})
# Events: owners and managers create, change, alert and read attendees; every teammate reads events, counts
# and check-ins, and checks members in at the door.
EVENTS = frozenset({OWNER, MANAGER})
EVENTS_READ = frozenset({OWNER, MANAGER, RESPONDER})
CONVERSATIONS = frozenset({OWNER, MANAGER, RESPONDER})
SETTINGS = frozenset({OWNER})
WEBHOOKS = frozenset({OWNER})


class HasRole(permissions.BasePermission):
    """Views name their area in `allowed_roles`; tokens of other roles get 403."""

    message = "Your role does not give access to this part of the API."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or request.auth is None:
            return False
        return user.role in getattr(view, "allowed_roles", frozenset())
