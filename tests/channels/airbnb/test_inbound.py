"""Airbnb calling us over real HTTP: a simulated guest's booking runs check_availability -> PUT
reservation -> acceptance notification against /webhooks/airbnb/; alterations, cancellations, requests
to book and inquiries; signatures, replays, conflicts, and an outsider's connection."""

from __future__ import annotations

import json

import pytest
import requests
from django.urls import reverse

from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels.models import AirbnbRequest, ChannelAlert, InboundMessage
from apps.sandbox import airbnb as sim
from apps.sandbox import booking_com as bcom_sim
from apps.sandbox.models.airbnb import AirbnbReservation
from tests.factories import future

from .conftest import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _bookings(prop):
    return Booking.objects.filter(property=prop, source="airbnb")


def test_guest_booking_arrives_confirmed_and_closes_booking_com_and_ical(client, abnb, ab_listing, prop, listing, bcom):
    res = sim.guest_books(listing=ab_listing, start_date=future(20), nights=3, first_name="Ana", last_name="Ruiz")
    assert res.status == AirbnbReservation.Status.ACCEPTED, res.failure
    booking = _bookings(prop).get()
    assert booking.status == "confirmed" and booking.external_id == res.confirmation_code
    assert (booking.check_in, booking.check_out) == (future(20), future(23))
    assert booking.total_price == res.listing_base_price + res.cleaning_fee
    # the other channel and the iCal export are closed for those nights
    assert bcom_sim.nights_closed(listing, future(20), future(23))
    feed = client.get(f"/ical/{prop.ical_token}.ics").content.decode()
    assert f"DTSTART;VALUE=DATE:{future(20):%Y%m%d}" in feed
    # the three calls were signed and stored, the last two name the booking
    msgs = InboundMessage.objects.filter(platform="airbnb", connection=abnb).order_by("received_at")
    assert [m.signature_valid for m in msgs] == [True, True, True]
    assert msgs[1].natural_key == f"{res.confirmation_code}:reservation" and msgs[1].booking_id == booking.pk
    assert msgs[2].natural_key == f"{res.confirmation_code}:reservation_acceptance_confirmation"


def test_replayed_reservation_creates_one_booking(abnb, ab_listing, airbnb_app, prop):
    res = sim.guest_books(listing=ab_listing, start_date=future(20), nights=2)
    body = {
        "confirmation_code": res.confirmation_code,
        "listing_id": int(ab_listing.listing_id),
        "start_date": future(20).isoformat(),
        "nights": 2,
        "number_of_guests": 2,
    }
    again = sim._pms(airbnb_app, "PUT", f"/reservations/{res.confirmation_code}", body=body)
    assert again.status == 200 and again.data["succeed"] is True
    note = sim.notify(
        airbnb_app, {"action": "reservation_acceptance_confirmation", "reservation": sim.reservation_json(res)}
    )
    assert note.data["succeed"] is True
    assert _bookings(prop).count() == 1
    assert InboundMessage.objects.filter(platform="airbnb", status="duplicate").count() == 2


def test_conflicting_reservation_answers_succeed_false_and_alerts(abnb, ab_listing, airbnb_app, prop):
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(20), check_out=future(23), guests=2, status="confirmed"
    )
    # Airbnb's calendar already shows them closed: the guest cannot book them there
    with pytest.raises(sim.GuestBookingRefused):
        sim.guest_books(listing=ab_listing, start_date=future(21), nights=2)
    # forced (a race: Airbnb had not heard yet): our check answers no, nothing is created
    res = sim.guest_books(listing=ab_listing, start_date=future(21), nights=2, force=True)
    assert res.status == AirbnbReservation.Status.NOT_AVAILABLE
    # a PUT without the check (Airbnb sold them anyway): refused with succeed false, recorded, alerted
    body = {
        "confirmation_code": "HMRACE0001",
        "listing_id": int(ab_listing.listing_id),
        "start_date": future(21).isoformat(),
        "nights": 2,
        "number_of_guests": 2,
    }
    answer = sim._pms(airbnb_app, "PUT", "/reservations/HMRACE0001", body=body)
    assert answer.status == 200 and answer.data["succeed"] is False
    assert answer.data["failure_code"] == "dates_not_available"
    assert not _bookings(prop).exists()
    assert ChannelAlert.objects.filter(kind="conflict", connection=abnb, message__contains="HMRACE0001").exists()
    assert InboundMessage.objects.get(natural_key="HMRACE0001:reservation").status == "refused"
    assert sim.nights_closed(ab_listing, [future(21), future(22)])  # pushed closed again


def test_check_availability_answers_from_our_calendar(abnb, ab_listing, airbnb_app, prop):
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(20), check_out=future(23), guests=2, status="confirmed"
    )
    params = {"action": "check_availability", "listing_id": ab_listing.listing_id, "nights": 2}
    busy = sim._pms(airbnb_app, "GET", "/reservations", params={**params, "start_date": future(21).isoformat()})
    free = sim._pms(airbnb_app, "GET", "/reservations", params={**params, "start_date": future(30).isoformat()})
    assert busy.data["available"] is False and busy.data["failure_code"]
    assert free.data == {**free.data, "available": True, "failure_code": None}


def test_alteration_and_cancellation_are_applied(abnb, ab_listing, prop):
    res = sim.guest_books(listing=ab_listing, start_date=future(20), nights=2)
    answer = sim.guest_alters(res, start_date=future(25), nights=3)
    assert answer.data["succeed"] is True, answer
    booking = _bookings(prop).get()
    assert (booking.check_in, booking.check_out) == (future(25), future(28))
    assert sim.nights_closed(ab_listing, [future(25), future(26), future(27)])
    res.refresh_from_db()
    answer = sim.guest_cancels(res)
    assert answer.data["succeed"] is True
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert not any(sim.nights_closed(ab_listing, [future(d)]) for d in (25, 26, 27))


def test_bad_signature_and_unknown_listing_answer_the_same(abnb, ab_listing, airbnb_app, live_server):
    body = {"action": "test_notification"}
    good = sim.notify(airbnb_app, body)
    assert good.status == 200 and good.data["succeed"] is True
    forged = sim.notify(airbnb_app, body, secret="not-the-secret")
    unknown = sim.notify(airbnb_app, {"action": "listings_unlinked", "listing_ids": [99999999]})
    assert forged.status == unknown.status == 403
    strip = {"message_id"}
    assert {k: v for k, v in forged.data.items() if k not in strip} == {
        k: v for k, v in unknown.data.items() if k not in strip
    }
    unsigned = requests.post(live_server.url + "/webhooks/airbnb/notifications", data=json.dumps(body), timeout=10)
    assert unsigned.status_code == 403
    assert InboundMessage.objects.filter(platform="airbnb", status="rejected").count() == 3
    malformed = sim._pms(airbnb_app, "PUT", "/reservations/HMX", body={"listing_id": ab_listing.listing_id})
    assert malformed.status == 400


def test_outsider_connection_cannot_touch_alices_reservation(
    client, bob, bob_prop, bob_host, bob_listing, abnb, ab_listing, airbnb_app, prop
):
    res = sim.guest_books(listing=ab_listing, start_date=future(20), nights=2)
    alices = _bookings(prop).get()
    connect(client, user=bob, prop=bob_prop, host_email="bob@host.example", listing_id=bob_listing.listing_id)
    # a cancellation and an alteration naming Alice's code, but Bob's listing: nothing of Alice's changes
    forged = {**sim.reservation_json(res), "listing_id": int(bob_listing.listing_id), "status_type": "cancelled"}
    sim.notify(airbnb_app, {"action": "reservation_cancellation_confirmation", "reservation": forged})
    moved = {
        **sim.reservation_json(res),
        "listing_id": int(bob_listing.listing_id),
        "start_date": future(40).isoformat(),
        "alteration_version": 5,
    }
    sim.notify(airbnb_app, {"action": "reservation_alteration_confirmation", "reservation": moved})
    alices.refresh_from_db()
    assert alices.status == "confirmed" and alices.check_in == future(20)
    # Bob revoking his grant switches off his connection only
    sim.host_revokes(host=bob_host, app=airbnb_app)
    abnb.refresh_from_db()
    assert abnb.sync_enabled
    # and Bob's admin does not show Alice's Airbnb requests
    alices_request = sim.guest_books(listing=ab_listing, start_date=future(50), nights=2, kind="request")
    client.force_login(bob)
    page = client.get(reverse("admin:channels_airbnbrequest_changelist"))
    assert page.status_code == 200 and alices_request.confirmation_code not in page.content.decode()
    req = AirbnbRequest.objects.get(code=alices_request.confirmation_code)
    client.post(reverse("admin:channels_airbnbrequest_changelist"), {"action": "accept", "_selected_action": [req.pk]})
    req.refresh_from_db()
    assert req.status == "pending"


def test_request_to_book_is_accepted_by_the_owner_in_the_admin(client, alice, abnb, ab_listing, prop):
    res = sim.guest_books(listing=ab_listing, start_date=future(30), nights=2, kind="request", message="Hi!")
    req = AirbnbRequest.objects.get(code=res.confirmation_code)
    assert req.status == "pending" and req.kind == "request" and req.message == "Hi!" and req.expires_at
    assert not _bookings(prop).exists()  # no dates held before the owner accepts
    client.force_login(alice)
    url = reverse("admin:channels_airbnbrequest_changelist")
    page = client.get(url)
    assert res.confirmation_code in page.content.decode()
    done = client.post(url, {"action": "accept", "_selected_action": [req.pk]}, follow=True)
    assert done.status_code == 200
    req.refresh_from_db()
    assert req.status == "accepted" and req.booking_id and req.decided_by_id == alice.pk
    booking = _bookings(prop).get()
    assert booking.external_id == res.confirmation_code and booking.status == "confirmed"
    res.refresh_from_db()
    assert res.status == AirbnbReservation.Status.ACCEPTED
    assert sim.nights_closed(ab_listing, [future(30), future(31)])
    # answering twice is refused with a message, not an error
    client.post(url, {"action": "decline", "_selected_action": [req.pk]})
    req.refresh_from_db()
    assert req.status == "accepted"


def test_inquiry_pre_approved_then_booked_and_a_declined_request(client, alice, abnb, ab_listing, prop):
    inquiry = sim.guest_books(listing=ab_listing, start_date=future(30), nights=2, kind="inquiry")
    request = sim.guest_books(listing=ab_listing, start_date=future(40), nights=2, kind="request")
    client.force_login(alice)
    url = reverse("admin:channels_airbnbrequest_changelist")
    q = AirbnbRequest.objects.get(code=inquiry.confirmation_code)
    r = AirbnbRequest.objects.get(code=request.confirmation_code)
    client.post(url, {"action": "accept", "_selected_action": [q.pk]})  # an inquiry cannot be accepted
    q.refresh_from_db()
    assert q.status == "pending"
    client.post(url, {"action": "pre_approve", "_selected_action": [q.pk]})
    client.post(url, {"action": "decline", "_selected_action": [r.pk]})
    q.refresh_from_db()
    r.refresh_from_db()
    assert q.status == "pre_approved" and r.status == "declined"
    inquiry.refresh_from_db()
    request.refresh_from_db()
    assert inquiry.status == AirbnbReservation.Status.PRE_APPROVED
    assert request.status == AirbnbReservation.Status.DENIED
    # the guest books the pre-approved inquiry: the standard sequence
    booked = sim.run_booking_sequence(inquiry)
    assert booked.status == AirbnbReservation.Status.ACCEPTED
    q.refresh_from_db()
    assert q.status == "withdrawn" and q.booking_id == _bookings(prop).get().pk


def test_lapsed_request_cannot_be_answered(client, alice, abnb, ab_listing, prop):
    from datetime import timedelta

    from django.utils import timezone

    res = sim.guest_books(listing=ab_listing, start_date=future(30), nights=2, kind="request")
    req = AirbnbRequest.objects.get(code=res.confirmation_code)
    AirbnbRequest.objects.filter(pk=req.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(alice)
    client.post(reverse("admin:channels_airbnbrequest_changelist"), {"action": "accept", "_selected_action": [req.pk]})
    req.refresh_from_db()
    assert req.status == "expired" and not _bookings(prop).exists()
