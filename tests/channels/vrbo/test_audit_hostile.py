"""Outside-in audit: hostile values on the Vrbo endpoints we host (credentials with a NUL byte, an
infinite party size, deep JSON) are a 4xx, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import ALICE_PASSWORD, ALICE_USER


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/vrbo/feeds/listing/index.xml", "/vrbo/feeds/bookings/index.xml"])
def test_nul_in_basic_credentials_is_a_401(client, alice_vrbo, path):
    response = client.get(path, HTTP_AUTHORIZATION=basic("vrbo\x00alice", "x"))
    assert response.status_code == 401


@pytest.mark.django_db
def test_nul_in_basic_credentials_on_quote_and_booking_is_a_401(client, alice_vrbo):
    for path in ("/vrbo/quote", "/vrbo/booking"):
        response = client.post(
            path, data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=basic("a\x00b", "x")
        )
        assert response.status_code == 401, path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b'{"listingExternalId": "L-ALICE", "dateRange": {"arrivalDate": "2030-01-01", "departureDate": '
        b'"2030-01-03"}, "adults": 1e999}',
        b'{"listingExternalId": "L-ALICE", "dateRange": {"arrivalDate": "2030-01-01", "departureDate": '
        b'"2030-01-03"}, "adults": NaN}',
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(
            {"listingExternalId": "L-ALICE", "dateRange": {"arrivalDate": "9999-12-31", "departureDate": "9999-12-31"}}
        ).encode(),
        json.dumps({"listingExternalId": "L-ALICE", "dateRange": "2030-01-01"}).encode(),
    ],
)
def test_hostile_quote_is_a_4xx(client, alice_vrbo, body):
    response = client.post(
        "/vrbo/quote", data=body, content_type="application/json", HTTP_AUTHORIZATION=basic(ALICE_USER, ALICE_PASSWORD)
    )
    assert 400 <= response.status_code < 500, response.content[:300]


@pytest.mark.django_db
def test_quote_in_year_one_is_a_400(client, alice_vrbo):
    body = {"listingExternalId": "L-ALICE", "dateRange": {"arrivalDate": "0001-01-01", "departureDate": "0001-01-03"}}
    response = client.post(
        "/vrbo/quote", data=body, content_type="application/json", HTTP_AUTHORIZATION=basic(ALICE_USER, ALICE_PASSWORD)
    )
    assert response.status_code == 400  # outside the sane date window
