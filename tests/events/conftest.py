"""The API's token clients for the events' API tests (tests/api/conftest.py's, shared)."""

from tests.api.conftest import manager_api, owner_api, responder_api  # noqa: F401 - fixtures
