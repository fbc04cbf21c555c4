"""Explainable availability: one test per reason kind, and bookable iff no reasons (hypothesis)."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.availability import pricing, services
from apps.availability.selectors import stay_check
from apps.bookings import services as booking_services
from tests.availability.calendar_helpers import apply_calendar, book
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db


def codes(prop, ci, co, guests=2, now=None):
    return [r["code"] for r in pricing.stay_reasons(prop=prop, check_in=ci, check_out=co, guests=guests, now=now)]


def test_bookable_stay_has_no_reasons_and_a_quote(prop):
    check = stay_check(prop=prop, check_in=future(10), check_out=future(13), guests=2)
    assert check.bookable and check.reasons == []
    assert check.quote.total == Decimal("330.00")


def test_booked(prop):
    book(prop, future(10), future(12))
    reasons = pricing.stay_reasons(prop=prop, check_in=future(9), check_out=future(14), guests=2)
    assert [r["code"] for r in reasons] == ["booked"]
    assert reasons[0]["dates"] == [[future(10).isoformat(), future(12).isoformat()]]
    assert codes(prop, future(12), future(14)) == []  # check-out day is free


def test_cancelled_booking_frees_the_dates(prop):
    b = book(prop, future(10), future(12))
    booking_services.booking_cancel(booking_id=b.pk, reason="test")
    assert codes(prop, future(10), future(12)) == []


def test_blocked(prop):
    services.block_create(property_id=prop.pk, start_date=future(20), end_date=future(22), block_type="maintenance")
    reasons = pricing.stay_reasons(prop=prop, check_in=future(21), check_out=future(25), guests=2)
    assert [r["code"] for r in reasons] == ["blocked"]
    assert reasons[0]["dates"] == [[future(21).isoformat(), future(22).isoformat()]]


def test_min_stay_default_and_per_date(prop):
    prop.default_min_stay = 3
    prop.save()
    reasons = pricing.stay_reasons(prop=prop, check_in=future(10), check_out=future(12), guests=2)
    assert [r["code"] for r in reasons] == ["min_stay"] and reasons[0]["min_stay"] == 3
    services.block_create(
        property_id=prop.pk, start_date=future(10), end_date=future(11), block_type="available", min_stay=2
    )
    assert codes(prop, future(10), future(12)) == []  # the arrival day's block overrides the default


def test_max_stay(prop):
    services.block_create(
        property_id=prop.pk, start_date=future(30), end_date=future(31), block_type="available", max_stay=5
    )
    reasons = pricing.stay_reasons(prop=prop, check_in=future(30), check_out=future(37), guests=2)
    assert [r["code"] for r in reasons] == ["max_stay"] and reasons[0]["max_stay"] == 5
    assert codes(prop, future(29), future(37)) == []  # other arrival day: property default (28)


def test_closed_to_arrival(prop):
    services.block_create(
        property_id=prop.pk, start_date=future(10), end_date=future(11), block_type="available", closed_to_arrival=True
    )
    reasons = pricing.stay_reasons(prop=prop, check_in=future(10), check_out=future(12), guests=2)
    assert [r["code"] for r in reasons] == ["closed_to_arrival"] and reasons[0]["date"] == future(10).isoformat()
    assert codes(prop, future(9), future(12)) == []  # staying through is fine


def test_closed_to_departure(prop):
    services.block_create(
        property_id=prop.pk,
        start_date=future(12),
        end_date=future(13),
        block_type="available",
        closed_to_departure=True,
    )
    assert codes(prop, future(10), future(13)) == []  # the block covers day 12 only
    reasons = pricing.stay_reasons(prop=prop, check_in=future(10), check_out=future(12), guests=2)
    assert [r["code"] for r in reasons] == ["closed_to_departure"] and reasons[0]["date"] == future(12).isoformat()


def test_too_short_notice(prop):
    prop.min_notice_hours = 48
    prop.save()
    tz = prop.tz
    now = datetime.combine(future(10), time(12, 0), tzinfo=tz)
    assert codes(prop, future(11), future(13), now=now) == ["too_short_notice"]  # 27 h before 15:00
    assert codes(prop, future(12), future(13), now=now) == []  # 51 h
    assert codes(prop, future(9), future(13), now=now) == ["too_short_notice"]  # in the past


def test_beyond_max_advance(prop):
    prop.max_advance_days = 30
    prop.save()
    reasons = pricing.stay_reasons(prop=prop, check_in=future(40), check_out=future(42), guests=2)
    assert [r["code"] for r in reasons] == ["beyond_max_advance"] and reasons[0]["max_advance_days"] == 30


def test_over_capacity(prop):
    reasons = pricing.stay_reasons(prop=prop, check_in=future(10), check_out=future(12), guests=5)
    assert [r["code"] for r in reasons] == ["over_capacity"] and reasons[0]["max_guests"] == 4


def test_invalid_dates(prop):
    assert codes(prop, future(10), future(10)) == ["invalid_dates"]
    assert codes(prop, future(10), future(9)) == ["invalid_dates"]
    assert codes(prop, future(10), future(400)) == ["invalid_dates"]
    check = stay_check(prop=prop, check_in=future(10), check_out=future(9), guests=2)
    assert not check.bookable and check.quote is None


def test_property_inactive(prop):
    prop.status = "inactive"
    prop.save()
    assert codes(prop, future(10), future(12)) == ["property_inactive"]


def test_all_reasons_are_listed_together(prop):
    prop.default_min_stay = 5
    prop.save()
    book(prop, future(10), future(11))
    got = set(codes(prop, future(10), future(12), guests=9))
    assert got == {"booked", "min_stay", "over_capacity"}


def test_stay_check_two_queries(prop, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        check = stay_check(prop=prop, check_in=future(10), check_out=future(13), guests=2)
    assert check.bookable


def test_booking_create_uses_the_reasons(prop):
    from apps.bookings.errors import BookingValidationError

    with pytest.raises(BookingValidationError) as exc:
        booking_services.booking_create(property_id=prop.pk, check_in=future(10), check_out=future(12), guests=9)
    assert exc.value.details["reasons"][0]["code"] == "over_capacity"


# ----- property-based: bookable iff reasons are empty ----------------------------------------------


@st.composite
def calendars(draw):
    items = []
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, 40))
        items.append(
            (
                draw(st.sampled_from(["booking", "blocked", "available"])),
                start,
                start + draw(st.integers(1, 6)),
                draw(st.one_of(st.none(), st.integers(1, 5))),
                draw(st.booleans()),
                draw(st.booleans()),
            )
        )
    return items


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cal=calendars(),
    ci=st.integers(-2, 45),
    nights=st.integers(0, 12),
    guests=st.integers(1, 6),
    min_stay=st.integers(1, 4),
    notice=st.sampled_from([0, 24, 72]),
    advance=st.sampled_from([20, 365]),
)
def test_bookable_iff_no_reasons(alice, cal, ci, nights, guests, min_stay, notice, advance):
    with transaction.atomic():
        prop = PropertyFactory(
            owner=alice,
            default_min_stay=min_stay,
            default_max_stay=8,
            min_notice_hours=notice,
            max_advance_days=advance,
        )
        apply_calendar(prop, cal, price_override=Decimal("77"))
        now = timezone.now()
        check = stay_check(prop=prop, check_in=future(ci), check_out=future(ci + nights), guests=guests, now=now)
        assert check.bookable == (check.reasons == [])
        assert (check.quote is not None) == check.bookable
        # and a bookable stay really books (with the rules enforced)
        if check.bookable:
            b = booking_services.booking_create(
                property_id=prop.pk, check_in=future(ci), check_out=future(ci + nights), guests=guests, now=now
            )
            assert b.total_price == check.quote.total
        else:
            from apps.bookings.errors import BookingConflict, BookingValidationError

            with pytest.raises((BookingValidationError, BookingConflict)):
                booking_services.booking_create(
                    property_id=prop.pk, check_in=future(ci), check_out=future(ci + nights), guests=guests, now=now
                )
        transaction.set_rollback(True)
