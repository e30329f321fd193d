"""The routing pages, under /routing/ on a leader's host: teams, rules, display names."""

from django.urls import path

from console.routing import views

urlpatterns = [
    path("", views.routing, name="routing"),
    path("teams/new/", views.team_new, name="routing_team_new"),
    path("teams/<int:team_id>/", views.team_edit, name="routing_team"),
    path("teams/<int:team_id>/delete/", views.team_delete, name="routing_team_delete"),
    path("rules/new/", views.rule_new, name="routing_rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="routing_rule"),
    path("rules/<int:rule_id>/delete/", views.rule_delete, name="routing_rule_delete"),
    path("rules/<int:rule_id>/move/", views.rule_move, name="routing_rule_move"),
    path("name/", views.display_name_own, name="routing_display_name"),
    path("name/<int:user_id>/", views.display_name_set, name="routing_display_name_of"),
]
