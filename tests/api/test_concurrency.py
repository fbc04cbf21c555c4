"""Several clients book overlapping dates at once: exactly one wins, the rest get 409 with its dates."""

from __future__ import annotations

import threading

import pytest
import requests

from apps.bookings.models import Booking
from tests.api.conftest import client_for
from tests.factories import PropertyFactory, future, make_owner

CLIENTS = 6


@pytest.mark.django_db(transaction=True)
def test_overlapping_bookings_from_concurrent_clients(live_server):
    owner = make_owner("erin")
    prop = PropertyFactory(owner=owner)
    tokens = [client_for(owner, f"tool {i}").raw_token for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)
    responses: list[requests.Response | None] = [None] * CLIENTS

    def book(i: int) -> None:
        # overlapping but different stays: [20+i%3, 23+i%3)
        body = {"property": prop.pk, "check_in": str(future(20 + i % 3)), "check_out": str(future(23 + i % 3)),
                "guests": 2, "status": "confirmed"}  # fmt: skip
        barrier.wait(timeout=20)
        responses[i] = requests.post(
            f"{live_server.url}/api/v1/bookings/",
            json=body,
            headers={"Authorization": f"Bearer {tokens[i]}", "Idempotency-Key": f"client-{i}"},
            timeout=60,
        )

    threads = [threading.Thread(target=book, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (CLIENTS - 1), [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    for r in responses:
        if r.status_code == 409:
            error = r.json()["error"]
            assert error["code"] == "booking_conflict"
            assert error["details"]["conflicts"] == [
                {"kind": "booking", "id": winner["id"], "reference": winner["reference"],
                 "start": winner["check_in"], "end": winner["check_out"]}
            ]  # fmt: skip
            assert winner["check_in"] in error["message"]
    assert Booking.objects.filter(property=prop).count() == 1
