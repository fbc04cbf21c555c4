from datetime import datetime, time, timedelta

import pytest

from apps.bookings import services
from apps.bookings.errors import InvalidTransition
from apps.bookings.models import Booking
from apps.bookings.models import BookingStatus as S
from apps.bookings.transitions import ALLOWED, can_transition, check_transition
from apps.core.models import SyncEvent
from tests.factories import future

ALL = [s.value for s in S]
EXPECTED = {
    ("inquiry", "reserved"),
    ("inquiry", "confirmed"),
    ("inquiry", "cancelled"),
    ("reserved", "confirmed"),
    ("reserved", "cancelled"),
    ("confirmed", "checked_in"),
    ("confirmed", "cancelled"),
    ("checked_in", "checked_out"),
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_table(current, target):
    assert can_transition(current, target) == ((current, target) in EXPECTED)
    if (current, target) in EXPECTED:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition) as exc:
            check_transition(current, target)
        assert exc.value.details["allowed"] == [str(a) for a in ALLOWED[current]]


def test_no_cancel_after_check_in():
    assert not can_transition(S.CHECKED_IN, S.CANCELLED)
    assert not can_transition(S.CHECKED_OUT, S.CANCELLED)


@pytest.mark.django_db
def test_full_lifecycle_through_services(prop):
    b = services.booking_create(
        property_id=prop.pk, check_in=future(5), check_out=future(8), guests=2, status="inquiry"
    )
    assert b.hold_expires_at is None
    b = services.booking_transition(booking_id=b.pk, to_status="reserved")
    assert b.hold_expires_at is not None
    b = services.booking_confirm(booking_id=b.pk)
    assert b.confirmed_at and b.hold_expires_at is None
    arrival = datetime.combine(future(5), time(16, 0), tzinfo=prop.tz)  # check-in from the arrival day on
    b = services.booking_check_in(booking_id=b.pk, now=arrival)
    b = services.booking_check_out(booking_id=b.pk, now=arrival + timedelta(days=3))
    assert Booking.objects.get(pk=b.pk).status == "checked_out"
    with pytest.raises(InvalidTransition, match="checked_out"):
        services.booking_cancel(booking_id=b.pk)
    types = list(
        SyncEvent.objects.filter(entity_id=str(b.pk)).order_by("created_at").values_list("event_type", flat=True)
    )
    assert types == ["booking.created"] + ["booking.updated"] * 4
