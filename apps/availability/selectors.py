"""Reads of the calendar: explainable stay checks and per-day calendars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from apps.core.errors import ValidationFailed
from apps.core.money import quantum

from . import pricing
from .rules import PER_NIGHT_TYPES

#: The longest range ``calendar_days`` answers in one call.
MAX_CALENDAR_DAYS = 750


@dataclass
class StayCheck:
    bookable: bool
    reasons: list[dict[str, Any]] = field(default_factory=list)
    quote: pricing.Quote | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "bookable": self.bookable,
            "reasons": self.reasons,
            "quote": self.quote.as_dict() if self.quote else None,
        }


@dataclass(frozen=True)
class CalendarDay:
    date: date
    status: str  # 'available' | 'booked' | 'blocked'
    price: Decimal
    min_stay: int
    max_stay: int
    closed_to_arrival: bool
    closed_to_departure: bool

    @property
    def available(self) -> bool:
        return self.status == "available"

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "status": self.status,
            "price": str(self.price),
            "min_stay": self.min_stay,
            "max_stay": self.max_stay,
            "closed_to_arrival": self.closed_to_arrival,
            "closed_to_departure": self.closed_to_departure,
        }


def stay_check(*, prop: Any, check_in: date, check_out: date, guests: int, now: datetime | None = None) -> StayCheck:
    """Either a quote for the stay, or every reason it cannot be booked (two queries)."""
    now = now or timezone.now()
    terms = pricing.Terms.of(prop)
    if not isinstance(check_in, date) or not isinstance(check_out, date) or check_out <= check_in:
        reasons = pricing.compute_reasons(
            terms=terms, ranges=(), occupied=(), check_in=check_in, check_out=check_out, guests=guests, now=now
        )
        return StayCheck(bookable=False, reasons=reasons)
    # the departure day's range too (closed to departure); the last representable date has no next day
    ranges, taken = pricing.load_calendar(
        [prop.pk], check_in, check_out + timedelta(days=1 if check_out < date.max else 0)
    )
    reasons = pricing.compute_reasons(
        terms=terms,
        ranges=ranges[prop.pk],
        occupied=[(d, k) for d, k in taken[prop.pk] if d < check_out],
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        now=now,
    )
    if reasons:
        return StayCheck(bookable=False, reasons=reasons)
    rules = pricing.load_rules([prop.pk])[prop.pk]
    quote = pricing.compute_quote(
        terms=terms,
        rules=rules,
        ranges=ranges[prop.pk],
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        today=pricing.local_today(terms, now),
    )
    return StayCheck(bookable=True, reasons=[], quote=quote)


def calendar_days(*, prop: Any, start: date, end: date) -> list[CalendarDay]:
    """Status, nightly price and restrictions for each day in [start, end) (two queries).

    ``price`` is the night's price after per-night rules (seasonal, weekend); ``min_stay``,
    ``max_stay`` and closed-to-arrival apply to stays arriving that day, closed-to-departure to
    stays leaving that day.
    """
    if end <= start:
        return []
    if (end - start).days > MAX_CALENDAR_DAYS:
        raise ValidationFailed(
            f"A calendar covers at most {MAX_CALENDAR_DAYS} days.", details={"start": str(start), "end": str(end)}
        )
    terms = pricing.Terms.of(prop)
    q = quantum(terms.currency)
    night_rules = [r for r in pricing.load_rules([prop.pk])[prop.pk] if r.rule_type in PER_NIGHT_TYPES]
    ranges, taken = pricing.load_calendar([prop.pk], start, end)
    by_day = pricing.ranges_by_day(ranges[prop.pk], start, end)
    status_of = {d: kind for d, kind in taken[prop.pk]}
    default_base = terms.base_price.quantize(q, rounding=ROUND_HALF_UP)
    days: list[CalendarDay] = []
    d = start
    one = timedelta(days=1)
    while d < end:
        rng = by_day.get(d)
        base = (
            rng.price_override.quantize(q, rounding=ROUND_HALF_UP)
            if rng is not None and rng.price_override is not None
            else default_base
        )
        _, _, final = pricing.price_night(night=d, base=base, night_rules=night_rules, q=q)
        days.append(
            CalendarDay(
                date=d,
                status=status_of.get(d, "available"),
                price=final,
                min_stay=(rng.min_stay if rng else None) or terms.default_min_stay,
                max_stay=(rng.max_stay if rng else None) or terms.default_max_stay,
                closed_to_arrival=bool(rng and rng.closed_to_arrival),
                closed_to_departure=bool(rng and rng.closed_to_departure),
            )
        )
        d += one
    return days
