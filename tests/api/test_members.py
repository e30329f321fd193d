"""Members through the API: upsert with consent, filters, updates, opt-out and erasure."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from leaders.models import Leader
from members.consent import phone_hash
from members.models import ConsentRecord, Member
from messaging.models import Conversation, Message, SmsStatus
from signup.models import SignupToken
from tests import builders
from tests.api.conftest import consent
from tests.phones import unique_phone


def create(api, **fields):
    body = {"phone": unique_phone(), "consent": consent(), **fields}
    response = api.post("/api/v1/members/", body)
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_creating_a_member_records_their_consent_in_the_ledger_with_source_api(world, owner_api):
    before = Leader.objects.get(pk=world.alice.pk).member_count
    phone = unique_phone()
    response = owner_api.post(
        "/api/v1/members/",
        {
            "phone": phone,
            "first_name": "Maya",
            "tags": ["volunteer", " volunteer ", "donor"],
            "consent": consent(),
        },
    )
    assert response.status_code == 201
    member = response.json()
    assert member["phone"] == phone and member["status"] == "subscribed"
    assert member["tags"] == ["volunteer", "donor"]
    assert member["joined_at"].endswith("Z")
    with schema_context(world.alice.schema_name):
        record = ConsentRecord.objects.get(member_id=member["id"])
        assert (record.kind, record.source) == ("opt_in", "api")
        assert record.phone_hash == phone_hash(phone)
        assert record.text.startswith("I agree")
        assert "cmt_" in record.detail and owner_api.token not in record.detail
    assert Leader.objects.get(pk=world.alice.pk).member_count == before + 1


def test_a_national_number_with_a_country_hint_is_stored_in_e164(owner_api):
    member = create(owner_api, phone="(418) 555-0171", country="CA")
    assert member["phone"] == "+14185550171"
    assert member["country"] == "CA"


def test_the_city_resolves_to_a_place_with_region_and_time_zone(owner_api):
    member = create(owner_api, city="Montréal")
    assert (member["place_name"], member["region"], member["country"]) == ("Montréal", "Quebec", "CA")
    assert member["time_zone"] == "America/Toronto"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "2025550142"}, "phone"),  # national, no country
        ({"phone": "+33199000042"}, "phone"),  # France: alice accepts US and CA only
        ({"phone": "not a phone at all"}, "phone"),
        ({"phone": 12025550142}, "phone"),
        ({"phone": ["+12025550142"]}, "phone"),
        ({"phone": "+1 202 CALL NOW"}, "phone"),  # a vanity number is not converted: letters are refused
        ({"phone": "+1202555O142"}, "phone"),  # the letter O for a zero
        ({"birth_date": "2030-01-01"}, "birth_date"),
        (
            {"birth_date": (timezone.localdate() - datetime.timedelta(days=365 * 10)).isoformat()},
            "birth_date",
        ),
        ({"gender": "robot"}, "gender"),
        ({"language": "xx"}, "language"),
        ({"email": "not-an-email"}, "email"),
        ({"tags": "volunteer"}, "tags"),
        ({"tags": ["x" * 51]}, "tags.0"),
        ({"consent": {}}, "consent.text"),
        ({"consent": None}, "consent"),
        ({"first_name": "Ma\x00ya"}, "first_name"),
        ({"first_name": "x" * 10_000}, "first_name"),
    ],
)
def test_bad_member_fields_get_a_400_naming_the_field(owner_api, body, field):
    payload = {"phone": unique_phone(), "consent": consent(), **body}
    response = owner_api.post("/api/v1/members/", payload)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"], error


def test_a_member_without_consent_is_not_created(world, owner_api):
    phone = unique_phone()
    response = owner_api.post("/api/v1/members/", {"phone": phone})
    assert response.status_code == 400
    assert "consent" in response.json()["error"]["fields"]
    with schema_context(world.alice.schema_name):
        assert not Member.objects.filter(phone=phone).exists()


def test_posting_an_existing_phone_updates_that_member_and_adds_tags(world, owner_api):
    first = create(owner_api, first_name="Maya", tags=["volunteer"])
    response = owner_api.post(
        "/api/v1/members/",
        {"phone": first["phone"], "last_name": "Okafor", "tags": ["donor"], "consent": consent()},
    )
    assert response.status_code == 200
    member = response.json()
    assert member["id"] == first["id"]
    assert (member["first_name"], member["last_name"]) == ("Maya", "Okafor")
    assert member["tags"] == ["volunteer", "donor"]
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=first["phone"]).count() == 1


def test_posting_an_opted_out_member_does_not_subscribe_them_again(world, owner_api):
    first = create(owner_api)
    assert owner_api.patch(f"/api/v1/members/{first['id']}/", {"status": "opted_out"}).status_code == 200
    response = owner_api.post("/api/v1/members/", {"phone": first["phone"], "consent": consent()})
    assert response.status_code == 200
    assert response.json()["status"] == "opted_out"


def test_a_member_can_be_read_by_id_and_is_404_on_another_leader(world, owner_api):
    from tests.api.conftest import Api, token_for

    member = create(owner_api, first_name="Maya")
    assert owner_api.get(f"/api/v1/members/{member['id']}/").json()["first_name"] == "Maya"
    bob = Api(world.bob, token_for(world.bob, "bruno"))
    assert bob.get(f"/api/v1/members/{member['id']}/").status_code == 404
    response = owner_api.get("/api/v1/members/999999999/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_patch_changes_fields_and_tags(owner_api):
    member = create(owner_api, first_name="Maya", tags=["a", "b"])
    response = owner_api.patch(
        f"/api/v1/members/{member['id']}/",
        {"first_name": "Maïa", "add_tags": ["c"], "remove_tags": ["a"], "gender": "female", "language": "fr"},
    )
    assert response.status_code == 200
    changed = response.json()
    assert (changed["first_name"], changed["gender"], changed["language"]) == ("Maïa", "female", "fr")
    assert changed["tags"] == ["b", "c"]
    replaced = owner_api.patch(f"/api/v1/members/{member['id']}/", {"tags": ["z"]}).json()
    assert replaced["tags"] == ["z"]


def test_patch_can_opt_a_member_out_but_never_back_in(world, owner_api):
    member = create(owner_api)
    response = owner_api.patch(f"/api/v1/members/{member['id']}/", {"status": "opted_out"})
    assert response.status_code == 200 and response.json()["status"] == "opted_out"
    with schema_context(world.alice.schema_name):
        kinds = set(ConsentRecord.objects.filter(member_id=member["id"]).values_list("kind", "source"))
    assert ("opt_out", "api") in kinds
    response = owner_api.patch(f"/api/v1/members/{member['id']}/", {"status": "subscribed"})
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_put_is_not_allowed_and_says_so_in_json(owner_api):
    member = create(owner_api)
    response = owner_api.request("PUT", f"/api/v1/members/{member['id']}/", {"first_name": "x"})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_filters_select_members_by_every_key(world, owner_api):
    tag = f"t{uuid.uuid4().hex[:12]}"
    today = timezone.localdate()
    young = create(
        owner_api,
        tags=[tag, "young"],
        gender="female",
        language="fr",
        city="Montréal",
        birth_date=today.replace(year=today.year - 20).isoformat(),
    )
    old = create(
        owner_api,
        tags=[tag],
        gender="male",
        language="en",
        city="Portland, Maine",
        birth_date=today.replace(year=today.year - 60).isoformat(),
        first_name="Quentinzz",
    )

    def ids(**params):
        response = owner_api.get("/api/v1/members/", {"tags": tag, "limit": 200, **params})
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()["results"]}

    assert ids() == {young["id"], old["id"]}
    assert ids(countries="CA") == {young["id"]}
    assert ids(countries="ca,us") == {young["id"], old["id"]}
    assert ids(regions="Maine") == {old["id"]}
    assert ids(place_ids=str(young["place_id"])) == {young["id"]}
    assert ids(genders="male") == {old["id"]}
    assert ids(languages="fr") == {young["id"]}
    assert ids(age_min=30) == {old["id"]}
    assert ids(age_max=30) == {young["id"]}
    assert ids(age_min=20, age_max=20) == {young["id"]}
    assert ids(tags="young") == {young["id"]}
    assert ids(q="quentinzz") == {old["id"]}
    assert ids(q=old["phone"]) == {old["id"]}
    assert ids(status="opted_out") == set()
    assert ids(joined_after=(timezone.now() + datetime.timedelta(days=1)).isoformat()) == set()
    assert ids(joined_before="2000-01-01") == set()
    assert ids(joined_after="2000-01-01") == {young["id"], old["id"]}


def test_the_regions_filter_finds_members_by_region_name_in_any_country(world, owner_api):
    tag = f"t{uuid.uuid4().hex[:12]}"
    jalisco = create(owner_api, tags=[tag], city="Guadalajara, Jalisco")
    nuevo_leon = create(owner_api, tags=[tag], city="Monterrey, Mexico")
    tokyo = create(owner_api, tags=[tag], city="Tokyo")
    maharashtra = create(owner_api, tags=[tag], city="Mumbai")
    quebec = create(owner_api, tags=[tag], city="Montréal")
    assert [m["region"] for m in (jalisco, nuevo_leon, tokyo, maharashtra, quebec)] == [
        "Jalisco",
        "Nuevo León",
        "Tokyo",
        "Maharashtra",
        "Quebec",
    ]

    def ids(**params):
        response = owner_api.get("/api/v1/members/", {"tags": tag, "limit": 200, **params})
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()["results"]}

    assert ids() == {m["id"] for m in (jalisco, nuevo_leon, tokyo, maharashtra, quebec)}
    for spelling in ("Jalisco", "jalisco", " JALISCO "):
        assert ids(regions=spelling) == {jalisco["id"]}
    assert ids(regions="tokyo") == {tokyo["id"]}
    assert ids(regions="Maharashtra,nuevo leon") == {maharashtra["id"], nuevo_leon["id"]}
    assert ids(regions="Québec") == ids(regions="QC") == {quebec["id"]}
    preview = owner_api.post("/api/v1/audience/preview/", {"filter": {"tags": [tag], "regions": ["jalisco"]}})
    assert preview.status_code == 200, preview.content
    assert preview.json()["count"] == 1

    for response, field in (
        (owner_api.get("/api/v1/members/", {"regions": "Jaliscoo"}), "regions"),
        (owner_api.post("/api/v1/audience/preview/", {"filter": {"regions": ["40"]}}), "filter.regions"),
    ):
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid" and field in error["fields"], error
        assert "no region is called" in error["fields"][field][0]


@pytest.mark.parametrize(
    "params",
    [
        {"age_min": "old"},
        {"age_max": "-3"},
        {"age_min": "99999999999999999999999"},
        {"place_ids": "montreal"},
        {"place_ids": "9" * 40},
        {"genders": "robot"},
        {"status": "maybe"},
        {"joined_after": "yesterday"},
        {"joined_before": "2026-13-45"},
        {"q": "x" * 500},
        {"limit": "0"},
        {"limit": "100000"},
        {"limit": "ten"},
    ],
)
def test_bad_filters_get_a_400_not_a_500(owner_api, params):
    response = owner_api.get("/api/v1/members/", params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("invalid", "invalid_limit")


def test_erasure_removes_personal_data_and_keeps_counts_and_the_ledger(world, owner_api):
    member = create(
        owner_api,
        first_name="Maya",
        email="maya@example.org",
        city="Montréal",
        birth_date="1990-05-04",
        tags=["x"],
        gender="female",
    )
    phone = member["phone"]
    with schema_context(world.alice.schema_name):
        conversation = builders.conversation(phone=phone, member_id=member["id"])
        builders.message(
            conversation=conversation,
            member_id=member["id"],
            direction="in",
            body="hello",
            status=SmsStatus.RECEIVED,
        )
        SignupToken.objects.create(token_hash="h" * 64, phone=phone, expires_at=timezone.now())
        count_before = Member.objects.count()
        canadian_women_before = Member.objects.filter(country="CA", gender="female").count()
    members_joined_before = Leader.objects.get(pk=world.alice.pk).member_count

    response = owner_api.delete(f"/api/v1/members/{member['id']}/")
    assert response.status_code == 204

    assert owner_api.get(f"/api/v1/members/{member['id']}/").status_code == 404
    assert owner_api.delete(f"/api/v1/members/{member['id']}/").status_code == 404
    with schema_context(world.alice.schema_name):
        assert Member.objects.count() == count_before
        assert Member.objects.filter(country="CA", gender="female").count() == canadian_women_before
        row = Member.objects.get(pk=member["id"])
        assert phone not in row.phone and not row.phone.startswith("+")
        assert (row.first_name, row.email, row.city, row.birth_date, row.tags) == ("", "", "", None, [])
        assert row.latitude is None and row.status == "opted_out"
        assert not Conversation.objects.filter(phone=phone).exists()
        assert not Message.objects.filter(phone=phone).exists()
        assert not SignupToken.objects.filter(phone=phone).exists()
        ledger = ConsentRecord.objects.filter(phone_hash=phone_hash(phone))
        assert set(ledger.values_list("kind", flat=True)) == {"opt_in", "opt_out"}
    assert Leader.objects.get(pk=world.alice.pk).member_count == members_joined_before
    assert owner_api.get("/api/v1/members/", {"q": phone}).json()["results"] == []
    listed = owner_api.get("/api/v1/members/", {"limit": 200}).json()["results"]
    assert member["id"] not in {m["id"] for m in listed}


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "2026-05-01T09:00:00+05:30", "2026-05-01"],
)
def test_extreme_but_valid_dates_in_filters_are_answered(owner_api, moment):
    response = owner_api.get("/api/v1/members/", {"joined_after": moment, "joined_before": moment})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_message_payload_is_the_api_view_of_a_message(world, alice_schema):
    from api.services import message_payload

    message = builders.message(direction="in", body="hi", status=SmsStatus.RECEIVED)
    payload = message_payload(message)
    assert (payload["id"], payload["direction"], payload["body"]) == (message.pk, "in", "hi")
