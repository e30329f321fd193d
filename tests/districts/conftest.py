"""The console's logged-in clients (mark, a manager; rita, a responder) for the districts tests."""

from tests.console.conftest import mark, rita  # noqa: F401
