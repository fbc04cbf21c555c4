"""Reservations into the PMS: pulled from the simulator's queue, or pushed as signed webhooks."""

from __future__ import annotations

import time

import pytest
import requests
from django.core.management import call_command

from apps.bookings.models import Booking
from apps.channels.inbound import reservations_pull
from apps.channels.models import ChannelAlert, ChannelConnection, Delivery, InboundMessage
from apps.sandbox import booking_com as sim
from apps.sandbox.models import SimCalendarDay, SimListing, SimReservation
from tests.factories import future

from .conftest import SIM_PASSWORD, SIM_USER

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def other_conn(prop, live_server):
    """A second pushing connection of the same property (another Booking.com-speaking account)."""
    SimListing.objects.create(hotel_code="555", username="other", password="pw-2")  # noqa: S106
    conn = ChannelConnection(property=prop, platform="booking_com", external_property_id="555")
    return conn


def _res(listing, start=20, nights=3, **kw):
    return sim.create_reservation(listing=listing, check_in=future(start), check_out=future(start + nights), **kw)


def test_pulled_reservation_becomes_booking_is_acked_and_pulled_twice_is_one(prop, listing, bcom):
    res = _res(listing, first_name="Ana", last_name="Gast", email="ana@example.com")
    out = reservations_pull(connection_id=bcom.pk)
    assert (out.fetched, out.created, out.acked) == (1, 1, 1), out
    booking = Booking.objects.get(source="booking_com", external_id=res.res_id)
    assert booking.status == "confirmed" and booking.property_id == prop.pk
    assert (booking.check_in, booking.check_out) == (future(20), future(23))
    assert booking.guest.first_name == "Ana" and booking.payment_status == "not_required"
    res.refresh_from_db()
    assert res.new_acked_at is not None
    msg = InboundMessage.objects.get(via="pull")
    assert "OTA_HotelResNotifRQ" in msg.body and msg.status == "processed" and msg.booking_id == booking.pk
    # the platform re-sends it (e.g. our ack was lost): still one booking, acked again
    SimReservation.objects.filter(pk=res.pk).update(new_acked_at=None)
    again = reservations_pull(connection_id=bcom.pk)
    assert (again.fetched, again.created, again.duplicates, again.acked) == (1, 0, 1, 1)
    assert Booking.objects.filter(source="booking_com", external_id=res.res_id).count() == 1
    assert InboundMessage.objects.filter(via="pull").count() == 2  # raw kept every time
    # an empty queue now
    assert reservations_pull(connection_id=bcom.pk).fetched == 0


def test_pulled_reservation_closes_the_dates_on_the_other_channels(prop, listing, bcom):
    """Airbnb, Vrbo & co. read the property's iCal export: the Booking.com stay is in it at once
    (but not in the URL given to Booking.com itself: no echo)."""
    from apps.channels import ical

    res = _res(listing, start=30, nights=2)
    reservations_pull(connection_id=bcom.pk)
    booking = Booking.objects.get(source="booking_com", external_id=res.res_id)
    uids = {e.uid: (e.start, e.end) for e in ical.export_events(prop=prop)}
    assert uids[f"booking-{booking.pk}@{ical.UID_DOMAIN}"] == (future(30), future(32))
    assert all(
        not uid.startswith(f"booking-{booking.pk}@")
        for uid in (e.uid for e in ical.export_events(prop=prop, exclude_sources=["booking_com"]))
    )


def test_booking_com_booking_gets_a_state_based_push_back_to_booking_com(prop, listing, bcom):
    """Pushes carry the calendar, not the reservation: the channel the booking came from is pushed its
    (closed) nights like every other channel, which nothing on the platform can mistake for a booking."""
    _res(listing)
    reservations_pull(connection_id=bcom.pk)
    delivery = Delivery.objects.get(connection=bcom)
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.event.source == "booking_com"
    assert SimReservation.objects.count() == 1  # no reservation echoed
    days = SimCalendarDay.objects.filter(listing=listing, day__gte=future(20), day__lt=future(23))
    assert days.count() == 3 and not any(d.open for d in days)


def test_conflicting_reservation_is_refused_on_platform_and_alerted(prop, listing, bcom):
    from apps.bookings import services as booking_services

    booking_services.booking_create(
        property_id=prop.pk, check_in=future(21), check_out=future(24), guests=2, status="confirmed"
    )
    # race: the guest books on Booking.com before our push arrived
    res = _res(listing, start=20, nights=3, force=True)
    out = reservations_pull(connection_id=bcom.pk)
    assert out.refused == 1 and out.acked == 0 and not out.error, out
    assert not Booking.objects.filter(external_id=res.res_id).exists()
    res.refresh_from_db()
    assert res.status == "refused" and "not available" in res.refusal
    alert = ChannelAlert.objects.get(kind="conflict")
    assert res.res_id in alert.message and alert.property_id == prop.pk
    msg = InboundMessage.objects.get(via="pull")
    assert msg.status == "refused" and msg.result["refused_on_platform"] is True
    # refused reservations leave the queue
    assert reservations_pull(connection_id=bcom.pk).fetched == 0


def test_modification_and_cancellation_are_applied(prop, listing, bcom):
    res = _res(listing)
    reservations_pull(connection_id=bcom.pk)
    booking = Booking.objects.get(external_id=res.res_id)
    sim.modify_reservation(res=res, check_in=future(21), check_out=future(25))
    out = reservations_pull(connection_id=bcom.pk)
    assert out.outcomes == ["changed"], out
    booking.refresh_from_db()
    assert (booking.check_in, booking.check_out) == (future(21), future(25))
    res.refresh_from_db()
    sim.modify_reservation(res=res, cancel=True)
    assert reservations_pull(connection_id=bcom.pk).outcomes == ["cancelled"]
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert reservations_pull(connection_id=bcom.pk).fetched == 0


def test_simulate_reservation_command(prop, listing, bcom):
    call_command(
        "simulate_reservation", "--hotel", "1234567", "--check-in", str(future(30)), "--check-out", str(future(32))
    )
    assert reservations_pull(connection_id=bcom.pk).created == 1


# --- webhooks ----------------------------------------------------------------------------------
def _post(live_server, body: bytes, headers: dict) -> requests.Response:
    return requests.post(live_server.url + "/webhooks/booking_com/", data=body, headers=headers, timeout=10)


def _signed(res, secret="whsec-test", ts=None):
    body = b'<?xml version="1.0"?>' + sim.tostring(sim.reservation_document([res], modify=False), encoding="utf-8")
    return body, sim.signed_headers(secret=secret, body=body, event_id=res.res_id, timestamp=ts)


def test_webhook_creates_booking_and_replay_is_idempotent(prop, listing, bcom, live_server):
    res = _res(listing)
    body, headers = _signed(res)
    first = _post(live_server, body, headers)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "processed"
    replay = _post(live_server, body, headers)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert Booking.objects.filter(external_id=res.res_id).count() == 1
    msgs = InboundMessage.objects.filter(via="webhook").order_by("received_at")
    assert [m.status for m in msgs] == ["processed", "duplicate"]
    assert all(m.signature_valid for m in msgs) and msgs[0].body.startswith("<?xml")


def test_webhook_bad_signature_403_raw_kept(prop, listing, bcom, live_server):
    res = _res(listing)
    body, headers = _signed(res, secret="wrong-secret")
    r = _post(live_server, body, headers)
    assert r.status_code == 403
    msg = InboundMessage.objects.get()
    assert msg.status == "rejected" and msg.signature_valid is False and msg.body == body.decode()
    assert not Booking.objects.filter(external_id=res.res_id).exists()
    # an old timestamp (replay outside the window) is refused too
    body, headers = _signed(res, ts=int(time.time()) - 3600)
    assert _post(live_server, body, headers).status_code == 403
    # no signature at all
    assert _post(live_server, body, {"Content-Type": "application/xml"}).status_code == 403
    assert InboundMessage.objects.filter(status="rejected").count() == 3


def test_webhook_malformed_400_parse_error_recorded(prop, listing, bcom, live_server):
    body = b"<OTA_HotelResNotifRQ><broken"
    headers = sim.signed_headers(secret="whsec-test", body=body, event_id="x")
    r = _post(live_server, body, headers)
    assert r.status_code == 400 and "Malformed" in r.json()["error"]
    msg = InboundMessage.objects.get()
    assert msg.status == "invalid" and msg.parse_error and msg.body == body.decode()
    # well-formed XML that is not a reservation
    body = b'<?xml version="1.0"?><Hello/>'
    r = _post(live_server, body, sim.signed_headers(secret="whsec-test", body=body, event_id="y"))
    assert r.status_code == 400
    # unknown platform, GET: clear 4xx
    assert requests.post(live_server.url + "/webhooks/nope/", data=b"x", timeout=5).status_code == 404
    assert requests.get(live_server.url + "/webhooks/booking_com/", timeout=5).status_code == 405


def test_webhook_conflict_refused_on_platform(prop, listing, bcom, live_server):
    from apps.bookings import services as booking_services

    booking_services.booking_create(
        property_id=prop.pk, check_in=future(20), check_out=future(22), guests=1, status="confirmed"
    )
    res = _res(listing, start=21, nights=2, force=True)
    body, headers = _signed(res)
    r = _post(live_server, body, headers)
    assert r.status_code == 200 and r.json()["status"] == "refused"
    res.refresh_from_db()
    assert res.status == "refused"
    assert ChannelAlert.objects.filter(kind="conflict").count() == 1


def test_secrets_never_in_headers_log(prop, listing, bcom, live_server):
    res = _res(listing)
    body, headers = _signed(res)
    headers["Authorization"] = f"Basic {SIM_USER}:{SIM_PASSWORD}"
    _post(live_server, body, headers)
    stored = InboundMessage.objects.get().headers
    assert SIM_PASSWORD not in str(stored) and stored.get("Authorization") == "[redacted]"
    assert SimCalendarDay.objects.filter(listing=listing).exists()
