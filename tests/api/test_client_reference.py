"""``client_reference``: how a client that sent no Idempotency-Key finds the booking it created."""

from __future__ import annotations

import pytest

from apps.bookings.models import Booking
from tests.api.test_basics import assert_error
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def body(prop, start=30, **extra):
    return {"property": prop.pk, "check_in": str(future(start)), "check_out": str(future(start + 2)), "guests": 2,
            **extra}  # fmt: skip


def test_created_again_names_the_first_and_the_list_finds_it(alice, alice_api, prop):
    first = alice_api.post("/api/v1/bookings/", body(prop, client_reference="crm-1"), format="json")
    assert first.status_code == 201 and first.json()["client_reference"] == "crm-1"
    err = assert_error(
        alice_api.post("/api/v1/bookings/", body(prop, start=40, client_reference="crm-1"), format="json"),
        409,
        "client_reference_taken",
    )
    assert err["details"] == {"client_reference": "crm-1", "booking_id": first.json()["id"],
                              "reference": first.json()["reference"]}  # fmt: skip
    found = alice_api.get("/api/v1/bookings/?client_reference=crm-1").json()["results"]
    assert [b["id"] for b in found] == [first.json()["id"]]
    # unique per property: the same reference on another property is another booking
    other = PropertyFactory(owner=alice)
    assert alice_api.post("/api/v1/bookings/", body(other, client_reference="crm-1"), format="json").status_code == 201
    assert Booking.objects.filter(client_reference="crm-1").count() == 2


def test_an_outsider_finds_nothing_and_learns_nothing(alice_api, bob_api, prop, bob_prop):
    assert alice_api.post("/api/v1/bookings/", body(prop, client_reference="mine"), format="json").status_code == 201
    assert bob_api.get("/api/v1/bookings/?client_reference=mine").json()["results"] == []
    # bob's own property: his reference space, no hint about alice's booking
    assert bob_api.post("/api/v1/bookings/", body(bob_prop, client_reference="mine"), format="json").status_code == 201
    # and he cannot book alice's property to probe her references
    assert_error(bob_api.post("/api/v1/bookings/", body(prop, start=50, client_reference="mine"), format="json"), 400)


@pytest.mark.parametrize("value", ["", " ", "with space", "nul\x00byte", "ümlaut", "x" * 101, ["a"], {"a": 1}])
def test_garbage_is_a_400(alice_api, prop, value):
    response = alice_api.post("/api/v1/bookings/", body(prop, client_reference=value), format="json")
    assert_error(response, 400, "validation_error")
    assert not Booking.objects.exists()


def test_garbage_in_the_filter_is_a_400_or_nothing(alice_api):
    assert alice_api.get("/api/v1/bookings/?client_reference=%00").status_code == 400
    assert alice_api.get("/api/v1/bookings/?client_reference=" + "x" * 300).status_code == 400
    assert alice_api.get("/api/v1/bookings/?client_reference=nope").json()["results"] == []
