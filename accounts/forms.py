"""The login and password-reset forms with their limits (accounts.logins), for the console and the admin."""

from __future__ import annotations

import logging

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts import logins
from common.clientip import client_ip

logger = logging.getLogger(__name__)


class LimitedLoginMixin:
    """Refuses a username, an address, or a username from an address after too many failures."""

    limit_error_messages = {
        "throttled": _("Too many failed attempts. Wait 15 minutes and try again."),
        "unavailable": _("Logging in is not possible right now. Try again in a few minutes."),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return super().clean()  # no password to check: the fields' own errors
        ip = client_ip(self.request)
        try:
            admitted = logins.login_attempt_admit(username=username, ip=ip)
        except Exception:  # noqa: BLE001 - any cache backend error
            # Without its counters the limit cannot hold: refuse rather than allow unlimited guessing.
            logger.exception("login limits unavailable: the attempt is refused")
            raise ValidationError(self.limit_error_messages["unavailable"], code="unavailable") from None
        if not admitted:
            raise ValidationError(self.limit_error_messages["throttled"], code="throttled")
        cleaned = super().clean()  # a wrong password raises: the attempt stays counted as a failure
        try:
            logins.login_success_record(username=username, ip=ip)
        except Exception:  # noqa: BLE001 - any cache backend error
            logger.exception("login limits unavailable: a successful login was not recorded")
        return cleaned


class LimitedAuthenticationForm(LimitedLoginMixin, AuthenticationForm):
    """Django's login form with the limits: the console's."""


class StaffLoginForm(LimitedLoginMixin, AdminAuthenticationForm):
    """The staff admin's login form (staff accounts only) with the same limits."""


class LimitedPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending nothing once the address or the account has asked too often. The page
    that follows is the same either way: it never tells whether an account exists or was limited."""

    def save(self, *, request=None, **kwargs) -> None:  # type: ignore[override]
        try:
            admitted = logins.password_reset_admit(email=self.cleaned_data["email"], ip=client_ip(request))
        except Exception:  # noqa: BLE001 - any cache backend error
            logger.exception("password reset limits unavailable: no email sent")
            return
        if admitted:
            super().save(request=request, **kwargs)
