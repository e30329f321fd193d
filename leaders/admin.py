"""Platform staff: onboard leaders, assign numbers, watch usage, suspend."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from leaders.models import Domain, Leader
from leaders.services import leader_create, normalize_domain, normalize_phone_number


class LeaderCreationForm(forms.ModelForm):
    """Creation goes through leader_create, so the admin and the command share every check."""

    domain = forms.CharField(
        required=False, help_text="Leave blank for <slug>.<PLATFORM_DOMAIN>.", max_length=253
    )
    countries = forms.CharField(
        required=False, help_text="Comma-separated country codes members may text from (US,CA). Blank: any."
    )
    phone_number = forms.CharField(help_text="E.164: + and the country code, e.g. +12025550142.")

    class Meta:
        model = Leader
        fields = ["slug", "name", "phone_number", "number_type"]

    def clean_phone_number(self):
        return normalize_phone_number(self.cleaned_data["phone_number"])

    def clean_domain(self):
        value = self.cleaned_data.get("domain")
        return normalize_domain(value) if value else ""

    def clean_countries(self):
        return [c.strip().upper() for c in (self.cleaned_data.get("countries") or "").split(",") if c.strip()]

    def _post_clean(self):
        # The model instance is built by leader_create in save(); skip ModelForm's instance validation,
        # which would demand a schema_name the service derives.
        pass

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        self._created = None
        try:
            self._created = leader_create(
                slug=cleaned["slug"],
                name=cleaned["name"],
                phone_number=cleaned["phone_number"],
                domain=cleaned.get("domain") or None,
                countries=cleaned.get("countries") or [],
                number_type=cleaned["number_type"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, exc)
        return cleaned

    def save(self, commit=True):
        return self._created

    def save_m2m(self):
        pass


class LeaderChangeForm(forms.ModelForm):
    class Meta:
        model = Leader
        fields = [
            "name",
            "phone_number",
            "number_type",
            "segments_per_second",
            "allowed_countries",
            "status",
            "suspension_reason",
            "time_zone",
            "default_language",
            "welcome_text",
            "help_text",
            "signup_intro",
            "voice_greeting",
            "minimum_age",
            "quiet_hours_start",
            "quiet_hours_end",
            "approval_threshold",
        ]

    def clean_phone_number(self):
        number = normalize_phone_number(str(self.cleaned_data["phone_number"]))
        if Leader.objects.filter(phone_number=number).exclude(pk=self.instance.pk).exists():
            raise ValidationError(f"The number {number} already belongs to another leader.")
        return number


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]


@admin.register(Leader)
class LeaderAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "phone_number",
        "primary_domain",
        "status",
        "member_count",
        "messages_sent_in_current_month",
        "created_at",
    ]
    list_filter = ["status", "number_type"]
    search_fields = ["name", "slug", "phone_number", "domains__domain"]
    readonly_fields = ["schema_name", "member_count", "messages_sent_in_current_month", "created_at"]
    actions = ["suspend_leaders", "reactivate_leaders"]
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = LeaderChangeForm if obj else LeaderCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["slug", "name", "phone_number", "number_type", "domain", "countries"]})
            ]
        return super().get_fieldsets(request, obj)

    def get_inlines(self, request, obj):
        return [DomainInline] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # New leaders were saved by leader_create during validation.

    @admin.display(description="Domain")
    def primary_domain(self, leader: Leader) -> str:
        domains = [d for d in leader.domains.all() if d.is_primary] or list(leader.domains.all())
        return domains[0].domain if domains else ""

    @admin.display(description="Sent this month")
    def messages_sent_in_current_month(self, leader: Leader) -> int:
        return leader.messages_sent_in_current_month

    @admin.action(description="Suspend the selected leaders (nothing more is sent)")
    def suspend_leaders(self, request, queryset):
        for leader in queryset:
            leader.suspend(reason=f"suspended by {request.user.get_username()}")
        self.message_user(request, f"Suspended {queryset.count()} leader(s).", messages.SUCCESS)

    @admin.action(description="Reactivate the selected leaders")
    def reactivate_leaders(self, request, queryset):
        for leader in queryset:
            leader.reactivate()
        self.message_user(request, f"Reactivated {queryset.count()} leader(s).", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        # Deleting drops a schema with every member: suspend instead; deletion is a deliberate shell task.
        return False
