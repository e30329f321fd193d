"""A leader's pilot regions: checked against the gazetteer and the accepted countries wherever they are set
(the model, the staff admin), and widening them from the admin invites the waitlist as the console does."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_tenants.utils import schema_context

from leaders.models import Leader, pilot_regions_clean
from members.models import WaitlistEntry
from signup.waitlist import TASK
from tests.conftest import TEAM_PASSWORD
from tests.queue import queue_clear, queued_tasks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (["québec"], ["Quebec"]),
        (["QC", "ON", "Quebec"], ["Quebec", "Ontario"]),
        (["  british   columbia "], ["British Columbia"]),
        (["ny", "California"], ["New York", "California"]),
    ],
)
def test_region_names_are_stored_as_the_gazetteer_writes_them(typed, stored):
    assert pilot_regions_clean(typed, countries=["US", "CA"]) == stored


def test_an_unknown_name_and_a_region_of_another_country_are_refused_together():
    with pytest.raises(ValidationError) as refused:
        pilot_regions_clean(["Atlantis", "Jalisco", "Ontario"], countries=["US", "CA"])

    assert refused.value.messages == [
        "No region is called Atlantis.",
        "Jalisco is not a region of your accepted countries (CA, US).",
    ]


def test_without_accepted_countries_any_countrys_region_will_do():
    assert pilot_regions_clean(["Jalisco", "Île-de-France"], countries=[]) == ["Jalisco", "Île-de-France"]


def test_the_models_clean_checks_them_on_the_field(world):
    leader = Leader.objects.get(pk=world.alice.pk)
    leader.pilot_regions = ["Bavaria"]

    with pytest.raises(ValidationError) as refused:
        leader.clean()

    assert list(refused.value.message_dict) == ["pilot_regions"]


@pytest.fixture
def staff(client, world):
    assert client.login(username="carol", password=TEAM_PASSWORD)
    return client


def _change(staff, leader, **changes):
    url = reverse("admin:leaders_leader_change", args=[leader.pk], urlconf="community.urls_public")
    form = staff.get(url).context["adminform"].form
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data.update({"allowed_countries": ",".join(leader.allowed_countries), "pilot_regions": ""})
    data.update({"domains-TOTAL_FORMS": "0", "domains-INITIAL_FORMS": "0", **changes})
    return staff.post(url, data)


def test_staff_set_pilot_regions_and_a_bad_one_is_shown_on_its_field(staff, world):
    refused = _change(staff, world.alice, pilot_regions="Quebec,Jalisco")

    assert refused.status_code == 200
    assert "Jalisco is not a region of your accepted countries" in " ".join(
        refused.context["adminform"].form.errors["pilot_regions"]
    )
    assert Leader.objects.get(pk=world.alice.pk).pilot_regions == []

    assert _change(staff, world.alice, pilot_regions="qc").status_code == 302
    assert Leader.objects.get(pk=world.alice.pk).pilot_regions == ["Quebec"]


def test_staff_widening_the_pilot_invites_the_waitlist(staff, world, django_capture_on_commit_callbacks):
    queue_clear("broadcasts")
    Leader.objects.filter(pk=world.alice.pk).update(pilot_regions=["Quebec"])
    with schema_context(world.alice.schema_name):
        WaitlistEntry.objects.create(phone="+14165550164", country="CA", region="Ontario")

    with django_capture_on_commit_callbacks(execute=True):
        assert _change(staff, world.alice, pilot_regions="Quebec").status_code == 302
    assert [task for task in queued_tasks("broadcasts") if task["func"] == TASK] == []  # nothing opened

    with django_capture_on_commit_callbacks(execute=True):
        assert _change(staff, world.alice, pilot_regions="Quebec,Ontario").status_code == 302

    (task,) = [task for task in queued_tasks("broadcasts") if task["func"] == TASK]
    assert task["args"] == (world.alice.schema_name,)
    queue_clear("broadcasts")
