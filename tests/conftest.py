"""The shared test world, built once per test session.

- leader alice (US/CA members only) and leader bob, each with its own schema, so isolation can be asserted;
- staff carol in the public schema (the Django admin);
- alice's team: owner "olivia", manager "mark", responder "rita" (password "pass-word-123").

Tests that need committed data (HTTP to a live server, subprocess workers) use `live_db`, which does not
wrap the test in a transaction; such tests create their own rows with unique phone numbers. TransactionTestCase
style flushing is never used: it would truncate the public schema's leaders under every other test.
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from leaders.models import Leader
from leaders.schemas import template_schema_migrate
from leaders.services import leader_create, leader_user_create

TEAM_PASSWORD = "pass-word-123"
# Playwright's sync API runs an event loop in the test's thread; the ORM calls a browser test makes
# between page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"

# In CI, property-based tests draw the same examples every run, so a landing never hangs on a new random
# draw; developers' runs keep exploring (and hypothesis remembers what failed in .hypothesis/).
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@dataclasses.dataclass
class World:
    alice: Leader
    bob: Leader
    carol: User


def _build_world() -> World:
    assert connection.settings_dict["NAME"].startswith("test_"), "the test world goes in a test database"
    template_schema_migrate()
    alice = leader_create(
        slug="alice", name="Alice Martin", phone_number="+12025550142", countries=["US", "CA"]
    )
    bob = leader_create(slug="bob", name="Bob Tremblay", phone_number="+15145550199")
    for username, role in (("olivia", "owner"), ("mark", "manager"), ("rita", "responder")):
        leader_user_create(leader=alice, username=username, role=role, password=TEAM_PASSWORD)
    leader_user_create(leader=bob, username="bruno", role="owner", password=TEAM_PASSWORD)
    carol = User.objects.create_superuser("carol", "carol@example.org", TEAM_PASSWORD)
    return World(alice=alice, bob=bob, carol=carol)


_world: World | None = None


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker, django_db_modify_db_settings):
    """The test database, always: pytest-django's own fixture creates it only when a collected test asks
    for `db`, so a run of `live_db` tests alone (pytest tests/platform) would build the world in the
    development database."""
    from django.test.utils import setup_databases, teardown_databases

    global _world
    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=verbosity, interactive=False, aliases={"default"})
        _world = _build_world()
    yield
    with django_db_blocker.unblock():
        try:
            teardown_databases(db_cfg, verbosity=verbosity)
        except Exception as exc:  # noqa: BLE001 - a live server thread may still hold a connection
            print(f"could not drop the test database: {exc}")


@pytest.fixture(scope="session")
def world(django_db_setup) -> World:
    assert _world is not None
    return _world


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """Rate-limit counters in a Redis cache (CI's second run) outlive a test's rolled-back transaction, unlike
    the database cache: start each test from an empty cache, as the database cache does."""
    from django.conf import settings
    from django.core.cache import cache

    if "Redis" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _back_to_public_schema():
    """A test that switched schemas never leaks that into the next one."""
    yield
    if connection.connection is not None or connection.schema_name != "public":
        connection.set_schema_to_public()


@pytest.fixture
def live_db(django_db_setup, django_db_blocker):
    """Database access without a wrapping transaction: what a test writes is committed."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()


@pytest.fixture
def alice_schema(db, world):
    with schema_context(world.alice.schema_name):
        yield world.alice


@pytest.fixture
def bob_schema(db, world):
    with schema_context(world.bob.schema_name):
        yield world.bob


@dataclasses.dataclass
class LiveServer:
    """The Django app served over real HTTP on loopback, for browsers, HTTP clients and fakes."""

    port: int

    def url(self, path: str = "/", *, host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def leader_url(self, leader: Leader, path: str = "/") -> str:
        """The leader's own host: Chromium resolves *.localhost to loopback by itself."""
        return self.url(path, host=leader.get_primary_domain().domain)

    def http(self, method: str, path: str, *, host: str = "localhost", **kwargs):
        """A request from Python: Python's resolver does not know *.localhost, so connect to 127.0.0.1
        and name the host in the Host header."""
        import requests

        headers = {"Host": f"{host}:{self.port}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"http://127.0.0.1:{self.port}{path}", headers=headers, timeout=15, **kwargs
        )


def _platform_handler():
    """What `community.wsgi` serves (the inbound-text receiver ahead of Django), plus static files."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    from inbound.receiver import with_sms_receiver

    class PlatformHandler(StaticFilesHandler):
        def __init__(self, application):
            super().__init__(application)
            self._serve = with_sms_receiver(super().__call__)

        def __call__(self, environ, start_response):
            return self._serve(environ, start_response)

    return PlatformHandler


@pytest.fixture(scope="session")
def live_app(django_db_setup, django_db_blocker) -> LiveServer:
    """One threaded WSGI server for the whole session (pytest-django's would flush the database), serving
    what production serves: `community.wsgi`'s inbound-text receiver ahead of Django."""
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("127.0.0.1", _platform_handler(), port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield LiveServer(port=thread.port)
        thread.terminate()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's chromium, never a downloaded browser; no network beyond loopback."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def _fake_twilio_server():
    from tests.fake_twilio import FakeTwilio

    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def twilio(_fake_twilio_server, settings):
    """Twilio's REST API faked on loopback, with the platform's credentials pointed at it.

    The real `twilio` client talks HTTP to it; `twilio.messages` lists what was sent. Rules and records
    are reset for each test.
    """
    fake = _fake_twilio_server
    fake.reset_rules()
    fake.clear()
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_API_BASE_URL = fake.base_url
    yield fake
    fake.reset_rules()


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread for the
    rest of the session, which tests that start their own loop (asyncio.run) cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
