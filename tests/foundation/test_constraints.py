"""PostgreSQL itself refuses what must never be stored (rows written directly, past the services)."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from apps.availability.models import AvailabilityBlock
from apps.bookings.models import Booking
from tests.factories import future

_refs = itertools.count(1)


def make_booking(prop, start, nights=3, status="confirmed", **kw):
    return Booking.objects.create(
        reference=f"T-{next(_refs)}",
        property=prop,
        check_in=start,
        check_out=start + timedelta(days=nights),
        guests=2,
        status=status,
        **kw,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["reserved", "confirmed", "checked_in", "checked_out"])
def test_blocking_bookings_cannot_overlap(prop, status):
    make_booking(prop, future(10), status="confirmed")
    with pytest.raises(IntegrityError, match="booking_no_overlap"), transaction.atomic():
        make_booking(prop, future(12), status=status)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["inquiry", "cancelled"])
def test_non_blocking_bookings_may_overlap(prop, status):
    make_booking(prop, future(10))
    make_booking(prop, future(11), status=status)


@pytest.mark.django_db
def test_check_out_day_is_free_for_next_check_in(prop):
    make_booking(prop, future(10), nights=3)
    make_booking(prop, future(13), nights=2)  # half-open ranges: no overlap


@pytest.mark.django_db
def test_other_property_same_dates_is_fine(prop, bob_prop):
    make_booking(prop, future(10))
    make_booking(bob_prop, future(10))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs, constraint",
    [
        ({"nights": 0}, "booking_check_out_after_in"),
        ({"nights": -2}, "booking_check_out_after_in"),
        ({"total_price": Decimal("-1")}, "booking_total_price_gte_0"),
        ({"status": "lost"}, "booking_status_valid"),
    ],
)
def test_booking_check_constraints(prop, kwargs, constraint):
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        make_booking(prop, future(5), **kwargs)


@pytest.mark.django_db
def test_guests_at_least_one(prop):
    with pytest.raises(IntegrityError, match="booking_guests_gte_1"), transaction.atomic():
        Booking.objects.create(reference="G0", property=prop, check_in=future(1), check_out=future(2), guests=0)


@pytest.mark.django_db
def test_channel_booking_unique_per_property_and_source(prop, bob_prop):
    make_booking(prop, future(10), source="airbnb", external_id="HM123")
    with pytest.raises(IntegrityError, match="booking_unique_property_source_external_id"), transaction.atomic():
        make_booking(prop, future(40), source="airbnb", external_id="HM123")
    make_booking(prop, future(60), source="booking_com", external_id="HM123")  # other platform: fine
    # another property's connection cannot pre-claim (or block) an id: ids are scoped per property
    make_booking(bob_prop, future(40), source="airbnb", external_id="HM123")


@pytest.mark.django_db
def test_blocks_cannot_overlap_each_other(prop):
    AvailabilityBlock.objects.create(property=prop, start_date=future(3), end_date=future(6), block_type="blocked")
    with pytest.raises(IntegrityError, match="block_no_overlap"), transaction.atomic():
        AvailabilityBlock.objects.create(
            property=prop, start_date=future(5), end_date=future(8), block_type="maintenance"
        )
    AvailabilityBlock.objects.create(property=prop, start_date=future(6), end_date=future(8), block_type="maintenance")


@pytest.mark.django_db
def test_block_end_after_start(prop):
    with pytest.raises(IntegrityError, match="block_end_after_start"), transaction.atomic():
        AvailabilityBlock.objects.create(property=prop, start_date=future(3), end_date=future(3))


@pytest.mark.django_db
def test_property_amounts_not_negative(alice):
    from tests.factories import PropertyFactory

    with pytest.raises(IntegrityError, match="property_base_price_gte_0"), transaction.atomic():
        PropertyFactory(owner=alice, base_price=Decimal("-5"))
