"""/api/v1/ on a leader's host.

At merge, the broadcast engine's endpoints go here too: `broadcasts/` (list, create, retrieve, cancel;
roles.BROADCASTS) and `audience/preview/` (count for the same filter keys as api.filters).
"""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import views
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
    path("v1/settings/", views.SettingsView.as_view(), name="api_settings"),
    path("v1/webhooks/", views.WebhookEndpointListView.as_view(), name="api_webhooks"),
    path("v1/webhooks/<int:pk>/", views.WebhookEndpointDetailView.as_view(), name="api_webhook"),
    path(
        "v1/webhooks/<int:pk>/deliveries/",
        views.WebhookDeliveryListView.as_view(),
        name="api_webhook_deliveries",
    ),
    path("v1/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("v1/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("v1/redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    # Anything else under /api/ is a JSON 404, never the site's HTML page.
    re_path(r"^.*$", json_not_found),
]
