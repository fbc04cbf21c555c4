"""Reads of the back office (calendar, dashboard, sync health), always scoped to one user.

Every function starts from ``Property.objects.visible_to(user)`` (fails closed) and reads what lies
under those properties in a fixed number of queries, whatever the number of properties or days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.availability import pricing
from apps.availability.models import AvailabilityBlock
from apps.availability.rules import PER_NIGHT_TYPES
from apps.bookings.models import Booking, BookingStatus
from apps.core.money import quantum
from apps.properties.models import Property

#: Statuses drawn as bars on the calendar (an inquiry holds no dates; a cancelled stay is gone).
CALENDAR_STATUSES = (
    BookingStatus.RESERVED,
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.CHECKED_OUT,
)


@dataclass
class Cell:
    """One item of a calendar row: a free night (``kind='night'``) or a bar over ``span`` nights."""

    kind: str  # 'night' | 'booking' | 'block'
    start: date
    span: int = 1
    price: Decimal | None = None
    min_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False
    custom: bool = False  # an ``available`` range sets something for this night
    booking: Booking | None = None
    block: AvailabilityBlock | None = None
    clipped_start: bool = False  # the bar starts before the window
    clipped_end: bool = False  # the bar ends after the window

    @property
    def end(self) -> date:
        return self.start + timedelta(days=self.span)


@dataclass
class Row:
    prop: Property
    may_change: bool
    cells: list[Cell] = field(default_factory=list)
    booked_nights: int = 0


@dataclass
class TapeChart:
    start: date
    end: date
    days: list[date]
    rows: list[Row]


def _night_cells(
    prop: Property, start: date, end: date, ranges: list[pricing.DayRange], rules: list[pricing.Rule]
) -> dict[date, Cell]:
    terms = pricing.Terms.of(prop)
    q = quantum(terms.currency)
    night_rules = [r for r in rules if r.rule_type in PER_NIGHT_TYPES]
    by_day = pricing.ranges_by_day(ranges, start, end)
    base_default = terms.base_price.quantize(q, rounding=ROUND_HALF_UP)
    out: dict[date, Cell] = {}
    d = start
    one = timedelta(days=1)
    while d < end:
        rng = by_day.get(d)
        base = (
            rng.price_override.quantize(q, rounding=ROUND_HALF_UP)
            if rng is not None and rng.price_override is not None
            else base_default
        )
        _, _, price = pricing.price_night(night=d, base=base, night_rules=night_rules, q=q)
        out[d] = Cell(
            kind="night",
            start=d,
            price=price,
            min_stay=(rng.min_stay if rng else None) or terms.default_min_stay,
            closed_to_arrival=bool(rng and rng.closed_to_arrival),
            closed_to_departure=bool(rng and rng.closed_to_departure),
            custom=rng is not None,
        )
        d += one
    return out


def tape_chart(*, user: Any, start: date, days: int, property_ids: list[int] | None = None) -> TapeChart:
    """Properties as rows, nights [start, start + days) as columns: bookings and blocks as bars,
    every free night with its price (after per-night rules) and minimum stay.

    Six queries whatever the number of properties and days: properties, the ones the user may
    change, bookings, blocks, pricing rules, available ranges."""
    end = start + timedelta(days=days)
    props_qs = Property.objects.visible_to(user).order_by("name", "id")
    if property_ids is not None:
        props_qs = props_qs.filter(pk__in=property_ids)
    props = list(props_qs)
    ids = [p.pk for p in props]
    managed = set(Property.objects.managed_by(user).filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    bookings: dict[int, list[Booking]] = {pid: [] for pid in ids}
    blocks: dict[int, list[AvailabilityBlock]] = {pid: [] for pid in ids}
    if ids:
        for b in (
            Booking.objects.filter(property_id__in=ids, status__in=CALENDAR_STATUSES)
            .overlapping(start, end)
            .select_related("guest")
            .order_by("check_in", "id")
        ):
            bookings[b.property_id].append(b)
        for blk in AvailabilityBlock.objects.filter(
            property_id__in=ids,
            block_type__in=AvailabilityBlock.BLOCKING_TYPES,
            start_date__lt=end,
            end_date__gt=start,
        ).order_by("start_date", "id"):
            blocks[blk.property_id].append(blk)
    rules = pricing.load_rules(ids)
    ranges, _ = pricing.load_calendar(ids, start, end, occupied=False)
    rows = []
    for prop in props:
        nights = _night_cells(prop, start, end, ranges[prop.pk], rules[prop.pk])
        bars: list[Cell] = []
        for b in bookings[prop.pk]:
            bars.append(Cell(kind="booking", start=b.check_in, span=b.nights, booking=b))
        for blk in blocks[prop.pk]:
            bars.append(Cell(kind="block", start=blk.start_date, span=blk.nights, block=blk))
        bars.sort(key=lambda c: c.start)
        row = Row(prop=prop, may_change=prop.pk in managed)
        cursor = start
        for bar in bars:
            bar_start, bar_end = max(bar.start, start), min(bar.end, end)
            if bar_start < cursor:  # overlapping bars cannot exist (constraints); draw what fits
                bar_start = cursor
            if bar_end <= bar_start:
                continue
            while cursor < bar_start:
                row.cells.append(nights[cursor])
                cursor += timedelta(days=1)
            clipped = Cell(
                kind=bar.kind,
                start=bar_start,
                span=(bar_end - bar_start).days,
                booking=bar.booking,
                block=bar.block,
                clipped_start=bar.start < start,
                clipped_end=bar.end > end,
            )
            row.cells.append(clipped)
            if bar.kind == "booking":
                row.booked_nights += clipped.span
            cursor = bar_end
        while cursor < end:
            row.cells.append(nights[cursor])
            cursor += timedelta(days=1)
        rows.append(row)
    return TapeChart(start=start, end=end, days=[start + timedelta(days=i) for i in range(days)], rows=rows)


def night_values(*, prop: Property, start: date, end: date) -> dict[str, Any]:
    """The price and restrictions of the first night of [start, end), to prefill the range form."""
    ranges, _ = pricing.load_calendar([prop.pk], start, start + timedelta(days=1), occupied=False)
    cell = _night_cells(prop, start, start + timedelta(days=1), ranges[prop.pk], pricing.load_rules([prop.pk])[prop.pk])
    first = cell[start]
    return {"price": first.price, "min_stay": first.min_stay}
