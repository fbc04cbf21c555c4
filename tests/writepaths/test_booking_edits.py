"""Booking edits: one service applies a set of changes atomically for the admin and the API; bookings
are never hard-deleted (finding 4); admin and API cannot write channel sources or external ids."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.bookings import services
from apps.bookings.models import Booking, BookingStatus
from apps.core.errors import DomainError
from apps.core.models import SyncEvent
from tests.api.test_basics import assert_error
from tests.factories import future

pytestmark = pytest.mark.django_db


def test_booking_update_applies_all_changes_or_none(prop, booking):
    other = services.booking_create(property_id=prop.pk, check_in=future(40), check_out=future(42), guests=1)
    with pytest.raises(DomainError):
        services.booking_update(
            booking_id=booking.pk, check_in=future(39), check_out=future(41), special_requests="lost", guests=1
        )
    booking.refresh_from_db()
    assert (booking.check_in, booking.guests, booking.special_requests) == (future(30), 2, "")
    updated = services.booking_update(
        booking_id=booking.pk, source="admin", check_out=future(34), guests=3, special_requests="Cot"
    )
    assert (updated.check_out, updated.guests, updated.special_requests) == (future(34), 3, "Cot")
    event = SyncEvent.objects.filter(entity_id=str(booking.pk), event_type="booking.updated").latest("created_at")
    assert sorted(event.payload["changed"]) == ["check_out", "guests", "special_requests"]
    assert event.source == "admin"
    assert other.pk


def test_booking_update_refuses_unknown_fields_capacity_and_channel_fields(prop, booking):
    changes_tried = (
        {"external_id": "123"}, {"status": "cancelled"}, {"guests": 99}, {"property_id": prop.pk},
        {"reference": "X"}, {"guests": "2"}, {"special_requests": "x\x00"},
    )  # fmt: skip
    for changes in changes_tried:
        with pytest.raises(DomainError):
            services.booking_update(booking_id=booking.pk, **changes)
    booking.refresh_from_db()
    assert (booking.source, booking.external_id, booking.status, booking.guests) == ("direct", None, "confirmed", 2)


def test_channel_booking_stay_is_changed_on_its_platform_only(prop):
    channel = services.booking_create(
        property_id=prop.pk, check_in=future(50), check_out=future(52), guests=1, source="booking_com",
        external_id="4711", status="confirmed", enforce_rules=False,
    )  # fmt: skip
    with pytest.raises(DomainError):
        services.booking_update(booking_id=channel.pk, check_out=future(53))
    services.booking_update(booking_id=channel.pk, special_requests="Late arrival")  # notes are fine
    channel.refresh_from_db()
    assert channel.check_out == future(52) and channel.special_requests == "Late arrival"


def test_admin_edit_goes_through_booking_update(client, alice, booking):
    client.force_login(alice)
    url = reverse("admin:bookings_booking_change", args=[booking.pk])
    response = client.post(url, {"check_in": str(future(30)), "check_out": str(future(35)), "guests": 2,
                                 "special_requests": "Cot"})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    event = SyncEvent.objects.filter(entity_id=str(booking.pk), event_type="booking.updated").latest("created_at")
    assert sorted(event.payload["changed"]) == ["check_out", "special_requests"] and event.source == "admin"
    # an over-capacity party is a form error, nothing changes
    response = client.post(url, {"check_in": str(future(30)), "check_out": str(future(35)), "guests": 99,
                                 "special_requests": ""})  # fmt: skip
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.guests == 2 and booking.special_requests == "Cot"


def test_api_patch_is_one_atomic_update(alice_api, prop, booking):
    services.booking_create(property_id=prop.pk, check_in=future(40), check_out=future(42), guests=1)
    url = f"/api/v1/bookings/{booking.pk}/"
    assert_error(alice_api.patch(url, {"check_out": str(future(41)), "special_requests": "lost"}, format="json"), 409)
    booking.refresh_from_db()
    assert booking.special_requests == "" and booking.check_out == future(33)
    body = alice_api.patch(url, {"guests": 1, "special_requests": "Quiet room"}, format="json").json()
    assert (body["guests"], body["special_requests"]) == (1, "Quiet room")
    event = SyncEvent.objects.filter(entity_id=str(booking.pk), event_type="booking.updated").latest("created_at")
    assert sorted(event.payload["changed"]) == ["guests", "special_requests"] and event.source == "api"


# --- channel sources and external ids -------------------------------------------------------------------


def test_admin_cannot_create_a_channel_booking_or_set_an_external_id(client, alice, prop):
    client.force_login(alice)
    add = client.get(reverse("admin:bookings_booking_add")).content.decode()
    assert 'name="external_id"' not in add and 'name="source"' not in add
    response = client.post(
        reverse("admin:bookings_booking_add"),
        {"property": prop.pk, "source": "booking_com", "external_id": "4000000001", "check_in": str(future(20)),
         "check_out": str(future(22)), "guests": 1, "status": "confirmed", "special_requests": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    made = Booking.objects.get(property=prop, check_in=future(20))
    assert made.source == "direct" and made.external_id is None


def test_api_cannot_create_a_channel_booking(alice_api, prop):
    response = alice_api.post(
        "/api/v1/bookings/",
        {"property": prop.pk, "check_in": str(future(20)), "check_out": str(future(22)), "guests": 1,
         "source": "booking_com", "external_id": "4000000001"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    made = Booking.objects.get(pk=response.json()["id"])
    assert made.source == "api" and made.external_id is None
    patched = alice_api.patch(f"/api/v1/bookings/{made.pk}/", {"source": "airbnb", "external_id": "x"}, format="json")
    assert patched.status_code in (200, 400)
    made.refresh_from_db()
    assert made.source == "api" and made.external_id is None


# --- never hard-deleted ------------------------------------------------------------------------------------


def test_owner_cannot_delete_a_booking_in_the_admin(client, alice, booking):
    client.force_login(alice)
    changelist = client.get(reverse("admin:bookings_booking_changelist")).content.decode()
    assert "delete_selected" not in changelist
    response = client.post(
        reverse("admin:bookings_booking_changelist"),
        {"action": "delete_selected", "_selected_action": [booking.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert client.post(reverse("admin:bookings_booking_delete", args=[booking.pk]), {"post": "yes"}).status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    page = client.get(reverse("admin:bookings_booking_change", args=[booking.pk])).content.decode()
    assert reverse("admin:bookings_booking_delete", args=[booking.pk]) not in page


def test_staff_cannot_hard_delete_either(client, staff, booking):
    client.force_login(staff)
    assert client.post(reverse("admin:bookings_booking_delete", args=[booking.pk]), {"post": "yes"}).status_code == 403
    assert Booking.objects.filter(pk=booking.pk).exists()


def test_outsider_cannot_touch_the_booking(client, bob, charlie, booking):
    for user in (bob, charlie):
        client.force_login(user)
        url = reverse("admin:bookings_booking_change", args=[booking.pk])
        client.post(url, {"check_in": str(future(60)), "check_out": str(future(61)), "guests": 1})
        client.post(reverse("admin:bookings_booking_changelist"),
                    {"action": "action_cancel", "_selected_action": [booking.pk], "confirm": "yes",
                     "refund": "none"})  # fmt: skip
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.check_in == future(30)
