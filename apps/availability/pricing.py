"""Quotes and stay restrictions (first cut: base price, block overrides, cleaning fee).

The full engine (rules, fees, taxes) replaces the body of ``quote_stay``; its signature and the
``Quote`` shape are the contract the rest of the system uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.core.money import round_money


@dataclass
class NightLine:
    night: date
    base: Decimal
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    final: Decimal = Decimal(0)


@dataclass
class Quote:
    currency: str
    nights: list[NightLine]
    fees: list[dict[str, Any]]
    taxes: list[dict[str, Any]]
    stay_adjustments: list[dict[str, Any]]
    rent: Decimal
    subtotal: Decimal
    total: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "nights": [
                {"night": n.night.isoformat(), "base": str(n.base), "adjustments": n.adjustments, "final": str(n.final)}
                for n in self.nights
            ],
            "stay_adjustments": self.stay_adjustments,
            "fees": self.fees,
            "taxes": self.taxes,
            "rent": str(self.rent),
            "subtotal": str(self.subtotal),
            "total": str(self.total),
        }


def quote_stay(*, prop: Any, check_in: date, check_out: date, guests: int, now: datetime | None = None) -> Quote:
    from .models import AvailabilityBlock

    overrides = {}
    for blk in AvailabilityBlock.objects.filter(
        property=prop,
        block_type=AvailabilityBlock.Type.AVAILABLE,
        price_override__isnull=False,
        start_date__lt=check_out,
        end_date__gt=check_in,
    ):
        d = max(blk.start_date, check_in)
        while d < min(blk.end_date, check_out):
            overrides[d] = blk.price_override
            d += timedelta(days=1)
    lines = []
    d = check_in
    while d < check_out:
        base = round_money(overrides.get(d, prop.base_price), prop.currency)
        lines.append(NightLine(night=d, base=base, final=base))
        d += timedelta(days=1)
    rent = sum((n.final for n in lines), Decimal(0))
    fees = []
    if prop.cleaning_fee:
        fees.append(
            {
                "code": "cleaning_fee",
                "label": "Cleaning fee",
                "amount": str(round_money(prop.cleaning_fee, prop.currency)),
            }
        )
    subtotal = rent + sum((Decimal(f["amount"]) for f in fees), Decimal(0))
    return Quote(
        currency=prop.currency,
        nights=lines,
        fees=fees,
        taxes=[],
        stay_adjustments=[],
        rent=rent,
        subtotal=subtotal,
        total=subtotal,
    )


def stay_reasons(
    *, prop: Any, check_in: date, check_out: date, guests: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Why a stay is not bookable (empty list = bookable). Each reason has a code and a message."""
    reasons: list[dict[str, Any]] = []
    nights = (check_out - check_in).days
    if guests > prop.max_guests:
        reasons.append(
            {
                "code": "over_capacity",
                "message": f"This property sleeps at most {prop.max_guests} guests.",
                "max_guests": prop.max_guests,
            }
        )
    if nights < prop.default_min_stay:
        reasons.append(
            {
                "code": "min_stay",
                "message": f"The minimum stay is {prop.default_min_stay} nights.",
                "min_stay": prop.default_min_stay,
            }
        )
    if nights > prop.default_max_stay:
        reasons.append(
            {
                "code": "max_stay",
                "message": f"The maximum stay is {prop.default_max_stay} nights.",
                "max_stay": prop.default_max_stay,
            }
        )
    now = now or timezone.now()
    local_now = timezone.localtime(now, prop.tz)
    arrival = datetime.combine(check_in, prop.check_in_time, tzinfo=prop.tz)
    if arrival - local_now < timedelta(hours=prop.min_notice_hours) or check_in < local_now.date():
        reasons.append(
            {
                "code": "too_short_notice",
                "message": "This stay starts too soon to be booked.",
                "min_notice_hours": prop.min_notice_hours,
            }
        )
    if (check_in - local_now.date()).days > prop.max_advance_days:
        reasons.append(
            {
                "code": "beyond_max_advance",
                "message": f"Stays can be booked at most {prop.max_advance_days} days ahead.",
                "max_advance_days": prop.max_advance_days,
            }
        )
    return reasons
