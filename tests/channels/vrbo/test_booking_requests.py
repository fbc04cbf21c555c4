"""Real-time booking requests from Vrbo over real HTTP: a request becomes a confirmed booking (and
closes the dates on Booking.com), a replay books nothing more, taken dates get an errorList and an
alert, rules are refused before the calendar, cancellations and moves, FAS quotes equal ours, and
Bob's credentials never reach Alice's listing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from defusedxml import ElementTree as SafeET

from apps.availability.pricing import quote_stay
from apps.bookings import services as booking_services
from apps.bookings.models import Booking
from apps.channels import vrbo
from apps.channels.models import ChannelAlert, InboundMessage
from apps.sandbox.models import SimCalendarDay

from ..conftest import make_connection
from .conftest import ALICE_PASSWORD, ALICE_USER, BOB_PASSWORD, BOB_USER

pytestmark = pytest.mark.django_db(transaction=True)


def booking_request_xml(*, listing: str, check_in, check_out, tracking: str, adults: int = 2, total="500.00") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bookingRequest><documentVersion>1.1</documentVersion><bookingRequestDetails>
  <advertiserAssignedId>adv</advertiserAssignedId><listingExternalId>{listing}</listingExternalId>
  <unitExternalId>{listing}-1</unitExternalId><listingChannel>FEWO_DIREKT_DE</listingChannel>
  <message>Hallo!</message>
  <inquirer locale="de_DE"><firstName>Greta</firstName><lastName>Gast</lastName>
    <emailAddress>greta@example.com</emailAddress></inquirer>
  <reservation><numberOfAdults>{adults}</numberOfAdults><numberOfChildren>0</numberOfChildren><numberOfPets>0</numberOfPets>
    <reservationDates><beginDate>{check_in.isoformat()}</beginDate><endDate>{check_out.isoformat()}</endDate></reservationDates>
    <reservationOriginationDate>2026-12-01T10:00:00Z</reservationOriginationDate></reservation>
  <orderItemList><orderItem><feeType>RENTAL</feeType><name>Total</name>
    <preTaxAmount currency="EUR">{total}</preTaxAmount><totalAmount currency="EUR">{total}</totalAmount>
  </orderItem></orderItemList>
  <trackingUuid>{tracking}</trackingUuid><travelerSource>FEWO_DIREKT_DE</travelerSource>
</bookingRequestDetails></bookingRequest>""".encode()


def post(live_server, body: bytes, auth=(ALICE_USER, ALICE_PASSWORD), path: str = "booking") -> requests.Response:
    return requests.post(
        f"{live_server.url}/vrbo/{path}",
        data=body,
        auth=auth,
        headers={"Content-Type": "application/xml"},
        timeout=30,
    )


def test_booking_request_books_replay_is_one_booking_and_closes_booking_com(live_server, prop, alice_vrbo, listing):
    bcom = make_connection(prop, base_url=live_server.url + "/sandbox/booking_com")
    check_in = vrbo.local_today(prop) + timedelta(days=12)
    check_out = check_in + timedelta(days=3)
    tracking = str(uuid.uuid4())
    body = booking_request_xml(listing="L-ALICE", check_in=check_in, check_out=check_out, tracking=tracking)
    first = post(live_server, body)
    assert first.status_code == 200, first.text
    root = SafeET.fromstring(first.content)
    assert root.tag == "bookingResponse"
    booking = Booking.objects.get(property=prop, source="fewo_direkt", external_id=tracking)
    assert root.findtext("bookingResponseDetails/externalId") == booking.reference
    assert root.findtext("bookingResponseDetails/bookingStatus") == "BOOKED"
    assert booking.status == "confirmed" and booking.guests == 2 and booking.total_price == Decimal("500.00")

    replay = post(live_server, body)
    assert replay.status_code == 200
    assert SafeET.fromstring(replay.content).findtext("bookingResponseDetails/externalId") == booking.reference
    assert Booking.objects.filter(property=prop, source="fewo_direkt").count() == 1
    assert InboundMessage.objects.filter(platform="fewo_direkt", status="duplicate").count() == 1

    # the booking closed the nights on Booking.com (eager outbox in tests) ...
    nights = [check_in + timedelta(days=i) for i in range(3)]
    closed = SimCalendarDay.objects.filter(listing=listing, day__in=nights, rooms_to_sell=0).count()
    assert closed == 3, f"Booking.com still sells nights; deliveries: {list(bcom.deliveries.values('status'))}"
    # ... and our own availability document shows them N
    doc = SafeET.fromstring(vrbo.availability_document(alice_vrbo).body)
    assert doc.findtext(".//availability")[12:15] == "NNN"
    # ... and Vrbo's booking feed lists it
    assert tracking.encode() in vrbo.booking_index_document(alice_vrbo).body


def test_taken_dates_get_an_error_list_and_an_alert(live_server, prop, alice_vrbo):
    check_in = vrbo.local_today(prop) + timedelta(days=8)
    booking_services.booking_create(
        property_id=prop.pk, check_in=check_in, check_out=check_in + timedelta(days=2), guests=2, status="confirmed"
    )
    tracking = str(uuid.uuid4())
    body = booking_request_xml(
        listing="L-ALICE",
        check_in=check_in + timedelta(days=1),
        check_out=check_in + timedelta(days=4),
        tracking=tracking,
    )
    response = post(live_server, body)
    assert response.status_code == 200
    root = SafeET.fromstring(response.content)
    assert root.tag == "errorList"
    assert root.findtext("error/errorCode") == "DATES_NOT_AVAILABLE"
    assert f"{check_in.isoformat()} to {(check_in + timedelta(days=2)).isoformat()}" in root.findtext("error/message")
    assert not Booking.objects.filter(external_id=tracking).exists()
    alert = ChannelAlert.objects.get(kind="conflict", connection=alice_vrbo)
    assert tracking in alert.message
    # a replay answers the same refusal, no second alert
    again = post(live_server, body)
    assert SafeET.fromstring(again.content).findtext("error/errorCode") == "DATES_NOT_AVAILABLE"
    assert ChannelAlert.objects.filter(kind="conflict").count() == 1


def test_stay_rules_are_refused_with_their_reason(live_server, prop, alice_vrbo):
    prop.default_min_stay = 3
    prop.save()
    check_in = vrbo.local_today(prop) + timedelta(days=8)
    body = booking_request_xml(
        listing="L-ALICE", check_in=check_in, check_out=check_in + timedelta(days=2), tracking=str(uuid.uuid4())
    )
    root = SafeET.fromstring(post(live_server, body).content)
    assert root.findtext("error/errorCode") == "MIN_STAY_NOT_MET"
    too_many = booking_request_xml(
        listing="L-ALICE", check_in=check_in, check_out=check_in + timedelta(days=3), tracking="t-big", adults=40
    )
    assert SafeET.fromstring(post(live_server, too_many).content).findtext("error/errorCode") == "MAX_GUESTS_EXCEEDED"
    assert not Booking.objects.filter(source="fewo_direkt").exists()
    assert not ChannelAlert.objects.filter(kind="conflict").exists()


def test_cancel_and_move(live_server, prop, alice_vrbo):
    check_in = vrbo.local_today(prop) + timedelta(days=20)
    tracking = str(uuid.uuid4())
    post(
        live_server,
        booking_request_xml(
            listing="L-ALICE", check_in=check_in, check_out=check_in + timedelta(days=3), tracking=tracking
        ),
    )
    other = booking_services.booking_create(
        property_id=prop.pk,
        check_in=check_in + timedelta(days=10),
        check_out=check_in + timedelta(days=12),
        guests=1,
        status="confirmed",
    )

    def move(start, end, mod: str) -> requests.Response:
        return post(
            live_server,
            f"""<bookingModificationRequest><bookingModificationRequestDetails>
            <listingExternalId>L-ALICE</listingExternalId><trackingUuid>{tracking}</trackingUuid>
            <modificationUuid>{mod}</modificationUuid>
            <reservation><numberOfAdults>3</numberOfAdults><reservationDates><beginDate>{start}</beginDate>
            <endDate>{end}</endDate></reservationDates></reservation>
            </bookingModificationRequestDetails></bookingModificationRequest>""".encode(),
        )

    refused = move(other.check_in, other.check_out, "m1")
    assert SafeET.fromstring(refused.content).findtext("error/errorCode") == "DATES_NOT_AVAILABLE"
    booking = Booking.objects.get(external_id=tracking)
    assert booking.check_in == check_in  # unchanged

    moved = move(check_in + timedelta(days=1), check_in + timedelta(days=5), "m2")
    assert (
        SafeET.fromstring(moved.content).findtext("bookingResponseDetails/reservationDates/beginDate")
        == (check_in + timedelta(days=1)).isoformat()
    )
    booking.refresh_from_db()
    assert (booking.check_in, booking.guests) == (check_in + timedelta(days=1), 3)

    cancel = f"""<cancelBookingRequest><cancelBookingRequestDetails><listingExternalId>L-ALICE</listingExternalId>
      <trackingUuid>{tracking}</trackingUuid><cancelTrackingUuid>c1</cancelTrackingUuid>
      </cancelBookingRequestDetails></cancelBookingRequest>""".encode()
    answer = SafeET.fromstring(post(live_server, cancel).content)
    assert answer.findtext("bookingResponseDetails/bookingStatus") == "CANCELLED"
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert (
        SafeET.fromstring(post(live_server, cancel).content).findtext("bookingResponseDetails/bookingStatus")
        == "CANCELLED"
    )
    update = SafeET.fromstring(vrbo.booking_update_document(alice_vrbo, booking).body)
    assert update.findtext(".//orderItem/status") == "CANCELLED"


def test_malformed_and_unauthenticated_requests(live_server, prop, alice_vrbo):
    assert post(live_server, b"<bookingRequest><bookingRe", auth=None).status_code == 401
    assert post(live_server, b"<bookingRequest><bookingRe").status_code == 400
    bad = post(live_server, b"<somethingElse/>")
    assert bad.status_code == 400 and SafeET.fromstring(bad.content).findtext("error/errorCode") == "MALFORMED_REQUEST"
    no_dates = post(
        live_server,
        b"<bookingRequest><bookingRequestDetails><listingExternalId>L-ALICE</listingExternalId>"
        b"<trackingUuid>x</trackingUuid></bookingRequestDetails></bookingRequest>",
    )
    assert no_dates.status_code == 400
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><bookingRequest>&a;</bookingRequest>'
    assert post(live_server, bomb).status_code == 400
    assert requests.get(f"{live_server.url}/vrbo/booking", timeout=10).status_code == 405
    assert InboundMessage.objects.filter(platform="fewo_direkt").count() == 5  # every request kept raw
    assert not Booking.objects.filter(source="fewo_direkt").exists()


def test_outsider_cannot_book_or_cancel_alices_listing(live_server, prop, alice_vrbo, bob_vrbo):
    check_in = vrbo.local_today(prop) + timedelta(days=9)
    tracking = str(uuid.uuid4())
    body = booking_request_xml(
        listing="L-ALICE", check_in=check_in, check_out=check_in + timedelta(days=2), tracking=tracking
    )
    as_bob = post(live_server, body, auth=(BOB_USER, BOB_PASSWORD))
    unknown = post(
        live_server,
        booking_request_xml(
            listing="L-NOBODY", check_in=check_in, check_out=check_in + timedelta(days=2), tracking="u"
        ),
        auth=(BOB_USER, BOB_PASSWORD),
    )
    assert (as_bob.status_code, as_bob.content) == (unknown.status_code, unknown.content)
    assert SafeET.fromstring(as_bob.content).findtext("error/errorCode") == "LISTING_NOT_FOUND"
    assert not Booking.objects.filter(source="fewo_direkt").exists()
    # Alice's genuine request with the same trackingUuid still books (Bob pre-claimed nothing)
    assert SafeET.fromstring(post(live_server, body).content).tag == "bookingResponse"
    # Bob cannot cancel it through his own listing either
    cancel = f"""<cancelBookingRequest><cancelBookingRequestDetails><listingExternalId>L-BOB</listingExternalId>
      <trackingUuid>{tracking}</trackingUuid></cancelBookingRequestDetails></cancelBookingRequest>""".encode()
    answer = post(live_server, cancel, auth=(BOB_USER, BOB_PASSWORD))
    assert SafeET.fromstring(answer.content).findtext("error/errorCode") == "BOOKING_NOT_FOUND"
    assert Booking.objects.get(external_id=tracking).status == "confirmed"
    # and Bob's quote request for Alice's listing is a 404 like any unknown listing
    fas = {
        "listingExternalId": "L-ALICE",
        "dateRange": {"arrivalDate": str(check_in), "departureDate": str(check_in + timedelta(days=2))},
        "adults": 2,
    }
    assert (
        requests.post(f"{live_server.url}/vrbo/quote", json=fas, auth=(BOB_USER, BOB_PASSWORD), timeout=10).status_code
        == 404
    )


def test_fas_quote_equals_our_quote(live_server, prop, alice_vrbo):
    from decimal import Decimal

    from apps.availability.models import PricingRule

    PricingRule.objects.create(
        property=prop,
        rule_type="length_of_stay",
        adjustment_type="percentage",
        adjustment_value=Decimal("-10"),
        conditions={"min_nights": 7},
    )
    PricingRule.objects.create(
        property=prop,
        rule_type="tax_percentage",
        adjustment_type="percentage",
        adjustment_value=Decimal("7"),
        conditions={},
    )
    check_in = vrbo.local_today(prop) + timedelta(days=15)
    check_out = check_in + timedelta(days=8)
    fas = {
        "requestVersion": "1.0",
        "listingExternalId": "L-ALICE",
        "dateRange": {"arrivalDate": str(check_in), "departureDate": str(check_out)},
        "adults": 2,
        "children": 1,
        "pets": 0,
        "units": [{"unitExternalId": "L-ALICE-1"}],
    }
    answer = requests.post(f"{live_server.url}/vrbo/quote", json=fas, auth=(ALICE_USER, ALICE_PASSWORD), timeout=10)
    assert answer.status_code == 200, answer.text
    data = answer.json()
    ours = quote_stay(prop=prop, check_in=check_in, check_out=check_out, guests=3)
    assert data["available"] is True and data["quote"]["total"] == str(ours.total)
    assert data["quote"]["discounts"][0]["amount"] == str(ours.stay_adjustments[0]["amount"])
    bad = requests.post(f"{live_server.url}/vrbo/quote", data=b"[1", auth=(ALICE_USER, ALICE_PASSWORD), timeout=10)
    assert bad.status_code == 400


def test_hostile_dates_and_numbers_are_a_400_never_a_500(live_server, prop, alice_vrbo):
    from datetime import date

    far = booking_request_xml(
        listing="L-ALICE", check_in=date(9999, 12, 30), check_out=date(9999, 12, 31), tracking="t1"
    )
    answer = post(live_server, far)
    assert answer.status_code == 400
    assert SafeET.fromstring(answer.content).findtext("error/errorCode") == "INVALID_REQUEST"
    old = booking_request_xml(listing="L-ALICE", check_in=date(1, 1, 1), check_out=date(1, 1, 3), tracking="t2")
    assert post(live_server, old).status_code == 400
    crowd = booking_request_xml(
        listing="L-ALICE",
        check_in=vrbo.local_today(prop),
        check_out=vrbo.local_today(prop) + timedelta(days=2),
        tracking="t3",
        adults=10**9,
    )
    assert post(live_server, crowd).status_code == 400
    auth = (ALICE_USER, ALICE_PASSWORD)
    for body in (
        b'{"listingExternalId": "L-ALICE", "dateRange": {"arrivalDate": "9999-12-30", "departureDate": "9999-12-31"}}',
        b'{"listingExternalId": "L-ALICE", "adults": Infinity, '
        b'"dateRange": {"arrivalDate": "2027-01-01", "departureDate": "2027-01-03"}}',
        b'{"listingExternalId": "L-ALICE", "dateRange": "x"}',
        b"[]",
    ):
        response = requests.post(f"{live_server.url}/vrbo/quote", data=body, auth=auth, timeout=10)
        assert response.status_code == 400, (body, response.text)
    assert not Booking.objects.filter(source="fewo_direkt").exists()
