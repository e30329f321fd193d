"""Under /members/, in the `console` namespace (console/urls.py)."""

from django.urls import path

from console.members import views

urlpatterns = [
    path("", views.members, name="members"),
    path("export.csv", views.members_export, name="members_export"),
    path("exports/", views.members_exports, name="members_exports"),
    path("import/", views.members_import, name="members_import"),
    path("<int:member_id>/", views.member_detail, name="member"),
    path("<int:member_id>/topics/", views.member_topics, name="member_topics"),
    path("<int:member_id>/erase/", views.member_erase, name="member_erase"),
    path("<int:member_id>/message/", views.member_message, name="member_message"),
]
