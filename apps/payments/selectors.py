"""Reads of the payments app, for the storefront, the guest portal and the admin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Sum

from apps.bookings import policies
from apps.bookings.models import Booking

from .models import Payment, Refund


def payment_for_booking(*, booking: Booking) -> Payment | None:
    """The booking's current payment: the succeeded one, else the newest open one."""
    payments = Payment.objects.filter(booking=booking)
    return (
        payments.filter(status=Payment.Status.SUCCEEDED).first()
        or payments.exclude(status=Payment.Status.CANCELED).order_by("-created_at").first()
    )


def booking_amount_paid(*, booking: Booking) -> Decimal:
    """Money received and not given back."""
    totals = Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).aggregate(
        received=Sum("amount_received"), refunded=Sum("amount_refunded")
    )
    return (totals["received"] or Decimal("0")) - (totals["refunded"] or Decimal("0"))


def refunds_for_booking(*, booking: Booking) -> list[Refund]:
    return list(Refund.objects.filter(booking=booking).order_by("created_at"))


def payments_visible_to(*, user: Any):
    return Payment.objects.visible_to(user).select_related("booking", "booking__property")


def cancellation_policy_text(*, booking: Booking) -> dict[str, Any]:
    """The policy of the booking's property: a summary and this stay's dated deadlines (property time zone)."""
    prop = booking.property
    starts_at = policies.check_in_at(check_in=booking.check_in, check_in_time=prop.check_in_time, tz=prop.tz)
    return {
        "policy": prop.cancellation_policy,
        "summary": policies.describe(prop.cancellation_policy),
        "deadlines": policies.describe_for_stay(
            policy=prop.cancellation_policy, starts_at=starts_at, booked_at=booking.created_at, tz=prop.tz
        ),
    }
