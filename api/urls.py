"""/api/v1/ on a leader's host."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import event_views, survey_views, views
from api.errors import json_not_found

urlpatterns = [
    path("v1/members/", views.MemberListView.as_view(), name="api_members"),
    path("v1/members/<int:pk>/", views.MemberDetailView.as_view(), name="api_member"),
    path("v1/conversations/", views.ConversationListView.as_view(), name="api_conversations"),
    path("v1/conversations/<int:pk>/", views.ConversationDetailView.as_view(), name="api_conversation"),
    path(
        "v1/conversations/<int:pk>/messages/",
        views.ConversationMessagesView.as_view(),
        name="api_conversation_messages",
    ),
    path("v1/messages/", views.MessageListView.as_view(), name="api_messages"),
    path("v1/messages/<int:pk>/", views.MessageDetailView.as_view(), name="api_message"),
    path("v1/topics/", views.TopicListView.as_view(), name="api_topics"),
    path("v1/topics/<int:pk>/", views.TopicDetailView.as_view(), name="api_topic"),
    path("v1/surveys/", survey_views.SurveyListView.as_view(), name="api_surveys"),
    path("v1/surveys/<int:pk>/", survey_views.SurveyDetailView.as_view(), name="api_survey"),
    path("v1/surveys/<int:pk>/results/", survey_views.SurveyResultsView.as_view(), name="api_survey_results"),
    path("v1/surveys/<int:pk>/runs/", survey_views.SurveyRunListView.as_view(), name="api_survey_runs"),
    path(
        "v1/surveys/<int:pk>/answers/", survey_views.SurveyAnswerListView.as_view(), name="api_survey_answers"
    ),
    path("v1/surveys/<int:pk>/send/", survey_views.SurveySendView.as_view(), name="api_survey_send"),
    path("v1/events/", event_views.EventListView.as_view(), name="api_events"),
    path("v1/events/<int:pk>/", event_views.EventDetailView.as_view(), name="api_event"),
    path("v1/events/<int:pk>/alert/", event_views.EventAlertView.as_view(), name="api_event_alert"),
    path("v1/events/<int:pk>/counts/", event_views.EventCountsView.as_view(), name="api_event_counts"),
    path("v1/events/<int:pk>/rsvps/", event_views.EventRsvpListView.as_view(), name="api_event_rsvps"),
    path(
        "v1/events/<int:pk>/check-ins/",
        event_views.EventCheckInListView.as_view(),
        name="api_event_check_ins",
    ),
    path("v1/audience/preview/", views.AudiencePreviewView.as_view(), name="api_audience_preview"),
    path("v1/broadcasts/", views.BroadcastListView.as_view(), name="api_broadcasts"),
    path("v1/broadcasts/<int:pk>/", views.BroadcastDetailView.as_view(), name="api_broadcast"),
    path("v1/broadcasts/<int:pk>/cancel/", views.BroadcastCancelView.as_view(), name="api_broadcast_cancel"),
    path("v1/settings/", views.SettingsView.as_view(), name="api_settings"),
    path("v1/waitlist/", views.WaitlistView.as_view(), name="api_waitlist"),
    path("v1/waitlist/open/", views.WaitlistOpenView.as_view(), name="api_waitlist_open"),
    path("v1/webhooks/", views.WebhookEndpointListView.as_view(), name="api_webhooks"),
    path("v1/webhooks/<int:pk>/", views.WebhookEndpointDetailView.as_view(), name="api_webhook"),
    path(
        "v1/webhooks/<int:pk>/deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="api_webhook_deliveries",
    ),
    path("v1/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("v1/docs/", views.DocsView.as_view(url_name="api_schema"), name="api_docs"),
    path("v1/redoc/", views.RedocView.as_view(url_name="api_schema"), name="api_redoc"),
    # Anything else under /api/ is a JSON 404, never the site's HTML page.
    re_path(r"^[\s\S]*$", json_not_found),  # any character, newlines too: an encoded newline is a path
]
