from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.availability import calendar
from apps.availability import services as blocks
from apps.availability.models import OccupiedNight
from apps.bookings import services
from apps.bookings.errors import BookingConflict, BookingValidationError
from apps.bookings.models import Booking, Guest
from apps.core.models import SyncEvent
from tests.factories import future


def book(prop, start, nights=3, **kw):
    kw.setdefault("guests", 2)
    return services.booking_create(property_id=prop.pk, check_in=future(start), check_out=future(start + nights), **kw)


@pytest.mark.django_db
def test_conflict_names_the_dates(prop):
    first = book(prop, 10, status="confirmed")
    with pytest.raises(BookingConflict) as exc:
        book(prop, 11)
    err = exc.value
    assert err.details["conflicts"] == [
        {
            "kind": "booking",
            "id": first.pk,
            "reference": first.reference,
            "start": future(10).isoformat(),
            "end": future(13).isoformat(),
        }
    ]
    assert future(10).isoformat() in str(err) and err.code == "booking_conflict" and err.http_status == 409
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_booking_and_block_never_overlap(prop):
    blk = blocks.block_create(property_id=prop.pk, start_date=future(20), end_date=future(25), note="Owner stay")
    with pytest.raises(BookingConflict, match="blocked"):
        book(prop, 22)
    b = book(prop, 30)
    with pytest.raises(BookingConflict, match="booking"):
        blocks.block_create(property_id=prop.pk, start_date=future(31), end_date=future(32))
    with pytest.raises(BookingConflict):
        blocks.block_update(block_id=blk.pk, end_date=future(31))
    blocks.block_delete(block_id=blk.pk)
    book(prop, 22)
    assert OccupiedNight.objects.filter(booking_id=b.pk).count() == 3


@pytest.mark.django_db
def test_database_refusal_becomes_booking_conflict(prop, monkeypatch):
    """With the Python pre-check disabled, PostgreSQL still refuses and the caller gets BookingConflict."""
    book(prop, 10, status="confirmed")
    monkeypatch.setattr(calendar, "find_conflicts", lambda **kw: [])
    with pytest.raises(BookingConflict):
        book(prop, 11)
    assert Booking.objects.count() == 1


@pytest.mark.django_db
def test_cancel_releases_dates_and_emits_events(prop):
    b = book(prop, 10)
    assert OccupiedNight.objects.filter(property=prop).count() == 3
    services.booking_cancel(booking_id=b.pk, reason="changed plans")
    b.refresh_from_db()
    assert b.status == "cancelled" and b.cancelled_at and b.cancellation_reason == "changed plans"
    assert OccupiedNight.objects.filter(property=prop).count() == 0
    assert SyncEvent.objects.filter(event_type="booking.cancelled", entity_id=str(b.pk)).exists()
    assert SyncEvent.objects.filter(event_type="availability.updated", property=prop).count() == 2
    book(prop, 10)  # dates are free again


@pytest.mark.django_db
def test_hold_expiry(prop):
    b = book(prop, 10)
    keep = book(prop, 20)
    assert b.hold_expires_at - timezone.now() <= timedelta(minutes=10)
    services.booking_confirm(booking_id=keep.pk)
    expired = services.holds_expire(now=timezone.now() + timedelta(minutes=11))
    assert expired == [b.pk]
    b.refresh_from_db()
    assert b.status == "cancelled" and "expired" in b.cancellation_reason
    assert services.holds_expire(now=timezone.now() + timedelta(minutes=11)) == []
    book(prop, 10)


@pytest.mark.django_db
def test_change_stay_checks_calendar(prop):
    a = book(prop, 10, status="confirmed")
    book(prop, 20, status="confirmed")
    with pytest.raises(BookingConflict):
        services.booking_change_stay(booking_id=a.pk, check_in=future(18), check_out=future(21))
    services.booking_change_stay(booking_id=a.pk, check_in=future(11), check_out=future(15))
    nights = sorted(OccupiedNight.objects.filter(booking_id=a.pk).values_list("night", flat=True))
    assert nights == [future(d) for d in range(11, 15)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"check_in": future(5), "check_out": future(5)}, "after check-in"),
        ({"check_in": future(5), "check_out": future(6), "guests": 0}, "at least one guest"),
        ({"check_in": future(5), "check_out": future(6), "guests": 9}, "at most 4 guests"),
        ({"check_in": future(5), "check_out": future(6), "source": "myspace"}, "Unknown booking source"),
        ({"check_in": future(5), "check_out": future(6), "status": "checked_in"}, "starts as"),
    ],
)
def test_validation_errors(prop, kwargs, message):
    kwargs.setdefault("guests", 2)
    with pytest.raises(BookingValidationError, match=message):
        services.booking_create(property_id=prop.pk, **kwargs)
    assert not Booking.objects.exists() and not SyncEvent.objects.exists()


@pytest.mark.django_db
def test_channel_duplicate_external_id_is_refused_clearly(prop):
    book(prop, 10, source="airbnb", external_id="HM1", status="confirmed", enforce_rules=False)
    with pytest.raises(BookingValidationError, match="already exists"):
        book(prop, 30, source="airbnb", external_id="HM1", status="confirmed", enforce_rules=False)


@pytest.mark.django_db
def test_guest_book_is_per_owner(prop, bob_prop):
    g = services.GuestData(first_name="Ana", email="Ana@Example.com")
    book(prop, 10, guest=g)
    book(prop, 20, guest=g)
    book(bob_prop, 10, guest=g)
    assert Guest.objects.filter(email="ana@example.com").count() == 2


@pytest.mark.django_db
def test_price_snapshot_stored(prop):
    b = book(prop, 10)
    assert b.total_price == Decimal("330.00")
    assert b.price_snapshot["total"] == "330.00" and len(b.price_snapshot["nights"]) == 3
