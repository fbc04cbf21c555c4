"""OpenAPI helpers: the error shape, token auth, and common error responses on every operation."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "booking_conflict"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid input (`validation_error`, `parse_error`, ...).",
    "401": "Missing, invalid or revoked token (`not_authenticated`, `authentication_failed`).",
    "403": "Authenticated but not allowed (`permission_denied`).",
    "404": "Not found, or not yours (`not_found`).",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "Conflict (`booking_conflict` with the conflicting dates, `invalid_transition`, "
    "`idempotency_in_progress` with Retry-After, `client_reference_taken` naming the booking, `protected`).",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "422": "Idempotency-Key reused with a different request (`idempotency_key_reused`).",
    "429": "Too many requests for this token (`throttled`); see Retry-After.",
    "503": "A backing service cannot answer right now (`database_unavailable`, `redis_unavailable`); retry after "
    "Retry-After seconds. With an Idempotency-Key the retry gets what was committed.",
}
EXAMPLE_CODES = {
    "400": "validation_error",
    "401": "not_authenticated",
    "403": "permission_denied",
    "404": "not_found",
    "405": "method_not_allowed",
    "406": "not_acceptable",
    "409": "conflict",
    "413": "request_too_large",
    "415": "unsupported_media_type",
    "422": "idempotency_key_reused",
    "429": "throttled",
    "503": "database_unavailable",
}
ALWAYS = ("400", "401", "403", "404", "405", "406", "429", "503")
ON_POST = ("409", "413", "415", "422")
ON_WRITE = ("409", "415")

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Makes a POST safe to retry: the first response is stored and replayed for the same key and "
    "body (header `Idempotent-Replayed: true`); if the first attempt's answer was lost after its write committed "
    "(a 503, a dropped connection), the retry gets the committed object as it stands now; a different body -> "
    "422; while the first is running -> 409 with Retry-After.",
)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created in the admin: `Authorization: Bearer pms_xxxxxxxx_...`",
        }


def add_error_responses(result, generator, request, public):
    """Postprocessing hook: the error schema, and its responses on every operation."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = list(ALWAYS)
            if method == "post":
                codes += ON_POST
            elif method in ("put", "patch", "delete"):
                codes += ON_WRITE
            responses = operation.setdefault("responses", {})
            for code in codes:
                response = responses.setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
                content = response.setdefault("content", {}).setdefault("application/json", {})
                content["schema"] = ref
                content.setdefault("examples", {})[f"Error{code}"] = {
                    "value": {
                        "error": {"code": EXAMPLE_CODES[code], "message": ERROR_DESCRIPTIONS[code], "details": {}}
                    },
                    "summary": f"{code} {EXAMPLE_CODES[code]}",
                }
    return result


def error_example(name: str, code: str, message: str, details: dict | None = None, status: int = 400):
    return OpenApiExample(
        name,
        value={"error": {"code": code, "message": message, "details": details or {}}},
        response_only=True,
        status_codes=[str(status)],
    )


class EmptySerializer(serializers.Serializer):
    pass
