"""Idempotency-Key: replay, a different body, and a concurrent duplicate."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import psycopg
import pytest
import requests
from django.db import connection
from django.utils import timezone

from apps.api import idempotency
from apps.api.models import IdempotencyRecord
from apps.api.services import idempotency_purge
from apps.availability import calendar
from apps.bookings.models import Booking
from tests.api.conftest import client_for
from tests.api.test_basics import assert_error
from tests.factories import PropertyFactory, future, make_owner


@contextlib.contextmanager
def holding_the_claim(record_id: int):
    """Another database session holds the claim's advisory lock, as a request still running does."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    with psycopg.connect(
        dbname=connection.settings_dict["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"], autocommit=True
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [idempotency.LOCK_NAMESPACE, record_id])
        yield


def booking_body(prop, start=30, nights=2, guests=2):
    return {"property": prop.pk, "check_in": str(future(start)), "check_out": str(future(start + nights)),
            "guests": guests}  # fmt: skip


@pytest.mark.django_db
class TestLedger:
    def test_replay_returns_the_first_response_and_creates_nothing(self, alice_api, prop):
        first = alice_api.post("/api/v1/bookings/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == 201
        assert "Idempotent-Replayed" not in first
        second = alice_api.post("/api/v1/bookings/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert second.status_code == 201
        assert second["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        assert second["Location"] == first["Location"]
        assert Booking.objects.filter(property=prop).count() == 1
        record = IdempotencyRecord.objects.get(key="k-1")
        assert record.state == "completed" and record.response_status == 201

    def test_different_body_same_key_is_422(self, alice_api, prop):
        assert alice_api.post("/api/v1/bookings/", booking_body(prop), format="json",
                              HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201  # fmt: skip
        err = assert_error(
            alice_api.post("/api/v1/bookings/", booking_body(prop, guests=3), format="json",
                           HTTP_IDEMPOTENCY_KEY="k-2"),
            422,
            "idempotency_key_reused",
        )  # fmt: skip
        assert err["details"] == {"idempotency_key": "k-2"}
        # same body on another endpoint is a different request too
        assert_error(
            alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-2"), 422
        )
        assert Booking.objects.count() == 1

    def test_keys_are_per_token(self, alice, alice_api, prop):
        other = client_for(alice, "second tool")
        a = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="shared")
        b = other.post("/api/v1/quotes/", booking_body(prop, guests=1), format="json", HTTP_IDEMPOTENCY_KEY="shared")
        assert a.status_code == b.status_code == 200
        assert "Idempotent-Replayed" not in b

    def test_errors_below_500_are_replayed_too(self, alice_api, world):
        body = booking_body(world["property"], start=11)
        first = alice_api.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert first.status_code == 409
        second = alice_api.post("/api/v1/bookings/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
        assert second.status_code == 409 and second["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()

    def test_auth_failures_do_not_claim_the_key(self, alice_api, prop):
        from rest_framework.test import APIClient

        anon = APIClient()
        assert anon.post("/api/v1/bookings/", booking_body(prop), format="json",
                         HTTP_IDEMPOTENCY_KEY="k-4").status_code == 401  # fmt: skip
        assert not IdempotencyRecord.objects.filter(key="k-4").exists()

    @pytest.mark.parametrize("key", ["", "with space", "x" * 256, "ümlaut", "trailing-newline\n"])
    def test_invalid_key_is_400(self, alice_api, prop, key):
        response = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert_error(response, 400, "invalid_idempotency_key")

    def test_stale_in_progress_row_is_taken_over(self, alice, alice_api, prop):
        first = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-5")
        record = IdempotencyRecord.objects.get(key="k-5")
        # pretend the first worker died before storing its response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state="in_progress", response_status=None, locked_at=timezone.now() - timedelta(hours=1)
        )
        again = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-5")
        assert again.status_code == 200 and "Idempotent-Replayed" not in again
        assert again.json() == first.json()
        # a fresh in-progress row whose request is alive (its session holds the row's lock) answers 409
        IdempotencyRecord.objects.filter(pk=record.pk).update(state="in_progress", locked_at=timezone.now())
        with holding_the_claim(record.pk):
            response = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-5")
            assert_error(response, 409, "idempotency_in_progress")
            assert response["Retry-After"] == "1"
        # the same row once its request is gone (no session holds the lock): taken over at once
        again = alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-5")
        assert again.status_code == 200 and again.json() == first.json()

    def test_get_ignores_the_header(self, alice_api):
        assert alice_api.get("/api/v1/properties/", HTTP_IDEMPOTENCY_KEY="k-6").status_code == 200
        assert not IdempotencyRecord.objects.exists()

    def test_purge(self, alice_api, prop):
        alice_api.post("/api/v1/quotes/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="old")
        IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=3))
        assert idempotency_purge() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_is_409_while_the_first_runs(live_server):
    """Two real clients send the same key; the second arrives while the first holds the key."""
    owner = make_owner("dora")
    prop = PropertyFactory(owner=owner)
    api = client_for(owner)
    url = f"{live_server.url}/api/v1/bookings/"
    headers = {"Authorization": f"Bearer {api.raw_token}", "Idempotency-Key": "same-key"}
    body = booking_body(prop)
    entered, release = threading.Event(), threading.Event()

    def hold():  # runs inside the first request, between the availability check and the write
        entered.set()
        release.wait(timeout=20)

    results = {}

    def first():
        results["first"] = requests.post(url, json=body, headers=headers, timeout=30)

    calendar.after_check_hook = hold
    try:
        thread = threading.Thread(target=first)
        thread.start()
        assert entered.wait(timeout=20), "the first request never reached the booking service"
        second = requests.post(url, json=body, headers=headers, timeout=30)
        release.set()
        thread.join(timeout=30)
    finally:
        calendar.after_check_hook = None
        release.set()
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "idempotency_in_progress"
    assert results["first"].status_code == 201, results["first"].text
    third = requests.post(url, json=body, headers=headers, timeout=30)
    assert third.status_code == 201 and third.headers["Idempotent-Replayed"] == "true"
    assert third.json()["id"] == results["first"].json()["id"]
    assert Booking.objects.filter(property=prop).count() == 1


@pytest.mark.django_db
def test_server_error_is_json_and_frees_the_key(alice_api, prop):
    def boom():
        raise RuntimeError("injected failure")

    calendar.after_check_hook = boom
    try:
        failed = alice_api.post("/api/v1/bookings/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    finally:
        calendar.after_check_hook = None
    err = assert_error(failed, 500, "server_error")
    assert "injected" not in err["message"]
    assert not IdempotencyRecord.objects.filter(key="k-500").exists()
    retried = alice_api.post("/api/v1/bookings/", booking_body(prop), format="json", HTTP_IDEMPOTENCY_KEY="k-500")
    assert retried.status_code == 201
    assert Booking.objects.filter(property=prop).count() == 1


def test_error_echoing_a_nul_character_is_stored_and_replayed(alice_api, prop):
    body = {
        "property": prop.pk,
        "start_date": "2030-01-01",
        "end_date": "2030-01-03",
        "note": "a\x00b",
        "block_type": "nonsense\x00",
    }
    first = alice_api.post("/api/v1/blocks/", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-1")
    assert first.status_code == 400, first.content
    again = alice_api.post("/api/v1/blocks/", body, format="json", HTTP_IDEMPOTENCY_KEY="nul-1")
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"
