"""The signup page in a real browser (Debian's chromium): type-ahead, language switch, right-to-left."""

from __future__ import annotations

import itertools

import pytest
from django_tenants.utils import schema_context

from members.models import Member
from places.gazetteer import preload
from tests.places import MONTREAL
from tests.signup.helpers import link_issue

pytestmark = pytest.mark.browser

_montreal_lines = itertools.count(50)


@pytest.fixture(autouse=True, scope="module")
def _gazetteer_loaded():
    """The live server runs in this process: load its gazetteer up front, as a warm web process has it."""
    preload()


def montreal_phone() -> str:
    """A fictional Montréal number (514 555-0150..0199): the city field ranks the phone's country first."""
    return f"+151455501{next(_montreal_lines):02d}"


def member_of(leader, phone: str) -> Member | None:
    with schema_context(leader.schema_name):
        return Member.objects.filter(phone=phone).first()


def test_a_fan_switches_to_french_picks_montreal_from_the_suggestions_and_joins(
    live_db, live_app, world, page
):
    path, phone = link_issue(world.alice, phone=montreal_phone(), language="en")
    page.goto(live_app.leader_url(world.alice, path))
    assert page.get_by_role("heading", name="Join Alice Martin").is_visible()
    assert page.get_by_text(f"•••• {phone[-4:]}").is_visible()

    page.get_by_role("link", name="Français").click()
    assert page.locator("html").get_attribute("lang") == "fr"
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("Genre").select_option("female")
    page.get_by_label("Date de naissance").fill("1994-03-08")
    city = page.get_by_label("Ville")
    city.press_sequentially("montr", delay=40)
    suggestion = page.locator('#city-options option[value="Montréal, Quebec, Canada"]')
    suggestion.wait_for(state="attached", timeout=5000)
    city.fill(suggestion.get_attribute("value"))  # what picking the suggestion puts in the field
    page.get_by_label("Courriel").fill("camille@example.org")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Rejoindre").click()

    assert page.get_by_role("heading", name="Merci, Camille !").is_visible()
    assert "bienvenue dans la communauté de Alice Martin" in page.get_by_role("status").inner_text()
    member = member_of(world.alice, phone)
    assert (member.first_name, member.language, member.place_id, member.time_zone) == (
        "Camille",
        "fr",
        MONTREAL.geoname_id,
        "America/Toronto",
    )


def test_an_arabic_fan_gets_a_right_to_left_page_with_errors_tied_to_fields(live_db, live_app, world, page):
    path, phone = link_issue(world.alice, language="ar")
    page.goto(live_app.leader_url(world.alice, path))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.querySelector('form')).direction") == "rtl"
    assert page.get_by_role("heading", name="انضم إلى Alice Martin").is_visible()

    page.get_by_role("button", name="انضمام").click()  # empty form
    assert page.get_by_role("alert").is_visible()
    first_name = page.get_by_label("الاسم الأول")
    assert first_name.get_attribute("aria-invalid") == "true"
    described_by = first_name.get_attribute("aria-describedby")
    assert page.locator(f"#{described_by}").inner_text() == "أدخل اسمك الأول."

    first_name.fill("ليلى")
    page.get_by_label("الجنس").select_option("undisclosed")
    page.get_by_label("تاريخ الميلاد").fill("1988-11-02")
    page.get_by_label("المدينة").fill("مونتريال")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="انضمام").click()

    assert page.get_by_role("heading", name="شكرًا لك يا ليلى!").is_visible()
    member = member_of(world.alice, phone)
    assert (member.language, member.place_name, member.city) == ("ar", "Montréal", "مونتريال")


def test_the_form_works_from_the_keyboard_alone(live_db, live_app, world, page):
    path, phone = link_issue(world.alice)
    page.goto(live_app.leader_url(world.alice, path))
    page.keyboard.press("Tab")  # the first focusable element is the first field
    assert page.evaluate("document.activeElement.id") == "id_first_name"
    page.keyboard.type("Sam")
    order = ["id_first_name"]
    for _ in range(12):  # a date input takes one Tab per part (day, month, year)
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        if focused != order[-1]:
            order.append(focused)
    assert order[1:7] == ["id_last_name", "id_gender", "id_birth_date", "id_city", "id_email", "id_consent"]
    assert "id_website" not in order  # the honeypot is out of the tab order
    assert order[7] == ""  # the submit button, which has no id
