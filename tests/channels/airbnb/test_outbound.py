"""Outbound ARI to the Airbnb simulator over real HTTP: calendar_operations, pricing settings and
availability rules, through the delivery machinery (eager here; a real worker in one test)."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.channels.adapters import get_adapter
from apps.channels.adapters.airbnb import operations
from apps.channels.adapters.base import DayState
from apps.channels.models import Delivery
from apps.properties import services as property_services
from apps.sandbox import airbnb as sim
from apps.sandbox.models import SimRequest
from apps.sandbox.models.airbnb import AirbnbCalendarDay, AirbnbListing
from tests.factories import future

pytestmark = pytest.mark.django_db(transaction=True)


def _nights(start: int, count: int):
    return [future(start + i) for i in range(count)]


def test_operations_are_runs_of_equal_nights():
    days = [
        DayState(day=future(1), available=True, price=Decimal("100"), min_stay=2),
        DayState(day=future(2), available=True, price=Decimal("100"), min_stay=2),
        DayState(day=future(3), available=False, price=Decimal("100"), min_stay=2, closed_to_arrival=True),
    ]
    ops = operations(days)
    assert ops[0]["dates"] == [f"{future(1)}:{future(2)}"] and ops[0]["availability"] == "available"
    assert ops[0]["daily_price"] == 100.0 and ops[0]["min_nights"] == 2
    assert ops[1]["available_count"] == 0 and ops[1]["closed_to_arrival"] is True


def test_direct_booking_closes_dates_and_cancellation_reopens(abnb, ab_listing, prop):
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(13), guests=2, status="confirmed"
    )
    assert sim.nights_closed(ab_listing, _nights(10, 3))
    assert not sim.nights_closed(ab_listing, [future(13)])  # check-out day stays open
    delivery = Delivery.objects.filter(connection=abnb).order_by("-pk").first()
    assert delivery.status == Delivery.Status.SUCCEEDED and delivery.http_status == 200
    call = SimRequest.objects.filter(simulator="airbnb", path__contains="calendar_operations").first()
    assert '"operations"' in call.body and "X-Airbnb" not in call.body
    booking_services.booking_cancel(booking_id=booking.pk, reason="test")
    assert not any(sim.nights_closed(ab_listing, [d]) for d in _nights(10, 3))


def test_price_rule_change_updates_daily_price_and_fees_update_pricing_settings(abnb, ab_listing, prop):
    day = future(60)
    before = AirbnbCalendarDay.objects.get(listing=ab_listing, day=day).daily_price
    assert before == prop.base_price
    rule = availability_services.pricing_rule_create(
        property_id=prop.pk,
        rule_type="seasonal",
        adjustment_type="fixed",
        adjustment_value=Decimal("25"),
        conditions={"start_date": future(55).isoformat(), "end_date": future(65).isoformat()},
    )
    assert AirbnbCalendarDay.objects.get(listing=ab_listing, day=day).daily_price == prop.base_price + 25
    availability_services.pricing_rule_update(rule_id=rule.pk, adjustment_value=Decimal("40"))
    assert AirbnbCalendarDay.objects.get(listing=ab_listing, day=day).daily_price == prop.base_price + 40
    # an extra-guest fee rule and a new cleaning fee reach Airbnb's pricing settings
    availability_services.pricing_rule_create(
        property_id=prop.pk,
        rule_type="extra_guest_fee",
        adjustment_type="fixed",
        adjustment_value=Decimal("15"),
        conditions={"above_guests": 2},
    )
    property_services.property_update(property_id=prop.pk, cleaning_fee=Decimal("77.00"), min_notice_hours=48)
    listing = AirbnbListing.objects.get(pk=ab_listing.pk)
    assert listing.pricing_settings["guests_included"] == 2
    assert listing.pricing_settings["price_per_extra_person"] == 15.0
    assert listing.pricing_settings["cleaning_fee"] == 77.0
    assert listing.availability_rules["booking_lead_time"]["hours"] == 48


def test_unchanged_settings_are_not_sent_again(abnb, prop):
    before = SimRequest.objects.filter(simulator="airbnb", path__contains="pricing_settings").count()
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(10), check_out=future(12), guests=2, status="confirmed"
    )
    assert SimRequest.objects.filter(simulator="airbnb", path__contains="pricing_settings").count() == before
    result = get_adapter(abnb).push_settings(force=True)
    assert result.requests == 2


def test_real_worker_direct_booking_closes_airbnb_dates(abnb, ab_listing, prop, celery_worker_process):
    booking_services.booking_create(
        property_id=prop.pk, check_in=future(70), check_out=future(72), guests=2, status="confirmed"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not sim.nights_closed(ab_listing, _nights(70, 2)):
        time.sleep(0.2)
    assert sim.nights_closed(ab_listing, _nights(70, 2))
