"""The API's conventions: cursor pagination, idempotency keys, JSON errors for any input, throttling."""

from __future__ import annotations

import base64
import datetime
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import IdempotencyKey
from members.models import ConsentRecord, Member
from tests.api.conftest import Api, consent, token_for
from tests.phones import unique_phone


def _members_bulk(count: int, *, tag: str, same_time: bool = False) -> set[int]:
    now = timezone.now()
    rows = Member.objects.bulk_create(
        Member(
            phone=unique_phone(),
            tags=[tag],
            joined_at=now if same_time else now - datetime.timedelta(seconds=i),
        )
        for i in range(count)
    )
    return {row.pk for row in rows}


def _walk(api: Api, params: dict) -> list[int]:
    seen: list[int] = []
    response = api.get("/api/v1/members/", params)
    while True:
        assert response.status_code == 200, response.content
        page = response.json()
        seen += [m["id"] for m in page["results"]]
        if not page["next"]:
            return seen
        response = api.client.get(page["next"], HTTP_AUTHORIZATION=f"Bearer {api.token}")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(min_value=0, max_value=60), limit=st.integers(min_value=1, max_value=25))
def test_paging_through_members_yields_every_member_exactly_once(world, owner_api, count, limit):
    tag = f"page{uuid.uuid4().hex[:12]}"  # unique per example: they share one transaction
    with schema_context(world.alice.schema_name):
        expected = _members_bulk(count, tag=tag, same_time=True)
    seen = _walk(owner_api, {"tags": tag, "limit": limit})
    assert len(seen) == len(set(seen)) == count
    assert set(seen) == expected
    assert seen == sorted(seen)


def test_members_who_join_during_a_walk_appear_at_its_end(world, owner_api):
    tag = f"walk{uuid.uuid4().hex[:12]}"
    with schema_context(world.alice.schema_name):
        first = _members_bulk(5, tag=tag)
    page = owner_api.get("/api/v1/members/", {"tags": tag, "limit": 3}).json()
    with schema_context(world.alice.schema_name):
        later = _members_bulk(2, tag=tag)
    rest = _walk_from(owner_api, page["next"])
    assert set([m["id"] for m in page["results"]] + rest) == first | later


def _walk_from(api: Api, url: str) -> list[int]:
    seen = []
    while url:
        page = api.client.get(url, HTTP_AUTHORIZATION=f"Bearer {api.token}").json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    return seen


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["garbage", _cursor("p=abc"), _cursor("p=99999999999999999999999"), _cursor("o=-1&p=1"), _cursor("r=x")],
)
def test_a_tampered_cursor_is_a_400(owner_api, cursor):
    response = owner_api.get("/api/v1/members/", {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


def test_an_edited_cursor_is_refused_even_when_it_points_somewhere_valid(world, owner_api):
    tag = f"sign{uuid.uuid4().hex[:12]}"
    with schema_context(world.alice.schema_name):
        ids = sorted(_members_bulk(6, tag=tag))
    page = owner_api.get("/api/v1/members/", {"tags": tag, "limit": 2}).json()
    cursor = parse_qs(urlsplit(page["next"]).query)["cursor"][0]
    assert owner_api.get("/api/v1/members/", {"tags": tag, "limit": 2, "cursor": cursor}).status_code == 200
    value, signature = cursor.rsplit(":", 1)
    moved = base64.b64decode(value).decode().replace(f"p={ids[1]}", f"p={ids[3]}")
    assert moved != base64.b64decode(value).decode()
    for edited in (f"{_cursor(moved)}:{signature}", _cursor(moved), f"{value}:{signature[:-2]}xy"):
        response = owner_api.get("/api/v1/members/", {"tags": tag, "limit": 2, "cursor": edited})
        assert response.status_code == 400, edited
        assert response.json()["error"]["code"] == "invalid_cursor"
    # A members cursor is no cursor of another list.
    assert (
        owner_api.get("/api/v1/broadcasts/", {"cursor": cursor}).json()["error"]["code"] == "invalid_cursor"
    )


def test_a_tampered_conversation_cursor_is_a_400(owner_api):
    response = owner_api.get("/api/v1/conversations/", {"cursor": _cursor("p=not-a-time")})
    assert response.status_code == 400


# --- idempotency ----------------------------------------------------------------------------------------
def test_a_retried_create_returns_the_first_answer_and_creates_once(world, owner_api):
    body = {"phone": unique_phone(), "first_name": "Maya", "consent": consent()}
    headers = {"Idempotency-Key": "7a1f6a52-5a11-4c1f-9b0e-000000000001"}
    first = owner_api.post("/api/v1/members/", body, headers=headers)
    again = owner_api.post("/api/v1/members/", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=body["phone"]).count() == 1
        assert ConsentRecord.objects.filter(member__phone=body["phone"]).count() == 1
    # Without the key, the same body is an upsert: 200, not a replay of the 201.
    assert owner_api.post("/api/v1/members/", body).status_code == 200


def test_the_same_key_with_a_different_body_is_refused(owner_api):
    headers = {"Idempotency-Key": "key-2"}
    assert (
        owner_api.post(
            "/api/v1/members/", {"phone": unique_phone(), "consent": consent()}, headers=headers
        ).status_code
        == 201
    )
    response = owner_api.post(
        "/api/v1/members/", {"phone": unique_phone(), "consent": consent()}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_keys_belong_to_one_token(world, owner_api):
    other = Api(world.alice, token_for(world.alice, "mark"))
    body = {"phone": unique_phone(), "consent": consent()}
    headers = {"Idempotency-Key": "shared-key"}
    assert owner_api.post("/api/v1/members/", body, headers=headers).status_code == 201
    second = other.post("/api/v1/members/", body, headers=headers)
    assert second.status_code == 200  # acted (an upsert), not replayed
    assert "Idempotent-Replayed" not in second


def test_keys_expire_after_24_hours(world, owner_api):
    body = {"phone": unique_phone(), "consent": consent()}
    headers = {"Idempotency-Key": "old-key"}
    assert owner_api.post("/api/v1/members/", body, headers=headers).status_code == 201
    with schema_context(world.alice.schema_name):
        IdempotencyKey.objects.filter(key="old-key").update(
            created_at=timezone.now() - datetime.timedelta(hours=25)
        )
    response = owner_api.post("/api/v1/members/", body, headers=headers)
    assert response.status_code == 200 and "Idempotent-Replayed" not in response


def test_a_failed_request_does_not_burn_its_key(owner_api):
    headers = {"Idempotency-Key": "fix-and-retry"}
    phone = unique_phone()
    assert owner_api.post("/api/v1/members/", {"phone": phone}, headers=headers).status_code == 400
    fixed = owner_api.post("/api/v1/members/", {"phone": phone, "consent": consent()}, headers=headers)
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey", " padded", "padded ", "clé"])
def test_a_bad_idempotency_key_is_a_400(owner_api, key):
    response = owner_api.post(
        "/api/v1/members/", {"phone": unique_phone(), "consent": consent()}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"


@pytest.mark.parametrize("key", ["x" * 255, "a", "import 2026-04-30 row 1", "~!@#$%^&*()"])
def test_every_idempotency_key_the_schema_allows_is_taken(owner_api, key):
    response = owner_api.post(
        "/api/v1/members/", {"phone": unique_phone(), "consent": consent()}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.content


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw", ['{"phone": ', "[1, 2", "\xff\xfe", '{"phone": NaN}', "null", "[]", '"text"', "1" * 5000]
)
def test_malformed_or_unexpected_json_is_a_400_in_json(owner_api, raw):
    response = owner_api.post("/api/v1/members/", raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in ("malformed_request", "invalid")


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a": ' * 5_000 + "1" + "}" * 5_000,
        '{"phone": ' + "[" * 3_000 + "]" * 3_000 + "}",
    ],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_deeply_nested_json_is_a_400_not_a_crash(owner_api, raw):
    response = owner_api.post("/api/v1/members/", raw=raw)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "malformed_request" and "nested" in error["message"]


def test_a_form_encoded_body_is_a_415(owner_api):
    response = owner_api.post(
        "/api/v1/members/", raw="phone=%2B12025550142", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here/",
        "/api/v2/members/",
        "/api/",
        "/api/v1/members/abc/",
        "/api/v1/members/99999999999999999999999999/",
        "/api/v1/members%0A/",  # an encoded newline: the catch-all must match it too
        "/api/v1/%0D%0Amembers/",
        "/api/%0A",
    ],
)
def test_unknown_api_paths_are_a_json_404(owner_api, path):
    response = owner_api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_an_id_beyond_bigint_is_a_404_not_a_500(owner_api):
    response = owner_api.get("/api/v1/members/9223372036854775808/")
    assert response.status_code == 404


def test_past_the_rate_a_token_gets_429_with_retry_after(world, owner_api, settings):
    settings.API_THROTTLE_RATE = "3/minute"
    other = Api(world.alice, token_for(world.alice, "olivia"))
    statuses = [owner_api.get("/api/v1/settings/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = owner_api.get("/api/v1/settings/")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 60
    # Counted per token: another token of the same teammate is not slowed down.
    assert other.get("/api/v1/settings/").status_code == 200


def test_a_post_to_an_unknown_api_path_is_a_json_404_not_a_csrf_page(owner_api):
    response = owner_api.post("/api/v1/conversations/null,null/messages/", {"body": "hi"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_body_over_the_size_limit_is_a_400_not_a_500(owner_api):
    huge = '{"phone": "' + "1" * 3_000_000 + '"}'
    response = owner_api.post("/api/v1/members/", raw=huge)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "request_too_large"


def test_migrating_the_public_schema_creates_the_throttle_cache_table(db, settings):
    from django.apps import apps
    from django.db import connection
    from django.db.models.signals import post_migrate

    def exists() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('public.community_cache')")
            return cursor.fetchone()[0] is not None

    # Without REDIS_URL the cache is this table; CI's Redis run checks the same deployment path.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "community_cache"}
    }
    # DDL is transactional in PostgreSQL: the test's rollback puts things back as they were.
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS public.community_cache")
    assert not exists()
    config = apps.get_app_config("api")
    post_migrate.send(
        sender=config, app_config=config, verbosity=0, interactive=False, using="default", apps=apps, plan=[]
    )
    assert exists()


def test_two_concurrent_requests_with_one_key_act_once(world, live_db, live_app):
    """Over real HTTP, in parallel: the second request waits for the first and replays its answer."""
    from concurrent.futures import ThreadPoolExecutor

    raw = token_for(world.alice, "olivia", name="concurrency test")
    host = world.alice.get_primary_domain().domain
    body = {"phone": unique_phone(), "consent": consent()}
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": f"race-{body['phone']}"}

    def post(_):
        return live_app.http("POST", "/api/v1/members/", host=host, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(post, range(4)))
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 3
    with schema_context(world.alice.schema_name):
        assert Member.objects.filter(phone=body["phone"]).count() == 1
