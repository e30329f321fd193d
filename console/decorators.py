"""Who may see what in the console: one decorator per page, checked before the view runs.

Roles (accounts.User.Role): owner (everything, including the team and settings), manager (members,
broadcasts, inbox), responder (inbox only). Anonymous visitors are sent to the login page; a logged-in
teammate without the right role gets 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

# The User property each permission reads (accounts/models.py).
OWNER = "is_owner"
MANAGER = "can_manage"  # owner or manager
ANSWER = "can_answer"  # any role


def user_may(user, permission: str) -> bool:
    return bool(user.is_authenticated and user.is_active and getattr(user, permission, False))


def role_required(permission: str) -> Callable:
    """@role_required(OWNER) / (MANAGER) / (ANSWER) on a console view."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not user_may(request.user, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


owner_required = role_required(OWNER)
manager_required = role_required(MANAGER)
teammate_required = role_required(ANSWER)
