"""Idempotency-Key survives crashes (issue 12, finding 1), over real HTTP on the real database.

The request's own PostgreSQL connection is really terminated (``pg_terminate_backend``) at a chosen
point: before the booking commits, after it committed while the answer is built, and inside the
ledger's finish step. Every answer is the JSON error shape (503 + Retry-After where the database was
the problem, never HTML), and every retry with the same key gets the booking that was committed.
"""

from __future__ import annotations

import pytest
import requests

from apps.api import idempotency
from apps.api.models import IdempotencyRecord
from apps.availability import calendar
from apps.bookings.api import BookingViewSet
from apps.bookings.models import Booking
from tests.api.conftest import client_for
from tests.factories import PropertyFactory, future, make_owner
from tests.faults.conftest import connection_dies_at

pytestmark = pytest.mark.django_db(transaction=True)


class Api:
    def __init__(self, live_server):
        self.owner = make_owner("iris")
        self.prop = PropertyFactory(owner=self.owner)
        self.token = client_for(self.owner).raw_token
        self.url = f"{live_server.url}/api/v1/bookings/"

    def create(self, start: int, *, key: str | None = None, **extra) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        body = {"property": self.prop.pk, "check_in": str(future(start)), "check_out": str(future(start + 2)),
                "guests": 2, **extra}  # fmt: skip
        response = requests.post(self.url, json=body, headers=headers, timeout=30)
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:300]
        return response

    def get(self, query: str) -> requests.Response:
        return requests.get(self.url + query, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "2"


def test_answer_lost_after_commit(live_server):
    api = Api(live_server)
    # the connection dies once while the answer is built: the same request rebuilds it at once
    with connection_dies_at(BookingViewSet, "_respond", times=1):
        first = api.create(10, key="k-after-1")
    assert first.status_code == 201, first.text
    assert Booking.objects.filter(pk=first.json()["id"]).exists()
    assert IdempotencyRecord.objects.get(key="k-after-1").state == "completed"

    # it dies twice (the rebuild too): 503, the booking is committed, and the retry gets it
    with connection_dies_at(BookingViewSet, "_respond", times=2):
        lost = api.create(20, key="k-after-2")
    assert_unavailable(lost)
    committed = Booking.objects.get(property=api.prop, check_in=future(20))
    retry = api.create(20, key="k-after-2")
    assert retry.status_code == 201, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json()["id"] == committed.pk and retry.json()["status"] == "reserved"
    assert retry.headers["Location"].endswith(f"/api/v1/bookings/{committed.pk}/")
    again = api.create(20, key="k-after-2")
    assert again.status_code == 201 and again.json() == retry.json()
    assert Booking.objects.filter(property=api.prop, check_in=future(20)).count() == 1

    # without a key, the client's own reference finds what it created
    with connection_dies_at(BookingViewSet, "_respond", times=1):
        lost = api.create(30, client_reference="crm-30")
    assert_unavailable(lost)
    twice = api.create(30, client_reference="crm-30")
    assert twice.status_code == 409, twice.text
    error = twice.json()["error"]
    booking = Booking.objects.get(property=api.prop, check_in=future(30))
    assert error["code"] == "client_reference_taken" and error["details"]["booking_id"] == booking.pk
    found = api.get("?client_reference=crm-30").json()["results"]
    assert [b["id"] for b in found] == [booking.pk] and found[0]["client_reference"] == "crm-30"


def test_connection_dies_in_the_ledgers_finish_step(live_server):
    api = Api(live_server)
    # once: the ledger reconnects and stores the answer
    with connection_dies_at(idempotency, "_store", times=1):
        first = api.create(10, key="k-finish-1")
    assert first.status_code == 201, first.text
    assert IdempotencyRecord.objects.get(key="k-finish-1").state == "completed"
    # for good: the client still gets its JSON answer; the row, linked to the booking, answers the retry
    with connection_dies_at(idempotency, "_store", times=2):
        second = api.create(20, key="k-finish-2")
    assert second.status_code == 201, second.text
    record = IdempotencyRecord.objects.get(key="k-finish-2")
    assert record.state == "in_progress" and record.resource_id == str(second.json()["id"])
    retry = api.create(20, key="k-finish-2")
    assert retry.status_code == 201 and retry.json()["id"] == second.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Booking.objects.filter(property=api.prop).count() == 2


def test_connection_dies_before_commit(live_server):
    api = Api(live_server)
    # between the availability check and the write: nothing committed, the key is free again
    with connection_dies_at(calendar, "assert_free", times=1):
        failed = api.create(10, key="k-before-1")
    assert_unavailable(failed)
    assert not Booking.objects.filter(property=api.prop).exists()
    assert not IdempotencyRecord.objects.filter(key="k-before-1").exists()
    retry = api.create(10, key="k-before-1")
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers

    # the ledger cannot even free the key: its claim died with the session, so the retry takes it
    # over at once instead of waiting IDEMPOTENCY_LOCK_SECONDS
    with connection_dies_at(calendar, "assert_free", times=1), connection_dies_at(idempotency, "_store", times=2):
        failed = api.create(20, key="k-before-2")
    assert_unavailable(failed)
    record = IdempotencyRecord.objects.get(key="k-before-2")
    assert record.state == "in_progress" and record.resource_id == ""
    retry = api.create(20, key="k-before-2")
    assert retry.status_code == 201, retry.text
    assert Booking.objects.filter(property=api.prop).count() == 2
