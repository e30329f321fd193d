"""The team's account pages on a leader's host: login, logout, passwords, the team, invitations.

The namespace stays `accounts` (accounts:login, accounts:team...): templates, settings.LOGIN_URL users and
tests name these pages by it, and the paths (/login/, /team/...) are unchanged."""

from django.urls import path

from console.team import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("team/", views.team, name="team"),
    path("team/<int:user_id>/", views.team_member_update, name="team_member_update"),
    path("team/invite/", views.invitation_send, name="invitation_send"),
    path("team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("join-team/<str:token>/", views.invitation_accept, name="invitation_accept"),
]
