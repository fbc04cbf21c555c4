from apps.bookings import services
from apps.bookings.models import Booking, BookingStatus
from tests.factories import future


def test_booking_create_holds_dates(prop):
    booking = services.booking_create(
        property_id=prop.pk,
        check_in=future(10),
        check_out=future(13),
        guests=2,
        guest=services.GuestData(first_name="Ana", email="ana@example.com"),
    )
    assert booking.status == BookingStatus.RESERVED
    assert booking.reference.startswith("PMS-")
    assert Booking.objects.get(pk=booking.pk).total_price == 330
