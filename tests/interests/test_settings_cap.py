"""The announcement cap's setting: the owner sets it on the console's settings page; the API shows it."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, token_for
from tests.console.conftest import client_for, dana  # noqa: F401 - a leader of the test's own

pytestmark = pytest.mark.django_db

SETTINGS = {
    "minimum_age": "13",
    "quiet_hours_start": "21:00",
    "quiet_hours_end": "09:00",
    "time_zone": "America/Toronto",
    "default_language": "en",
    "approval_threshold": "10000",
}


def test_the_owner_sets_the_weekly_cap_and_the_api_shows_it(dana):  # noqa: F811
    owner = client_for(dana, "dora")
    assert 'name="announcement_cap"' in owner.get("/settings/").content.decode()

    assert owner.post("/settings/", {**SETTINGS, "announcement_cap": "3"}).status_code == 302

    dana.refresh_from_db()
    assert dana.announcement_cap == 3
    assert Api(dana, token_for(dana, "dora")).get("/api/v1/settings/").json()["announcement_cap"] == 3
    # Left empty: no cap.
    assert owner.post("/settings/", SETTINGS).status_code == 302
    dana.refresh_from_db()
    assert dana.announcement_cap == 0


@pytest.mark.parametrize(("value", "message"), [("101", "At most 100 broadcasts a week"), ("-1", "")])
def test_a_cap_out_of_range_is_a_form_error(dana, value, message):  # noqa: F811
    response = client_for(dana, "dora").post("/settings/", {**SETTINGS, "announcement_cap": value})

    assert response.status_code == 400
    assert message in response.content.decode()
    dana.refresh_from_db()
    assert dana.announcement_cap == 0


def test_a_manager_cannot_change_the_cap(dana):  # noqa: F811
    assert (
        client_for(dana, "dmitri").post("/settings/", {**SETTINGS, "announcement_cap": "1"}).status_code
        == 403
    )
    dana.refresh_from_db()
    assert dana.announcement_cap == 0
