"""Platform staff: onboard leaders, assign numbers, watch usage, suspend."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from leaders.models import Domain, Leader, time_zone_choices
from leaders.services import leader_create, leader_pilot_changed, leader_validate, normalize_phone_number


class LeaderCreationForm(forms.ModelForm):
    """The add form: validation and creation both go through leaders.services, shared with the command.

    `clean()` only validates (leader_validate: formats, uniqueness), so every problem shows on its field and
    validating writes nothing. `save()` creates the leader, its schema and domain (leader_create). The admin
    calls it while saving, inside the transaction its add view opens, so a failure in any later step of the
    admin (its log entry, the redirect) rolls the schema back too.
    """

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

    def clean_countries(self):
        return [c.strip() for c in (self.cleaned_data.get("countries") or "").split(",") if c.strip()]

    def _post_clean(self):
        # leader_validate checks the instance's fields (and derives the schema name leader_create sets);
        # ModelForm's own instance validation would demand that schema name from the form.
        pass

    def clean(self):
        cleaned = super().clean()
        self.creation = None
        if self.errors:
            return cleaned
        try:
            self.creation = leader_validate(
                slug=cleaned["slug"],
                name=cleaned["name"],
                phone_number=cleaned["phone_number"],
                domain=cleaned.get("domain") or None,
                countries=cleaned.get("countries") or [],
                number_type=cleaned["number_type"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned

    def save(self, commit: bool = True) -> Leader:
        # A leader is its schema and domain as well as its row: there is no unsaved state to hand back,
        # so commit=False (what the admin passes) creates it too.
        self.instance = leader_create(**self.creation)
        return self.instance

    def save_m2m(self):
        pass


class LeaderChangeForm(forms.ModelForm):
    # Chosen from lists, never typed: a misspelt zone would put every time and quiet hour off.
    time_zone = forms.ChoiceField(choices=time_zone_choices)
    default_language = forms.ChoiceField(choices=settings.LANGUAGES)

    class Meta:
        model = Leader
        fields = [
            "name",
            "phone_number",
            "number_type",
            "segments_per_second",
            "allowed_countries",
            "pilot_regions",
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
        help_texts = {
            "pilot_regions": "Region names separated by commas (Quebec,Ontario): only fans from there may join; "
            "the others are waitlisted and invited when their region is added. Empty: no pilot.",
        }

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
    readonly_fields = [
        "schema_name",
        "suspended_at",
        "member_count",
        "messages_sent_in_current_month",
        "created_at",
    ]
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

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ValidationError:
            # leader_create refused at save time: another creation took the slug, number or domain between
            # validation and saving, and the add view's transaction rolled everything back. Validating the
            # same submission again now shows that on the field, like any other duplicate.
            return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            return  # the add form's save() created the leader with its schema and domain
        if "status" in form.changed_data:
            # The same bookkeeping as Leader.suspend()/reactivate().
            suspended = obj.status == Leader.Status.SUSPENDED
            obj.suspended_at = timezone.now() if suspended else None
            if not suspended:
                obj.suspension_reason = ""
        super().save_model(request, obj, form, change)
        # A region added to the pilot (or the pilot ended) invites its waitlist, as the console's opening does
        # (the signup app reacts to the event, on commit of the change view's transaction).
        leader_pilot_changed(leader=obj, before=list(form.initial.get("pilot_regions") or []))

    @admin.display(description="Domain")
    def primary_domain(self, leader: Leader) -> str:
        domains = [d for d in leader.domains.all() if d.is_primary] or list(leader.domains.all())
        return domains[0].domain if domains else ""

    @admin.display(description="Sent this month")
    def messages_sent_in_current_month(self, leader: Leader) -> int:
        return leader.messages_sent_in_current_month

    @admin.action(description="Suspend the selected leaders (nothing more is sent)")
    def suspend_leaders(self, request, queryset):
        leaders = list(queryset)
        for leader in leaders:
            leader.suspend(reason=f"suspended by {request.user.get_username()}")
        self.message_user(request, f"Suspended {len(leaders)} leader(s).", messages.SUCCESS)

    @admin.action(description="Reactivate the selected leaders")
    def reactivate_leaders(self, request, queryset):
        leaders = list(queryset)
        for leader in leaders:
            leader.reactivate()
        self.message_user(request, f"Reactivated {len(leaders)} leader(s).", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        # Deleting drops a schema with every member: suspend instead; deletion is a deliberate shell task.
        return False
