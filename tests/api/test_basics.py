"""Authentication, the error shape, throttling and the offline docs."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from apps.api.models import ApiToken, hash_token
from apps.api.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


def test_token_is_stored_hashed(alice):
    token, raw = api_token_create(user=alice, name="RMS")
    assert raw.startswith(f"pms_{token.prefix}_")
    assert token.key_hash == hash_token(raw)
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().get())


def test_no_token_is_401_in_error_shape():
    response = APIClient().get("/api/v1/properties/")
    err = assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert err["details"] == {}


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer", "Token a b", "Bearer pms_x_y"])
def test_bad_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(client.get("/api/v1/properties/"), 401, "authentication_failed")


def test_revoked_token_is_401_and_last_used_recorded(alice_api):
    assert alice_api.get("/api/v1/properties/").status_code == 200
    alice_api.token.refresh_from_db()
    assert alice_api.token.last_used_at is not None
    assert api_token_revoke(token_id=alice_api.token.pk)
    assert not api_token_revoke(token_id=alice_api.token.pk)
    assert_error(alice_api.get("/api/v1/properties/"), 401, "authentication_failed")


def test_inactive_user_token_is_401(alice, alice_api):
    alice.is_active = False
    alice.save()
    assert_error(alice_api.get("/api/v1/properties/"), 401)


def test_token_prefix_accepted(alice):
    _, raw = api_token_create(user=alice, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/properties/").status_code == 200


def test_unknown_path_is_json_404(alice_api):
    assert_error(alice_api.get("/api/v1/nope/"), 404, "not_found")
    assert_error(alice_api.get("/api/v1/properties/abc/"), 404, "not_found")
    assert_error(alice_api.get("/api/v1/properties/999999999/"), 404, "not_found")


def test_method_not_allowed_is_json_405(alice_api, world):
    booking = world["booking"]
    assert_error(alice_api.delete(f"/api/v1/bookings/{booking.pk}/"), 405, "method_not_allowed")
    assert_error(alice_api.put("/api/v1/sync-events/"), 405, "method_not_allowed")


def test_validation_error_shape(alice_api):
    err = assert_error(alice_api.post("/api/v1/properties/", {"name": ""}, format="json"), 400, "validation_error")
    assert "name" in err["details"] and "max_guests" in err["details"]


def test_parse_error_shape(alice_api):
    response = alice_api.post("/api/v1/properties/", "{not json", content_type="application/json")
    assert_error(response, 400, "parse_error")


def test_unsupported_media_type(alice_api):
    response = alice_api.post("/api/v1/quotes/", "x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_throttled_per_token(alice):
    first = APIClient()
    token, raw = api_token_create(user=alice, name="busy")
    first.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    other = APIClient()
    _, raw2 = api_token_create(user=alice, name="calm")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {raw2}")
    with override_settings(API_THROTTLE_RATE="3/minute"):
        statuses = [first.get("/api/v1/properties/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        err = assert_error(first.get("/api/v1/properties/"), 429, "throttled")
        assert err["details"]["retry_after_seconds"] >= 1
        # another token of the same user has its own budget
        assert other.get("/api/v1/properties/").status_code == 200
    cache.delete_pattern("*throttle*")


def test_schema_and_docs_are_offline(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "openapi: 3" in text and "/api/v1/bookings/" in text and "Idempotency-Key" in text
    for url in ("/api/docs/", "/api/docs/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "drf_spectacular_sidecar" in html
        assert "cdn.jsdelivr" not in html and "unpkg" not in html


def test_schema_documents_every_operation_with_examples(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "Error" in schema["components"]["schemas"]
    missing = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            has_example = (
                method == "delete"
                or any(
                    "examples" in content
                    for code, resp in op["responses"].items()
                    if code.startswith("2")
                    for content in resp.get("content", {}).values()
                )
                or any("examples" in c for c in op.get("requestBody", {}).get("content", {}).values())
            )
            if not has_example:
                missing.append(f"{method.upper()} {path}")
            assert "404" in op["responses"] and "401" in op["responses"]
            assert "examples" in op["responses"]["404"]["content"]["application/json"]
    assert not missing, missing


def test_browsable_api_with_session(client, alice, prop):
    client.force_login(alice)
    response = client.get("/api/v1/properties/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Alice&#x27;s Loft" in response.content or b"Alice's Loft" in response.content


def test_domain_errors_map_to_their_status():
    from apps.api.exceptions import exception_handler
    from apps.bookings.errors import InvalidTransition
    from apps.core.errors import Conflict, NotFound, ValidationFailed

    for exc, status in [
        (ValidationFailed("bad", details={"f": 1}), 400),
        (NotFound("gone"), 404),
        (Conflict("taken"), 409),
        (InvalidTransition(current="a", target="b", allowed=[]), 409),
    ]:
        response = exception_handler(exc, {})
        assert response.status_code == status
        assert response.data["error"]["code"] == exc.code
        assert response.data["error"]["details"] == exc.details
