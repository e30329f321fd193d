"""The OpenAPI schema and the browsable docs, served by the platform itself (no CDN)."""

from __future__ import annotations

import json
import re

from django.urls import reverse

from tests.api.conftest import Api


def test_the_schema_is_openapi_3_with_the_token_scheme_and_the_error_envelope(world, db):
    response = Api(world.alice, None).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"error"}
    members = schema["paths"]["/api/v1/members/"]
    assert {"200", "400", "401", "403", "429"} <= set(members["get"]["responses"])
    assert {"200", "201", "409", "415", "422"} <= set(members["post"]["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in members["post"]["parameters"])
    assert members["get"]["responses"]["401"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )
    assert "/api/v1/conversations/{id}/messages/" in schema["paths"]


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(world, db, live_app):
    host = world.alice.get_primary_domain().domain
    page = live_app.http("GET", reverse("api_docs"), host=host)
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and not any(a.startswith(("http://", "https://", "//")) for a in assets), assets
    bundle = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    assert live_app.http("GET", bundle, host=host).status_code == 200


def test_the_redoc_page_loads_without_a_token(world, db, live_app):
    page = live_app.http("GET", reverse("api_redoc"), host=world.alice.get_primary_domain().domain)
    assert page.status_code == 200
    assert "redoc" in page.text.lower()


def _served_schema(world) -> dict:
    response = Api(world.alice, None).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _parameter(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)


def test_the_schema_states_the_constraints_the_api_keeps(world, db):
    """What a client written from the schema alone must know; tests/api/test_schema_fuzz.py checks the API
    keeps exactly these, and the tests beside each endpoint check their bounds."""
    schema = _served_schema(world)
    paths, components = schema["paths"], schema["components"]["schemas"]
    for path in ("/api/v1/members/", "/api/v1/broadcasts/", "/api/v1/webhooks/"):
        key = _parameter(paths[path]["post"], "Idempotency-Key")["schema"]
        assert (key["minLength"], key["maxLength"]) == (1, 255)
        assert re.fullmatch(key["pattern"], "5f0c1f3e-8d7a-4a52-9b1e-2f7f8b0c9a11")
        assert not any(re.fullmatch(key["pattern"], bad) for bad in (" x", "x ", "clé", "tab\tkey"))
    audience = components["AudienceFilterRequest"]
    assert audience["additionalProperties"] is False
    assert audience["properties"]["countries"]["items"]["pattern"] == "^[A-Za-z]{2}$"
    for age in ("age_min", "age_max"):
        assert (audience["properties"][age]["minimum"], audience["properties"][age]["maximum"]) == (0, 130)
    assert {"cities", "near", "tags_any", "tags_all", "tags"} <= set(audience["properties"])
    near = components["NearRequest"]
    assert near["properties"]["km"] == {
        **near["properties"]["km"],
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 2000,
    }
    assert near["required"] == ["km"] and near["additionalProperties"] is False
    assert components["MemberCreateRequest"]["properties"]["country"]["pattern"] == "^[A-Za-z]{2}$"
    listing = paths["/api/v1/members/"]["get"]
    assert _parameter(listing, "countries")["schema"]["items"]["pattern"] == "^[A-Za-z]{2}$"
    assert _parameter(listing, "age_min")["schema"] == {"type": "integer", "minimum": 0, "maximum": 130}
    radius = _parameter(listing, "near")
    assert radius["style"] == "deepObject" and set(radius["schema"]["properties"]) == {
        "city",
        "place_id",
        "lat",
        "lon",
        "km",
    }
