"""Fixtures of the money tests: the local Stripe sandbox, and a month of an owner's stays."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import BookingSource, BookingStatus, PaymentStatus
from apps.ledger import services as ledger_services
from apps.ledger.selectors import month_range
from apps.payments import services as payment_services
from tests.factories import PropertyFactory
from tests.stripe_fixtures import stripe_sandbox, stripe_sandbox_server  # noqa: F401

D = Decimal


def _month() -> tuple[str, date, date]:
    first = (date.today() + timedelta(days=60)).replace(day=1)
    start, end = month_range(f"{first:%Y-%m}")
    return f"{first:%Y-%m}", start, end


def _book(prop, day: date, nights: int, **kwargs):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=day,
        check_out=day + timedelta(days=nights),
        guests=2,
        guest=booking_services.GuestData(first_name=kwargs.pop("first", "Gina"), last_name="Gast"),
        enforce_rules=False,
        **kwargs,
    )


@pytest.fixture
def month_data(alice, bob):
    month, start, end = _month()
    loft = PropertyFactory(owner=alice, name="Alice's Loft")
    ledger_services.property_finance_set(property_id=loft.pk, management_fee_percent=D("20"))
    cabin = PropertyFactory(owner=alice, name="Alice's Cabin", cancellation_policy="moderate")
    paid = _book(loft, start + timedelta(days=2), 3, status=BookingStatus.CONFIRMED, first="Paula")  # 330
    payment_services.payment_record(booking_id=paid.pk, amount=paid.total_price, reference="bank-1")
    channel = _book(
        loft, start + timedelta(days=10), 3, first="Bea", source=BookingSource.BOOKING_COM, external_id="BDC-7",
        status=BookingStatus.CONFIRMED, total_price=D("400.00"), payment_status=PaymentStatus.NOT_REQUIRED,
        commission=D("60.00"),
    )  # fmt: skip
    cancelled = _book(cabin, start + timedelta(days=4), 2, status=BookingStatus.CONFIRMED, first="Carl")  # 230
    payment_services.payment_record(booking_id=cancelled.pk, amount=cancelled.total_price, reference="bank-2")
    starts_at = timezone.make_aware(timezone.datetime.combine(cancelled.check_in, cabin.check_in_time), cabin.tz)
    payment_services.booking_cancel_by_guest(booking_id=cancelled.pk, now=starts_at - timedelta(days=3))  # 50 %
    lapsed = _book(cabin, start + timedelta(days=12), 2)  # a hold that lapses unpaid: no money, not listed
    booking_services.holds_expire(now=lapsed.hold_expires_at + timedelta(seconds=1))
    later = _book(loft, end + timedelta(days=1), 2, status=BookingStatus.CONFIRMED, first="Lena")  # next month
    bobs = _book(PropertyFactory(owner=bob, name="Bob's Cabin"), start + timedelta(days=2), 2,
                 status=BookingStatus.CONFIRMED, first="Bert")  # fmt: skip
    return {
        "month": month, "start": start, "end": end, "paid": paid, "channel": channel, "cancelled": cancelled,
        "lapsed": lapsed, "later": later, "bobs": bobs, "loft": loft, "cabin": cabin,
    }  # fmt: skip
