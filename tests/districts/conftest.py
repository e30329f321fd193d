"""The console's logged-in clients (mark, a manager; rita, a responder) for the districts tests."""

from tests.api.conftest import manager_api, responder_api  # noqa: F401, E402
from tests.console.conftest import mark, rita  # noqa: F401
