"""The iCal export feed: RFC 5545 all-day events, no guest data, no echo, revocable URL."""

from __future__ import annotations

import uuid

import icalendar
import pytest
import requests

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.bookings.models import BookingSource, BookingStatus
from apps.channels import ical
from apps.properties.models import Property
from tests.channels.test_ical_adapter import D
from tests.factories import PropertyFactory, UserFactory

GUEST = booking_services.GuestData(
    first_name="Ingrid", last_name="Bergström", email="ingrid.b@example.com", phone="+4917612345678"
)


@pytest.fixture
def house(db):
    return PropertyFactory(owner=UserFactory(username=f"o-{uuid.uuid4().hex[:8]}"), timezone="Europe/Berlin")


def parse(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def direct_booking(house, check_in, check_out, **kwargs):
    return booking_services.booking_create(
        property_id=house.pk, check_in=check_in, check_out=check_out, guests=2, guest=GUEST, **kwargs
    )


def test_export_has_all_day_events_with_exclusive_end_and_no_guest_data(house):
    booking = direct_booking(house, D(10), D(13), status=BookingStatus.CONFIRMED)
    block = availability_services.block_create(
        property_id=house.pk, start_date=D(20), end_date=D(22), note="Ingrid's sister visits"
    )
    available = availability_services.block_create(
        property_id=house.pk, start_date=D(30), end_date=D(40), block_type="available", price_override=90
    )
    body = ical.export_feed(prop=house)
    cal = icalendar.Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0" and "PMS-Webapp" in str(cal["PRODID"])
    events = parse(body)
    assert set(events) == {f"booking-{booking.pk}@pms-webapp", f"block-{block.pk}@pms-webapp"}
    assert f"block-{available.pk}@pms-webapp" not in events  # price ranges do not close dates
    ev = events[f"booking-{booking.pk}@pms-webapp"]
    assert (ev["DTSTART"].dt, ev["DTEND"].dt) == (D(10), D(13))  # DTEND = checkout day (exclusive)
    assert ev["DTSTART"].params.get("VALUE") == "DATE" and "DTSTAMP" in ev
    assert str(ev["SUMMARY"]) == "Reserved"
    assert str(events[f"block-{block.pk}@pms-webapp"]["SUMMARY"]) == "Blocked"
    text = body.decode()
    for secret in ("Ingrid", "Bergstr", "ingrid.b@example.com", "12345678", booking.reference, "sister"):
        assert secret not in text
    assert b"DTSTART;VALUE=DATE:" + D(10).strftime("%Y%m%d").encode() in body
    assert b"DTEND;VALUE=DATE:" + D(13).strftime("%Y%m%d").encode() in body


def test_uids_are_stable_and_lapsed_or_cancelled_bookings_leave(house):
    kept = direct_booking(house, D(10), D(12), status=BookingStatus.CONFIRMED)
    gone = direct_booking(house, D(14), D(16), status=BookingStatus.CONFIRMED)
    inquiry = direct_booking(house, D(20), D(22), status=BookingStatus.INQUIRY)
    first = parse(ical.export_feed(prop=house))
    assert set(first) == {f"booking-{kept.pk}@pms-webapp", f"booking-{gone.pk}@pms-webapp"}
    assert f"booking-{inquiry.pk}@pms-webapp" not in first
    booking_services.booking_cancel(booking_id=gone.pk, reason="guest cancelled")
    assert set(parse(ical.export_feed(prop=house))) == {f"booking-{kept.pk}@pms-webapp"}


def test_no_echo_of_what_a_channel_imported(house):
    airbnb_block = availability_services.block_create(
        property_id=house.pk,
        start_date=D(10),
        end_date=D(12),
        source="airbnb",
        external_uid="a@airbnb.com",
        connection_id=11,
    )
    ical_block = availability_services.block_create(
        property_id=house.pk,
        start_date=D(12),
        end_date=D(14),
        source="ical",
        external_uid="x@example.com",
        connection_id=12,
    )
    airbnb_booking = booking_services.booking_create(
        property_id=house.pk,
        check_in=D(20),
        check_out=D(22),
        guests=1,
        source=BookingSource.AIRBNB,
        status=BookingStatus.CONFIRMED,
        external_id="HMABC123",
        enforce_rules=False,
    )
    direct = direct_booking(house, D(30), D(32), status=BookingStatus.CONFIRMED)
    everything = {
        f"block-{airbnb_block.pk}@pms-webapp",
        f"block-{ical_block.pk}@pms-webapp",
        f"booking-{airbnb_booking.pk}@pms-webapp",
        f"booking-{direct.pk}@pms-webapp",
    }
    assert set(parse(ical.export_feed(prop=house))) == everything
    for_airbnb = parse(ical.export_feed(prop=house, exclude_sources=["airbnb"]))
    from_airbnb = {f"block-{airbnb_block.pk}@pms-webapp", f"booking-{airbnb_booking.pk}@pms-webapp"}
    assert set(for_airbnb) == everything - from_airbnb
    for_conn_12 = parse(ical.export_feed(prop=house, exclude_connection_ids=[12]))
    assert set(for_conn_12) == everything - {f"block-{ical_block.pk}@pms-webapp"}


def test_export_url_exclude_param_and_errors(house, client):
    availability_services.block_create(
        property_id=house.pk, start_date=D(10), end_date=D(12), source="booking_com", external_uid="b@booking.com"
    )
    url = f"/ical/{house.ical_token}.ics"
    answer = client.get(url)
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    assert len(parse(answer.content)) == 1
    assert len(parse(client.get(url, {"exclude": "booking_com"}).content)) == 0
    assert len(parse(client.get(url, {"exclude": "airbnb,fewo_direkt"}).content)) == 1
    assert client.get(url, {"exclude": "nonsense"}).status_code == 400
    assert client.get(url, {"connection": "abc"}).status_code == 400
    assert client.post(url).status_code == 405
    assert client.get("/ical/not-a-token.ics").status_code == 404


def test_revoked_token_answers_404(house, client):
    old = house.ical_token
    assert client.get(f"/ical/{old}.ics").status_code == 200
    new = ical.feed_token_regenerate(property_id=house.pk)
    assert new != old and Property.objects.get(pk=house.pk).ical_token == new
    assert client.get(f"/ical/{old}.ics").status_code == 404
    assert client.get(f"/ical/{new}.ics").status_code == 200


def test_direct_booking_closes_dates_in_the_export_over_http(live_server, transactional_db):
    house = PropertyFactory(owner=UserFactory(username="exporter"), timezone="Europe/Berlin")
    url = f"{live_server.url}/ical/{house.ical_token}.ics"
    assert parse(requests.get(url, timeout=5).content) == {}
    booking = direct_booking(house, D(5), D(9))  # a checkout hold, as the storefront makes it
    events = parse(requests.get(url, timeout=5).content)
    ev = events[f"booking-{booking.pk}@pms-webapp"]
    assert (ev["DTSTART"].dt, ev["DTEND"].dt) == (D(5), D(9))


def test_export_read_back_by_our_own_importer(live_server, transactional_db):
    """Another PMS (here: a second property) importing our feed gets exactly our closed dates."""
    owner = UserFactory(username="roundtrip")
    source_house = PropertyFactory(owner=owner, timezone="Europe/Berlin")
    target = PropertyFactory(owner=owner, timezone="Europe/Berlin")
    direct_booking(source_house, D(5), D(9), status=BookingStatus.CONFIRMED)
    availability_services.block_create(property_id=source_house.pk, start_date=D(9), end_date=D(11))
    result = ical.import_feed(
        property_id=target.pk,
        source="ical",
        connection_id=1,
        url=f"{live_server.url}/ical/{source_house.ical_token}.ics",
    )
    assert result.ok and len(result.created) == 2
    spans = sorted(target.blocks.values_list("start_date", "end_date"))
    assert spans == [(D(5), D(9)), (D(9), D(11))]
