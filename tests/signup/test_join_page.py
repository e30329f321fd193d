"""The signup page behind a personal link (/j/<token> on the leader's host), through Django's test client."""

from __future__ import annotations

import datetime
import html as html_module
import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.consent import phone_hash
from members.models import ConsentRecord, Member
from messaging.models import Message
from signup.models import SignupToken
from signup.services import token_hash
from signup.views import CONSENT_TEXT_VERSION
from tests.places import MONTREAL
from tests.signup.helpers import host, leader_today, link_expire, link_issue, valid_form

pytestmark = pytest.mark.django_db


def get(client: Client, leader, path: str, **extra):
    return client.get(path, HTTP_HOST=host(leader), **extra)


def post(client: Client, leader, path: str, data: dict, **extra):
    return client.post(path, data, HTTP_HOST=host(leader), **extra)


def member_of(leader, phone: str) -> Member | None:
    with schema_context(leader.schema_name):
        return Member.objects.filter(phone=phone).first()


def text_of(response) -> str:
    return html_module.unescape(response.content.decode())


def errors_of(response) -> dict[str, str]:
    """Field id -> error text, read from the page as a screen reader would (the aria-describedby target)."""
    return dict(re.findall(r'<p class="error" id="id_(\w+)_error">([^<]*)</p>', text_of(response)))


# --- GET -----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_leader_the_masked_number_and_every_field_but_the_phone(client, world):
    path, phone = link_issue(world.alice)
    response = get(client, world.alice, path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Join Alice Martin" in html
    assert "Tell Alice Martin a little about yourself" in html
    assert f"•••• {phone[-4:]}" in html and phone not in html and phone[-7:] not in html
    for name in ("first_name", "last_name", "gender", "birth_date", "city", "email", "consent"):
        assert f'name="{name}"' in html
    assert 'name="phone"' not in html
    assert 'lang="en" dir="ltr"' in html
    assert response["Cache-Control"] == "private, no-store"


def test_the_leaders_own_welcome_line_replaces_the_default(client, world):
    Leader.objects.filter(pk=world.alice.pk).update(signup_intro="Together for a greener city!")
    path, _ = link_issue(world.alice)
    html = get(client, world.alice, path).content.decode()
    assert "Together for a greener city!" in html
    assert "a little about yourself" not in html


def test_labels_hints_and_inputs_are_tied_together_for_screen_readers(client, world):
    path, _ = link_issue(world.alice)
    html = get(client, world.alice, path).content.decode()
    for name in ("first_name", "last_name", "gender", "birth_date", "city", "email", "consent"):
        assert f'<label for="id_{name}"' in html
        assert f'id="id_{name}"' in html
    assert 'aria-describedby="id_city_hint"' in html and 'id="id_city_hint"' in html
    assert 'list="city-options"' in html and '<datalist id="city-options">' in html


def test_the_page_is_small_and_needs_no_other_host(client, world):
    path, _ = link_issue(world.alice)
    html = get(client, world.alice, path).content.decode()
    assert len(html.encode()) < 16_000
    assert not re.search(r'(src|href)="(https?:)?//', html)


# --- POST: a new member ----------------------------------------------------------------------------------------


def test_a_valid_form_makes_a_member_with_the_links_phone_place_language_and_consent(client, world):
    path, phone = link_issue(world.alice, language="fr")
    count_before = Leader.objects.get(pk=world.alice.pk).member_count
    response = post(client, world.alice, path, valid_form(city="montreal"), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert "Merci, Jordan !" in response.content.decode()

    member = member_of(world.alice, phone)
    assert member is not None
    assert (member.first_name, member.last_name, member.gender) == ("Jordan", "Okafor", "non_binary")
    assert member.birth_date == datetime.date(1990, 7, 14)
    assert member.email == "jordan@example.org"
    assert member.language == "fr"
    assert member.city == "montreal"
    assert (member.place_id, member.place_name, member.region, member.country) == (
        MONTREAL.geoname_id,
        "Montréal",
        "Quebec",
        "CA",
    )
    assert member.time_zone == "America/Toronto"
    assert member.latitude == pytest.approx(45.5, abs=0.1) and member.longitude == pytest.approx(
        -73.6, abs=0.1
    )
    assert Leader.objects.get(pk=world.alice.pk).member_count == count_before + 1

    with schema_context(world.alice.schema_name):
        token = SignupToken.objects.get(token_hash=token_hash(path.rsplit("/", 1)[1]))
        assert token.used_at is not None and token.member_id == member.pk
        consent = ConsentRecord.objects.get(member=member)
    assert (consent.kind, consent.source) == ("opt_in", "web_form")
    assert consent.text.startswith("J'accepte de recevoir régulièrement des textos de Alice Martin")
    assert consent.text_version == CONSENT_TEXT_VERSION
    assert consent.ip_address == "203.0.113.9"
    assert consent.phone_hash == phone_hash(phone)
    assert abs((consent.created_at - member.joined_at).total_seconds()) < 1


def test_the_confirmation_text_reaches_twilio_in_the_members_language(
    client, world, twilio, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 runs the task in this process, as a worker would
    path, phone = link_issue(world.alice, language="es")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, world.alice, path, valid_form(first_name="Lucía"))
    assert response.status_code == 200
    sent = [message for message in twilio.messages if message["to"] == phone]
    assert len(sent) == 1
    assert sent[0]["body"] == (
        "Alice Martin: ¡ya estás dentro, Lucía! Gracias por unirte. STOP para dejarlo, HELP para ayuda."
    )
    assert sent[0]["from"] == "+12025550142"
    with schema_context(world.alice.schema_name):
        message = Message.objects.get(phone=phone)
        assert message.kind == Message.Kind.CONFIRMATION and message.member.phone == phone


def test_a_double_submit_makes_one_member_and_one_confirmation(client, world):
    path, phone = link_issue(world.alice)
    first = post(client, world.alice, path, valid_form())
    second = post(client, world.alice, path, valid_form(first_name="Someone Else"))
    assert first.status_code == 200 and "Thank you, Jordan!" in first.content.decode()
    assert "You're already in" in text_of(second)
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=phone).count() == 1
        assert Member.objects.get(phone=phone).first_name == "Jordan"
        assert Message.objects.filter(phone=phone, kind=Message.Kind.CONFIRMATION).count() == 1
        assert ConsentRecord.objects.filter(phone_hash=phone_hash(phone)).count() == 1


def test_a_member_who_joined_before_updates_their_details_with_a_fresh_link(client, world):
    first_path, phone = link_issue(world.alice)
    post(client, world.alice, first_path, valid_form())
    count_after_join = Leader.objects.get(pk=world.alice.pk).member_count
    second_path, _ = link_issue(world.alice, phone=phone)
    response = post(
        client, world.alice, second_path, valid_form(first_name="Jo", city="Unknownville", email="")
    )
    assert response.status_code == 200
    assert "Your details are updated." in response.content.decode()
    member = member_of(world.alice, phone)
    assert (member.first_name, member.city, member.place_id, member.place_name, member.email) == (
        "Jo",
        "Unknownville",
        None,
        "",
        "",
    )
    assert Leader.objects.get(pk=world.alice.pk).member_count == count_after_join
    with schema_context(world.alice.schema_name):
        assert Message.objects.filter(phone=phone, kind=Message.Kind.CONFIRMATION).count() == 1
        assert ConsentRecord.objects.filter(member=member, kind="opt_in").count() == 2


def test_an_opted_out_member_who_fills_the_form_again_is_subscribed_and_confirmed(client, world):
    from members.consent import member_opt_out

    first_path, phone = link_issue(world.alice)
    post(client, world.alice, first_path, valid_form())
    with schema_context(world.alice.schema_name):
        member_opt_out(member=Member.objects.get(phone=phone), source="sms_keyword", detail="STOP")
    second_path, _ = link_issue(world.alice, phone=phone)
    post(client, world.alice, second_path, valid_form())
    assert member_of(world.alice, phone).is_subscribed
    with schema_context(world.alice.schema_name):
        assert Message.objects.filter(phone=phone, kind=Message.Kind.CONFIRMATION).count() == 2


# --- City -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["Montreal", "Montréal", "MONTRÉAL", "مونتريال", "Montréal, Quebec, Canada"]
)
def test_the_city_resolves_to_one_place_however_it_is_written(client, world, typed):
    path, phone = link_issue(world.alice)
    post(client, world.alice, path, valid_form(city=typed))
    member = member_of(world.alice, phone)
    assert member.city == typed
    assert (member.place_id, member.place_name, member.country) == (MONTREAL.geoname_id, "Montréal", "CA")


def test_the_phones_country_breaks_ties_between_cities_of_the_same_name(client, world):
    us_path, us_phone = link_issue(world.alice, phone="+12025550177")
    ca_path, ca_phone = link_issue(world.alice, phone="+15145550177")
    post(client, world.alice, us_path, valid_form(city="London"))
    post(client, world.alice, ca_path, valid_form(city="London"))
    assert member_of(world.alice, us_phone).country in ("US", "GB")
    assert member_of(world.alice, ca_phone).region == "Ontario"


@pytest.mark.parametrize("typed", ["Tokyo", "東京"])
def test_a_fan_in_tokyo_is_stored_with_the_region_tokyo_not_its_geonames_code(client, world, typed):
    path, phone = link_issue(world.bob, phone="+81312345678")
    post(client, world.bob, path, valid_form(city=typed))
    member = member_of(world.bob, phone)
    assert (member.place_name, member.region, member.country, member.time_zone) == (
        "Tokyo",
        "Tokyo",
        "JP",
        "Asia/Tokyo",
    )


def test_an_unknown_city_is_kept_as_typed_with_blank_place_fields(client, world):
    path, phone = link_issue(world.alice)
    post(client, world.alice, path, valid_form(city="Zzyzx Springs Hamlet"))
    member = member_of(world.alice, phone)
    assert member.city == "Zzyzx Springs Hamlet"
    assert (member.place_id, member.place_name, member.region, member.country, member.time_zone) == (
        None,
        "",
        "",
        "",
        "",
    )
    assert member.latitude is None and member.longitude is None


# --- Validation -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_name": ""}, "first_name", "Enter your first name."),
        ({"first_name": "   "}, "first_name", "Enter your first name."),
        ({"first_name": "J" * 61}, "first_name", "Use at most 60 characters."),
        ({"last_name": "O" * 61}, "last_name", "Use at most 60 characters."),
        ({"first_name": "Jor\u202edan"}, "first_name", "Remove the invisible or special characters."),
        ({"gender": ""}, "gender", "Choose an answer, or “Prefer not to say”."),
        ({"gender": "robot"}, "gender", "Choose one of the answers in the list."),
        ({"birth_date": ""}, "birth_date", "Enter your birth date."),
        ({"birth_date": "14/07/1990"}, "birth_date", "Enter a date, like 1990-07-14."),
        ({"birth_date": "1990-02-30"}, "birth_date", "Enter a date, like 1990-07-14."),
        ({"birth_date": "1850-01-01"}, "birth_date", "Check the year of your birth date."),
        ({"city": ""}, "city", "Enter the city where you live."),
        ({"city": "M" * 121}, "city", "Use at most 120 characters."),
        ({"email": "jordan@"}, "email", "Enter an email address like name@example.org."),
        ({"email": "not an email"}, "email", "Enter an email address like name@example.org."),
        ({"consent": None}, "consent", "Tick the box to agree to get texts, or close this page."),
    ],
)
def test_each_bad_field_gets_its_own_clear_message_and_nothing_is_stored(
    client, world, overrides, field, message
):
    path, phone = link_issue(world.alice)
    response = post(client, world.alice, path, valid_form(**overrides))
    assert response.status_code == 400
    errors = errors_of(response)
    assert errors == {field: message}
    html = response.content.decode()
    assert (
        f'aria-describedby="id_{field}_error"' in html
        or f'aria-describedby="id_{field}_hint id_{field}_error"' in html
    )
    assert 'aria-invalid="true"' in html
    assert 'role="alert"' in html
    assert member_of(world.alice, phone) is None
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.get(token_hash=token_hash(path.rsplit("/", 1)[1])).used_at is None


def test_a_birth_date_in_the_future_is_refused(client, world):
    path, phone = link_issue(world.alice)
    tomorrow = (leader_today(world.alice) + datetime.timedelta(days=1)).isoformat()
    response = post(client, world.alice, path, valid_form(birth_date=tomorrow))
    assert errors_of(response) == {"birth_date": "Your birth date cannot be in the future."}
    assert member_of(world.alice, phone) is None


def test_fans_younger_than_the_leaders_minimum_age_cannot_join(client, world):
    Leader.objects.filter(pk=world.alice.pk).update(minimum_age=18)
    today = leader_today(world.alice)
    seventeen = (
        today.replace(year=today.year - 17)
        if (today.month, today.day) != (2, 29)
        else today.replace(year=today.year - 17, day=28)
    )
    path, phone = link_issue(world.alice)
    response = post(client, world.alice, path, valid_form(birth_date=seventeen.isoformat()))
    assert errors_of(response) == {"birth_date": "You must be at least 18 years old to join."}
    assert member_of(world.alice, phone) is None

    eighteen = seventeen.replace(year=seventeen.year - 1)
    response = post(client, world.alice, path, valid_form(birth_date=eighteen.isoformat()))
    assert response.status_code == 200 and member_of(world.alice, phone) is not None


def test_the_default_minimum_age_is_thirteen(client, world):
    path, phone = link_issue(world.alice)
    today = leader_today(world.alice)
    twelve = (
        datetime.date(today.year - 12, 1, 1) if today.month > 1 else datetime.date(today.year - 13, 12, 31)
    )
    response = post(client, world.alice, path, valid_form(birth_date=twelve.isoformat()))
    assert errors_of(response) == {"birth_date": "You must be at least 13 years old to join."}


def test_error_messages_come_in_the_pages_language(client, world):
    path, _ = link_issue(world.alice, language="de")
    response = post(client, world.alice, path, valid_form(first_name="", email="x@"))
    assert errors_of(response) == {
        "first_name": "Gib deinen Vornamen ein.",
        "email": "Gib eine E-Mail-Adresse wie name@example.org ein.",
    }


def test_what_the_fan_typed_stays_in_the_form_after_an_error(client, world):
    path, _ = link_issue(world.alice)
    html = post(client, world.alice, path, valid_form(email="x@", city="Laval")).content.decode()
    assert 'value="Laval"' in html and 'value="Jordan"' in html and 'value="1990-07-14"' in html


# --- Bots, CSRF, rate limits ------------------------------------------------------------------------------------


def test_a_bot_that_fills_the_honeypot_sees_success_but_nothing_is_stored(client, world):
    path, phone = link_issue(world.alice)
    response = post(client, world.alice, path, valid_form(website="http://spam.example.org"))
    assert response.status_code == 200
    assert "Thank you!" in response.content.decode()
    assert member_of(world.alice, phone) is None
    with schema_context(world.alice.schema_name):
        assert SignupToken.objects.get(token_hash=token_hash(path.rsplit("/", 1)[1])).used_at is None
        assert not ConsentRecord.objects.filter(phone_hash=phone_hash(phone)).exists()


def test_a_post_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    path, phone = link_issue(world.alice)
    response = post(client, world.alice, path, valid_form())
    assert response.status_code == 403
    assert member_of(world.alice, phone) is None


def test_a_post_with_the_pages_csrf_token_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    path, phone = link_issue(world.alice)
    html = get(client, world.alice, path).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = post(client, world.alice, path, {**valid_form(), "csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert member_of(world.alice, phone) is not None


def test_too_many_posts_from_one_address_are_slowed_down(client, world, settings):
    settings.SIGNUP_POST_RATE = (3, 600)
    path, phone = link_issue(world.alice)
    for _ in range(3):
        assert (
            post(client, world.alice, path, valid_form(email="x@"), REMOTE_ADDR="198.51.100.7").status_code
            == 400
        )
    response = post(client, world.alice, path, valid_form(), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert "Too many tries" in response.content.decode()
    assert member_of(world.alice, phone) is None
    # Another address is not affected.
    assert post(client, world.alice, path, valid_form(), REMOTE_ADDR="198.51.100.8").status_code == 200


# --- Used, expired, unknown links ------------------------------------------------------------------------------


def test_an_unknown_link_says_so_with_a_404_and_the_number_to_text(client, world):
    response = get(client, world.alice, "/j/not-a-real-token")
    assert response.status_code == 404
    html = response.content.decode()
    assert "We don't know this link" in html_module.unescape(html) and "+1 202-555-0142" in html


def test_an_expired_link_says_so_with_a_410(client, world):
    path, phone = link_issue(world.alice)
    link_expire(world.alice, path)
    response = get(client, world.alice, path)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert post(client, world.alice, path, valid_form()).status_code == 410
    assert member_of(world.alice, phone) is None


def test_a_used_link_offers_a_fresh_one_by_text_without_showing_any_details(client, world):
    path, phone = link_issue(world.alice)
    post(client, world.alice, path, valid_form())
    response = get(client, world.alice, path)
    html = response.content.decode()
    assert response.status_code == 200
    assert "You're already in" in html_module.unescape(html) and "Text me a new link" in html
    assert "Jordan" not in html and "jordan@example.org" not in html and phone[-4:] not in html


def test_asking_for_a_fresh_link_texts_it_to_the_phone_on_record_at_most_once_in_a_while(client, world):
    path, phone = link_issue(world.alice, language="fr")
    post(client, world.alice, path, valid_form())
    update_path = path + "/update"
    first = post(client, world.alice, update_path, {})
    second = post(client, world.alice, update_path, {})
    assert first.status_code == second.status_code == 200
    assert first.content == second.content  # the page never says whether a text went out
    with schema_context(world.alice.schema_name):
        notices = list(Message.objects.filter(phone=phone, kind=Message.Kind.NOTICE))
        assert len(notices) == 1
        assert notices[0].body.startswith(
            "Alice Martin : modifiez vos informations ici : http://alice.localhost"
        )
        fresh_token = notices[0].body.rsplit("/j/", 1)[1]
        assert SignupToken.objects.get(token_hash=token_hash(fresh_token)).phone == phone
    # The fresh link opens the form again, and submitting it updates the member.
    response = post(client, world.alice, f"/j/{fresh_token}", valid_form(first_name="Jordi"))
    assert "Vos informations sont à jour." in text_of(response)  # the fresh link keeps the language
    assert member_of(world.alice, phone).first_name == "Jordi"


def test_a_fresh_link_cannot_be_asked_for_with_an_unused_or_unknown_link(client, world):
    path, phone = link_issue(world.alice)
    assert post(client, world.alice, path + "/update", {}).status_code == 404
    assert post(client, world.alice, "/j/nope/update", {}).status_code == 404
    with schema_context(world.alice.schema_name):
        assert not Message.objects.filter(phone=phone).exists()


# --- Languages --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "heading", "direction"),
    [
        ("en", "Join Alice Martin", "ltr"),
        ("fr", "Rejoindre Alice Martin", "ltr"),
        ("de", "Alice Martin beitreten", "ltr"),
        ("es", "Únete a Alice Martin", "ltr"),
        ("ar", "انضم إلى Alice Martin", "rtl"),
    ],
)
def test_the_page_speaks_the_language_of_the_text_that_asked_for_the_link(
    client, world, language, heading, direction
):
    path, _ = link_issue(world.alice, language=language)
    response = get(client, world.alice, path)
    html = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert response["Content-Language"] == language


def test_the_browsers_language_is_used_when_the_link_has_none_we_speak(client, world):
    path, _ = link_issue(world.alice, language="pt")
    html = get(client, world.alice, path, HTTP_ACCEPT_LANGUAGE="de-CH,de;q=0.9,en;q=0.5").content.decode()
    assert '<html lang="de" dir="ltr">' in html


def test_the_fan_can_switch_language_and_the_member_keeps_it(client, world):
    path, phone = link_issue(world.alice, language="en")
    html = get(client, world.alice, path + "?lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert 'href="?lang=fr"' in html and 'action="?lang=ar"' in html
    response = post(client, world.alice, path + "?lang=ar", valid_form())
    assert "شكرًا لك يا Jordan!" in response.content.decode()
    assert member_of(world.alice, phone).language == "ar"


def test_an_unsupported_lang_parameter_is_ignored(client, world):
    path, _ = link_issue(world.alice, language="es")
    html = get(client, world.alice, path + "?lang=xx<script>").content.decode()
    assert '<html lang="es" dir="ltr">' in html


# --- Tenants ----------------------------------------------------------------------------------------------------


def test_alices_link_does_not_work_on_bobs_host(client, world):
    path, phone = link_issue(world.alice)
    assert get(client, world.bob, path).status_code == 404
    assert post(client, world.bob, path, valid_form()).status_code == 404
    assert member_of(world.bob, phone) is None and member_of(world.alice, phone) is None


def test_the_demo_page_explains_how_to_get_a_personal_link(client, world):
    response = get(client, world.alice, "/join/", HTTP_ACCEPT_LANGUAGE="fr")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rejoindre Alice Martin" in html and "+1 202-555-0142" in html
    assert "<form" not in html
