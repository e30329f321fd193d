"""The surveys pages, under /surveys/ in the `console` namespace."""

from django.urls import path

from console.surveys import views

urlpatterns = [
    path("", views.surveys, name="surveys"),
    path("new/", views.survey_new, name="survey_new"),
    path("<int:survey_id>/", views.survey_results, name="survey"),
    path("<int:survey_id>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:survey_id>/delete/", views.survey_delete, name="survey_delete"),
    path("<int:survey_id>/send/", views.survey_send_page, name="survey_send"),
    path("<int:survey_id>/send/count.json", views.survey_send_count, name="survey_send_count"),
    path("<int:survey_id>/answers.csv", views.survey_export, name="survey_export"),
]
