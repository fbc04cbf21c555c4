"""The simulator's guest tools (command and staff admin page), listing notifications, reconciliation."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.models import ChannelAlert
from apps.channels.reconciliation import reconcile
from apps.sandbox import airbnb as sim
from apps.sandbox.models.airbnb import AirbnbCalendarDay, AirbnbReservation
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def test_command_books_alters_and_cancels(abnb, ab_listing, prop):
    out = io.StringIO()
    call_command("simulate_airbnb_reservation", "--nights", "2", "--after", "10", stdout=out)
    assert "Accepted" in out.getvalue() and "confirmed booking" in out.getvalue()
    res = AirbnbReservation.objects.get()
    booking = Booking.objects.get(property=prop, source="airbnb", external_id=res.confirmation_code)
    call_command("simulate_airbnb_reservation", "--alter", res.confirmation_code, "--nights", "4", stdout=out)
    booking.refresh_from_db()
    assert (booking.check_out - booking.check_in).days == 4
    call_command("simulate_airbnb_reservation", "--cancel", res.confirmation_code, stdout=out)
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    call_command("simulate_airbnb_reservation", "--kind", "request", "--after", "40", stdout=out)
    assert "answers it in the admin" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("simulate_airbnb_reservation", "--listing", "nope", stdout=out)
    with pytest.raises(CommandError):
        call_command("simulate_airbnb_reservation", "--nights", "0", stdout=out)


def test_staff_admin_page_books_as_a_guest_and_owners_do_not_see_the_simulator(
    client, staff, alice, abnb, ab_listing, prop
):
    client.force_login(staff)
    url = reverse("admin:sandbox_airbnbreservation_add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "listing": ab_listing.pk,
            "kind": "instant",
            "start_date": future(33).isoformat(),
            "nights": 2,
            "number_of_guests": 2,
            "guest_first_name": "Eva",
            "guest_last_name": "Lind",
            "message": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Booking.objects.filter(property=prop, source="airbnb", check_in=future(33)).exists()
    client.force_login(alice)
    assert client.get(reverse("admin:sandbox_airbnbreservation_changelist")).status_code == 403


def test_listing_status_notifications_are_recorded_and_alerted(abnb, ab_listing):
    sim.listing_status_change(listing=ab_listing, sync="sync_undecided")
    sim.listing_status_change(listing=ab_listing, approval="rejected")
    abnb.refresh_from_db()
    assert abnb.settings["airbnb_synchronization_category"] == "sync_undecided"
    assert abnb.settings["airbnb_approval_status"] == "rejected"
    assert ChannelAlert.objects.filter(connection=abnb, message__contains="sync_undecided").exists()
    assert ChannelAlert.objects.filter(connection=abnb, message__contains="rejected").exists()


def test_reconciliation_finds_nothing_then_imports_a_missing_reservation_and_recloses(abnb, ab_listing, prop):
    sim.guest_books(listing=ab_listing, start_date=future(20), nights=2)
    run = reconcile(connection_id=abnb.pk, days=120)
    assert run.status == "ok", (run.summary, list(run.items.values()))
    # a reservation Airbnb has that we never heard of (lost calls), and a night Airbnb shows open
    lost = AirbnbReservation.objects.create(
        listing=ab_listing, start_date=future(40), nights=2, status=AirbnbReservation.Status.ACCEPTED
    )
    sim._occupy(lost)
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(50), check_out=future(51), guests=2, status="confirmed"
    )
    AirbnbCalendarDay.objects.filter(listing=ab_listing, day=future(50)).update(
        availability="available", available_count=1
    )
    run = reconcile(connection_id=abnb.pk, days=120)
    kinds = set(run.items.values_list("kind", flat=True))
    assert "missing_in_core" in kinds and "availability_mismatch" in kinds, run.summary
    assert Booking.objects.filter(property=prop, source="airbnb", external_id=lost.confirmation_code).exists()
    assert sim.nights_closed(ab_listing, [future(50)])
