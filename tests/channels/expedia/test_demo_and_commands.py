"""The demo's Expedia home, the "guest books on Expedia" command and admin page, end to end over HTTP."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.models import ChannelConnection
from apps.channels.reconciliation import reconcile
from apps.sandbox.demo_expedia import DEMO_HOTEL, seed_demo_expedia
from apps.sandbox.models.expedia import ExpBooking, ExpHotel, ExpTransaction
from tests.factories import future

from .conftest import BN_PASSWORD, BN_USER

pytestmark = pytest.mark.django_db(transaction=True)


def _run(*args) -> str:
    out = io.StringIO()
    call_command("expedia_reservation", *args, stdout=out)
    return out.getvalue()


def test_seed_connects_a_home_the_simulator_knows_its_bookings_and_reconcile_is_clean(prop, live_server):
    seeded = booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(20),
        check_out=future(22),
        guests=2,
        status="confirmed",
        source="expedia",
        external_id="expedia-seed-1",
    )
    with override_settings(SITE_URL=live_server.url):
        seed_demo_expedia([prop])
        seed_demo_expedia([prop])  # idempotent
    conn = ChannelConnection.objects.get(platform="expedia")
    assert conn.property == prop and conn.base_url == live_server.url + "/sandbox/expedia"
    assert conn.settings["reservation_model"] == "pull"
    assert list(ExpBooking.objects.values_list("booking_id", "confirm_number")) == [
        ("expedia-seed-1", seeded.reference)
    ]
    assert ExpTransaction.objects.get().status == "confirmed"
    assert reservations_pull(connection_id=conn.pk).fetched == 0  # known, not retrieved again
    run = reconcile(connection_id=conn.pk, days=60)
    assert run.status == "ok", (run.error, list(run.items.values("kind", "day", "external_id")))
    # a guest books on Expedia: it arrives at the next pull
    text = _run("--hotel", DEMO_HOTEL, "--nights", "2", "--after", "30")
    assert "queued for the partner's next booking retrieval" in text
    assert reservations_pull(connection_id=conn.pk).created == 1
    assert Booking.objects.filter(property=prop, source="expedia").count() == 2


def test_command_books_modifies_and_cancels(prop, hotel, expedia):
    _run("--hotel", "111", "--check-in", str(future(10)), "--check-out", str(future(12)))
    booking_id = ExpBooking.objects.get().booking_id
    reservations_pull(connection_id=expedia.pk)
    text = _run("--modify", booking_id, "--check-in", str(future(10)), "--check-out", str(future(14)))
    assert "Modify" in text
    _run("--cancel", booking_id)
    for _ in range(3):
        reservations_pull(connection_id=expedia.pk)
    booking = Booking.objects.get(external_id=booking_id)
    assert (booking.check_out, booking.status) == (future(14), "cancelled")
    for bad, message in [
        ((), "exactly one"),
        (("--hotel", "999"), "No simulator hotel"),
        (("--cancel", "nope"), "No Expedia booking"),
        (("--cancel", booking_id), "active booking"),
        (("--hotel", "111", "--check-in", str(future(5))), "both"),
        (("--hotel", "111", "--check-in", str(future(5)), "--check-out", str(future(5))), "after"),
    ]:
        with pytest.raises(CommandError, match=message):
            _run(*bad)


def test_staff_books_on_expedia_in_the_admin_and_it_is_pushed_as_a_booking_notification(
    client, staff, prop, hotel, live_server
):
    from .conftest import make_expedia_connection

    ExpHotel.objects.filter(pk=hotel.pk).update(
        reservation_model="push",
        bn_url=live_server.url + "/webhooks/expedia/bn/",
        bn_username=BN_USER,
        bn_password=BN_PASSWORD,
    )
    make_expedia_connection(prop, base_url=live_server.url + "/sandbox/expedia", model="push")
    client.force_login(staff)
    data = {
        "hotel": hotel.pk,
        "check_in": future(10).isoformat(),
        "check_out": future(13).isoformat(),
        "adults": 2,
        "children": 0,
        "given_name": "Noor",
        "surname": "Haddad",
        "email": "",
        "transactions-TOTAL_FORMS": 0,
        "transactions-INITIAL_FORMS": 0,
    }
    response = client.post(reverse("admin:sandbox_expbooking_add"), data, follow=True)
    assert response.status_code == 200
    booking = Booking.objects.get(source="expedia")
    assert booking.guest.first_name == "Noor" and booking.property == prop
    assert "pushed as a Booking Notification, accepted" in response.content.decode()
    exp = ExpBooking.objects.get()
    response = client.post(
        reverse("admin:sandbox_expbooking_changelist"), {"action": "cancel", "_selected_action": [exp.pk]}, follow=True
    )
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    # the closed-calendar check of the page: a second guest cannot book the same nights
    response = client.post(reverse("admin:sandbox_expbooking_add"), {**data, "check_in": future(20).isoformat()})
    assert response.status_code == 200  # check-out before check-in: the form says so
    assert "Check-out must be after check-in." in response.content.decode()
