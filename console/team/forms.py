"""Forms of the team's accounts: login and password reset (both limited), invitations, roles."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import LimitedAuthenticationForm, LimitedPasswordResetForm
from accounts.models import User

ROLE_CHOICES = [
    (User.Role.OWNER, _("Owner: everything, including the team and settings")),
    (User.Role.MANAGER, _("Manager: members, broadcasts and inbox")),
    (User.Role.RESPONDER, _("Responder: inbox only")),
]


class LoginForm(LimitedAuthenticationForm):
    """Django's login form with the limits every login form has (accounts.logins)."""


class LeaderPasswordResetForm(LimitedPasswordResetForm):
    """Reset emails whose link points at the leader's own host, never at whatever Host the request had; limited
    per address and per account like every reset form (accounts.logins)."""

    def save(self, *, base_url: str, **kwargs):  # type: ignore[override]
        kwargs.setdefault("extra_email_context", {})["base_url"] = base_url
        return super().save(**kwargs)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES, widget=forms.RadioSelect)


class InvitationAcceptForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password1 = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label=_("Password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        User.username_validator(username)
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is taken."))
        return username

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(
                    p1, User(username=cleaned.get("username", ""), email=self.email)
                )
            except ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class TeamMemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
    is_active = forms.BooleanField(label=_("Active"), required=False)
