"""The form of the owners' API token page (api/pages.py)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

ROLE_LABELS = {
    User.Role.OWNER: _("Owner"),
    User.Role.MANAGER: _("Manager"),
    User.Role.RESPONDER: _("Responder"),
}


class TeammateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.username} ({ROLE_LABELS.get(obj.role, obj.role)})"


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What the token is for, e.g. “CRM sync”."),
    )
    user = TeammateChoiceField(
        label=_("Acts as"),
        queryset=User.objects.none(),
        empty_label=None,
        help_text=_("The token can do what this teammate's role allows, as long as they stay active."),
    )

    def __init__(self, *args, actor: User, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("user", actor.pk)
        super().__init__(*args, **kwargs)
        # Active teammates only: a deactivated one's token would be refused by the API anyway.
        self.fields["user"].queryset = (
            User.objects.filter(is_active=True).exclude(role="").order_by("username")
        )
