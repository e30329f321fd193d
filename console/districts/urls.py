"""The districts pages, under /districts/ on a leader's host (owners and managers), and the member page's
volunteer action."""

from django.urls import path

from console.districts import views

urlpatterns = [
    path("", views.districts, name="districts"),
    path("<int:district_id>/", views.district_edit, name="district"),
    path("<int:district_id>/delete/", views.district_delete, name="district_delete"),
    path("volunteer/<int:member_id>/", views.member_volunteer, name="member_volunteer"),
]
