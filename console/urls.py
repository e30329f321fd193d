from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.home, name="dashboard"),
    path("members/", views.members, name="members"),
    path("members/export.csv", views.members_export, name="members_export"),
    path("members/import/", views.members_import, name="members_import"),
    path("members/<int:member_id>/", views.member_detail, name="member"),
    path("members/<int:member_id>/erase/", views.member_erase, name="member_erase"),
    path("settings/", views.settings_edit, name="settings"),
    path("settings/keywords/", views.keyword_add, name="keyword_add"),
    path("settings/keywords/<int:keyword_id>/delete/", views.keyword_delete, name="keyword_delete"),
]
