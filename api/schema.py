"""OpenAPI details drf-spectacular cannot guess: the token scheme and the error responses of each operation."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from api.serializers import NO_NULL, ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Bad input: malformed JSON, invalid fields (`fields` says which), a bad cursor or filter.",
    "401": "No token, or a token that is not valid for this leader or was revoked.",
    "403": "The token's role does not give access to this endpoint.",
    "404": "No such resource.",
    "405": "This method is not allowed here.",
    "406": "Only JSON is served.",
    "409": "The resource's state refuses this (e.g. the member opted out).",
    "415": "Send JSON (`Content-Type: application/json`).",
    "422": "The Idempotency-Key was used for a different request.",
    "429": "Too many requests for this token: wait `Retry-After` seconds.",
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cmt_…",
            "description": "An API token created by the leader's owner (`manage.py create_api_token`).",
        }


class ApiAutoSchema(AutoSchema):
    """Adds the error envelope for every status an operation can answer with."""

    def _error_codes(self) -> list[str]:
        codes = ["401", "403", "405", "406", "429"]
        has_body = self.method in ("POST", "PUT", "PATCH")
        if has_body or self._get_paginator() or self.get_filter_backends() or self.method == "GET":
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if has_body:
            codes.append("415")
        if self.method == "POST":
            codes += ["409", "422"]
        return sorted(codes)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses

        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        """What a serializer declares beyond its fields (`schema_extra`, `schema_properties`): closed
        objects, "one of these keys", an exclusive minimum."""
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request":
            schema.update(getattr(serializer, "schema_extra", {}))
            for name, extra in getattr(serializer, "schema_properties", {}).items():
                schema.get("properties", {}).get(name, {}).update(extra)
        return schema

    def _insert_field_validators(self, field, schema):
        """Free text a request sends says it takes no null character: DRF refuses them (PostgreSQL cannot
        store them), so a schema without it would promise what the API refuses."""
        super()._insert_field_validators(field, schema)
        if (
            not field.read_only
            and schema.get("type") == "string"
            and not {"pattern", "enum", "format"} & set(schema)
        ):
            schema["pattern"] = NO_NULL

    def get_tags(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p and not p.startswith("{")]
        return [parts[2] if len(parts) > 2 else "api"]
