"""The owners' API token page under /settings/api-tokens/ (api/pages.py); URL names without a namespace,
as the console's navigation lists the page by `api_tokens`."""

from django.urls import path

from api import pages

urlpatterns = [
    path("", pages.api_tokens, name="api_tokens"),
    path("<int:token_id>/revoke/", pages.api_token_revoke_view, name="api_token_revoke"),
]
