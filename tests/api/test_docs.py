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
