"""Shared by the availability tests: write a booking, or a random calendar, through the services."""

from __future__ import annotations

from decimal import Decimal

from apps.availability import services
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.core.errors import DomainError
from tests.factories import future


def book(prop, ci, co, status=BookingStatus.CONFIRMED):
    return booking_services.booking_create(
        property_id=prop.pk, check_in=ci, check_out=co, guests=1, status=status, enforce_rules=False
    )


def apply_calendar(prop, cal, *, price_override: Decimal | None = None) -> None:
    """Write (kind, start, end, min_stay, cta, ctd) items; overlapping ones are refused and skipped."""
    for kind, s, e, mstay, cta, ctd in cal:
        try:
            if kind == "booking":
                book(prop, future(s), future(e))
            elif kind == "blocked":
                services.block_create(property_id=prop.pk, start_date=future(s), end_date=future(e))
            else:
                services.block_create(
                    property_id=prop.pk,
                    start_date=future(s),
                    end_date=future(e),
                    block_type="available",
                    min_stay=mstay,
                    closed_to_arrival=cta,
                    closed_to_departure=ctd,
                    price_override=price_override,
                )
        except DomainError:
            continue
