"""Forms of the routing pages: a team, a rule, a teammate's display name."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from topics.models import Topic
from triage.models import Team
from triage.routing import ANSWERING_ROLES, MAX_RESPONSE_MINUTES


class _TeammateChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.display_name or obj.get_full_name()
        return f"{obj.username} ({name})" if name else obj.username


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=80)
    users = _TeammateChoice(
        label=_("Teammates"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": _("Choose teammates from the list."),
            "invalid_pk_value": _("Choose teammates from the list."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every teammate of this leader (its own schema's users); inactive ones may stay listed in a team
        # but are never assigned anything.
        self.fields["users"].queryset = (
            get_user_model().objects.filter(role__in=ANSWERING_ROLES).order_by("-is_active", "username")
        )


class RuleForm(forms.Form):
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.none(), required=False, empty_label=_("Any topic")
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter code (US, CA, MX). Empty: any country."),
    )
    region = forms.CharField(
        label=_("Region"),
        max_length=120,
        required=False,
        help_text=_("A state or province (Jalisco, British Columbia). Empty: the whole country."),
    )
    team = forms.ModelChoiceField(
        label=_("Team"),
        queryset=Team.objects.none(),
        error_messages={"required": _("Choose the team this rule routes to.")},
    )
    response_minutes = forms.IntegerField(
        label=_("Response time (minutes)"),
        required=False,
        min_value=1,
        max_value=MAX_RESPONSE_MINUTES,
        help_text=_("How soon a fan should get an answer. Empty: no target."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.all()
        self.fields["team"].queryset = Team.objects.all()


class DisplayNameForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        required=False,
        help_text=_("How your replies are signed when the leader signs replies (“Dr. Amina Diallo, MP”)."),
    )
