"""The team's account pages on a leader's host: login, logout, passwords, invitations, the team.

They are the console's pages (only the console's users log in with a password; the API uses tokens, the
platform's Django admin its own login), so they live in the console, not in `accounts`, which keeps only
the user model and its roles."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from console.decorators import owner_required
from console.models import Invitation
from console.team import services
from console.team.forms import (
    InvitationAcceptForm,
    InvitationForm,
    LeaderPasswordResetForm,
    LoginForm,
    TeamMemberForm,
)
from leaders.services import leader_primary_url

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = LeaderPasswordResetForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Built from the leader's primary domain: a forged Host header cannot redirect the link elsewhere.
        form.save(
            base_url=leader_primary_url(self.request.tenant),
            request=self.request,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            use_https=self.request.is_secure(),
            token_generator=self.token_generator,
            extra_email_context={"leader": self.request.tenant},
        )
        return redirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- the team (owner only) -------------------------------------------------------------------------------


def _team_page(request: HttpRequest, *, invitation_form: InvitationForm, status: int = 200) -> HttpResponse:
    users = User.objects.order_by("-is_active", "role", "username")
    rows = [
        (user, TeamMemberForm(initial={"role": user.role, "is_active": user.is_active})) for user in users
    ]
    return render(
        request,
        "accounts/team.html",
        {
            "rows": rows,
            "invitation_form": invitation_form,
            "invitations": services.invitations_pending(),
            "section": "team",
        },
        status=status,
    )


@owner_required
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request, invitation_form=InvitationForm())


@owner_required
@require_POST
def team_member_update(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    form = TeamMemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("accounts:team")
    try:
        services.team_member_update(
            actor=request.user,
            user=user,
            role=form.cleaned_data["role"],
            is_active=form.cleaned_data["is_active"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(username)s is updated.") % {"username": user.username})
    return redirect("accounts:team")


@owner_required
@require_POST
def invitation_send(request: HttpRequest) -> HttpResponse:
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, token = services.invitation_create(
                email=form.cleaned_data["email"], role=form.cleaned_data["role"], invited_by=request.user
            )
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            link = leader_primary_url(request.tenant) + reverse("accounts:invitation_accept", args=[token])
            body = render_to_string(
                "accounts/invitation_email.txt",
                {"leader": request.tenant, "inviter": request.user, "link": link},
            )
            send_mail(
                _("Join %(name)s's team") % {"name": request.tenant.name},
                body,
                None,
                [invitation.email],
            )
            messages.success(request, _("Invitation sent."))
            return redirect("accounts:team")
    return _team_page(request, invitation_form=form, status=400)


@owner_required
@require_POST
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    if services.invitation_revoke(invitation=invitation):
        # Masked: messages travel in a cookie.
        messages.success(
            request, _("The invitation to %(email)s is withdrawn.") % {"email": invitation.email_masked}
        )
    else:
        messages.error(request, _("This invitation was already used or withdrawn."))
    return redirect("accounts:team")


def _invitation_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return render(request, "accounts/invitation_invalid.html", {"error": exc.messages[0]}, status=400)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_read(token)
    except ValidationError as exc:
        return _invitation_invalid(request, exc)
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):  # the invitation stopped holding since the page was shown
                return _invitation_invalid(request, exc)
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("console:dashboard")
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})
