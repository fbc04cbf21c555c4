"""The pricing engine (quotes) and explainable stay restrictions.

How a stay is priced (all amounts ``Decimal``, each line rounded once to the currency's minor unit):

1. **Per night**: the base price is the property's ``base_price``, overridden by the ``price_override``
   of an ``available`` block covering that night. Then every matching per-night rule (``seasonal``,
   ``weekend``) applies in priority order (lower ``priority`` first, then id); a percentage applies to
   the running nightly amount, a fixed amount is added per night. A night never goes below zero.
2. **Stay rules** on the rent (sum of the nights): ``length_of_stay`` and ``last_minute`` are tiers —
   of each type only the most specific matching rule applies (the highest ``min_nights`` that the stay
   reaches; the lowest ``max_days_before`` that the arrival is within), ties broken by priority. The
   chosen rules apply in priority order to the running rent; percentage or fixed per stay. The rent
   never goes below zero.
3. **Fees**: the property's cleaning fee (per stay), ``extra_guest_fee`` rules (fixed per guest above
   ``above_guests`` per night).
4. **Taxes**: ``tax_percentage`` (percentage of the rent after stay rules) and
   ``tax_per_person_night`` (fixed per guest per night, e.g. a tourist tax).

``rent = nights + stay adjustments``; ``subtotal = rent + fees``; ``total = subtotal + taxes``; so the
total is always exactly the sum of its lines.

The database is read in ``load_*`` helpers (a couple of queries); everything else is pure functions
over plain data (``Terms``, ``Rule``, ``DayRange``) that tests and the benchmark call directly.

Restrictions (``stay_reasons``): dates are property-local and stays half-open. The min/max stay and
closed-to-arrival come from the ``available`` block covering the arrival day (else the property's
defaults), closed-to-departure from the block covering the departure day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from apps.core.money import quantum

from .rules import PER_NIGHT_TYPES

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_STAY_NIGHTS = 365

# --------------------------------------------------------------------------------------------------
# Plain data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Terms:
    """A property's pricing and restriction terms as plain data."""

    property_id: int | None
    currency: str
    base_price: Decimal
    cleaning_fee: Decimal = ZERO
    max_guests: int = 1
    default_min_stay: int = 1
    default_max_stay: int = 28
    min_notice_hours: int = 0
    max_advance_days: int = 365
    timezone: str = "UTC"
    check_in_time: time = time(15, 0)
    active: bool = True

    @classmethod
    def of(cls, prop: Any) -> Terms:
        return cls(
            property_id=prop.pk,
            currency=prop.currency,
            base_price=Decimal(prop.base_price),
            cleaning_fee=Decimal(prop.cleaning_fee or 0),
            max_guests=prop.max_guests,
            default_min_stay=prop.default_min_stay,
            default_max_stay=prop.default_max_stay,
            min_notice_hours=prop.min_notice_hours,
            max_advance_days=prop.max_advance_days,
            timezone=prop.timezone,
            check_in_time=prop.check_in_time,
            active=prop.status == "active",
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """A pricing rule with its conditions already parsed (see ``apps.availability.rules``)."""

    id: int | None
    rule_type: str
    adjustment_type: str
    value: Decimal
    priority: int = 0
    name: str = ""
    start: date | None = None  # seasonal
    end: date | None = None  # seasonal, exclusive
    recurring_yearly: bool = False
    days: frozenset[int] = frozenset({4, 5})  # weekend (night's weekday, Monday=0)
    min_nights: int = 0  # length_of_stay
    max_days_before: int = 0  # last_minute
    above_guests: int = 0  # extra_guest_fee

    @classmethod
    def parse(
        cls,
        *,
        rule_type: str,
        adjustment_type: str,
        value: Any,
        conditions: dict[str, Any] | None = None,
        priority: int = 0,
        id: int | None = None,  # noqa: A002
        name: str = "",
    ) -> Rule:
        c = conditions or {}
        start = date.fromisoformat(c["start_date"]) if c.get("start_date") else None
        end = date.fromisoformat(c["end_date"]) if c.get("end_date") else None
        return cls(
            id=id,
            rule_type=rule_type,
            adjustment_type=adjustment_type,
            value=Decimal(str(value)),
            priority=priority,
            name=name,
            start=start,
            end=end,
            recurring_yearly=bool(c.get("recurring_yearly", False)),
            days=frozenset(c.get("days", (4, 5))),
            min_nights=int(c.get("min_nights", 0)),
            max_days_before=int(c.get("max_days_before", 0)),
            above_guests=int(c.get("above_guests", 0)),
        )

    @property
    def label(self) -> str:
        return self.name or self.rule_type.replace("_", " ").capitalize()

    def matches_night(self, night: date) -> bool:
        if self.rule_type == "weekend":
            return night.weekday() in self.days
        if self.rule_type == "seasonal":
            if self.start is None or self.end is None:
                return False
            if not self.recurring_yearly:
                return self.start <= night < self.end
            if (self.end - self.start).days >= 365:
                return True
            md = (night.month, night.day)
            s = (self.start.month, self.start.day)
            e = (self.end.month, self.end.day)
            return s <= md < e if s < e else (md >= s or md < e)
        return False


@dataclass(frozen=True, slots=True)
class DayRange:
    """An ``available`` block: price and restrictions for the nights [start, end)."""

    start: date
    end: date
    price_override: Decimal | None = None
    min_stay: int | None = None
    max_stay: int | None = None
    closed_to_arrival: bool = False
    closed_to_departure: bool = False


# --------------------------------------------------------------------------------------------------
# Quote value object
# --------------------------------------------------------------------------------------------------


@dataclass
class NightLine:
    night: date
    base: Decimal
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    final: Decimal = ZERO


def _jsonable(line: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in line.items()}


@dataclass
class Quote:
    """A priced stay. Amounts in the lines are ``Decimal``; ``as_dict`` turns them into strings."""

    currency: str
    nights: list[NightLine]
    fees: list[dict[str, Any]]
    taxes: list[dict[str, Any]]
    stay_adjustments: list[dict[str, Any]]
    rent: Decimal
    subtotal: Decimal
    total: Decimal
    check_in: date | None = None
    check_out: date | None = None
    guests: int | None = None

    @property
    def night_count(self) -> int:
        return len(self.nights)

    @property
    def nightly_average(self) -> Decimal:
        if not self.nights:
            return ZERO
        return (self.rent / len(self.nights)).quantize(quantum(self.currency), rounding=ROUND_HALF_UP)

    def lines_total(self) -> Decimal:
        """Sum of every line (nights, stay adjustments, fees, taxes); always equals ``total``."""
        return (
            sum((n.final for n in self.nights), ZERO)
            + sum((a["amount"] for a in self.stay_adjustments), ZERO)
            + sum((f["amount"] for f in self.fees), ZERO)
            + sum((t["amount"] for t in self.taxes), ZERO)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "check_in": self.check_in.isoformat() if self.check_in else None,
            "check_out": self.check_out.isoformat() if self.check_out else None,
            "guests": self.guests,
            "nights": [
                {
                    "night": n.night.isoformat(),
                    "base": str(n.base),
                    "adjustments": [_jsonable(a) for a in n.adjustments],
                    "final": str(n.final),
                }
                for n in self.nights
            ],
            "stay_adjustments": [_jsonable(a) for a in self.stay_adjustments],
            "fees": [_jsonable(f) for f in self.fees],
            "taxes": [_jsonable(t) for t in self.taxes],
            "rent": str(self.rent),
            "subtotal": str(self.subtotal),
            "total": str(self.total),
        }


# --------------------------------------------------------------------------------------------------
# Pure computation
# --------------------------------------------------------------------------------------------------


def sort_rules(rules: Iterable[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (r.priority, r.id if r.id is not None else 0))


def ranges_by_day(ranges: Iterable[DayRange], start: date, end: date) -> dict[date, DayRange]:
    """The range covering each day in [start, end) (available blocks never overlap)."""
    out: dict[date, DayRange] = {}
    one = timedelta(days=1)
    for rng in ranges:
        d = max(rng.start, start)
        stop = min(rng.end, end)
        while d < stop:
            out[d] = rng
            d += one
    return out


def _adjust(rule: Rule, running: Decimal, q: Decimal) -> Decimal:
    if rule.adjustment_type == "percentage":
        return (running * rule.value / HUNDRED).quantize(q, rounding=ROUND_HALF_UP)
    return rule.value.quantize(q, rounding=ROUND_HALF_UP)


def _adjustment_line(rule: Rule, amount: Decimal) -> dict[str, Any]:
    return {
        "rule_id": rule.id,
        "code": rule.rule_type,
        "label": rule.label,
        "type": rule.adjustment_type,
        "value": rule.value,
        "amount": amount,
    }


def price_night(
    *, night: date, base: Decimal, night_rules: Sequence[Rule], q: Decimal
) -> tuple[Decimal, list[dict[str, Any]], Decimal]:
    """(base, adjustments, final) for one night; ``night_rules`` sorted, per-night types only."""
    running = base
    adjustments: list[dict[str, Any]] = []
    for rule in night_rules:
        if not rule.matches_night(night):
            continue
        amount = _adjust(rule, running, q)
        if running + amount < ZERO:
            amount = -running
        running += amount
        adjustments.append(_adjustment_line(rule, amount))
    return base, adjustments, running


def compute_quote(
    *,
    terms: Terms,
    rules: Sequence[Rule],
    ranges: Iterable[DayRange],
    check_in: date,
    check_out: date,
    guests: int,
    today: date,
) -> Quote:
    """Price the stay [check_in, check_out) from plain data (pure and deterministic)."""
    currency = terms.currency
    q = quantum(currency)
    ordered = sort_rules(r for r in rules)
    night_rules = [r for r in ordered if r.rule_type in PER_NIGHT_TYPES]
    by_day = ranges_by_day(ranges, check_in, check_out)
    default_base = terms.base_price.quantize(q, rounding=ROUND_HALF_UP)

    lines: list[NightLine] = []
    one = timedelta(days=1)
    night = check_in
    rent = ZERO
    while night < check_out:
        rng = by_day.get(night)
        if rng is not None and rng.price_override is not None:
            base = rng.price_override.quantize(q, rounding=ROUND_HALF_UP)
        else:
            base = default_base
        _, adjustments, final = price_night(night=night, base=base, night_rules=night_rules, q=q)
        lines.append(NightLine(night=night, base=base, adjustments=adjustments, final=final))
        rent += final
        night += one
    n_nights = len(lines)

    # Stay rules: the most specific tier of each type, then in priority order.
    chosen: dict[str, Rule] = {}
    lead_days = (check_in - today).days
    for rule in ordered:
        if rule.rule_type == "length_of_stay":
            if n_nights >= rule.min_nights:
                best = chosen.get("length_of_stay")
                if best is None or rule.min_nights > best.min_nights:
                    chosen["length_of_stay"] = rule
        elif rule.rule_type == "last_minute":
            if 0 <= lead_days <= rule.max_days_before:
                best = chosen.get("last_minute")
                if best is None or rule.max_days_before < best.max_days_before:
                    chosen["last_minute"] = rule
    stay_adjustments: list[dict[str, Any]] = []
    for rule in sort_rules(chosen.values()):
        amount = _adjust(rule, rent, q)
        if rent + amount < ZERO:
            amount = -rent
        rent += amount
        stay_adjustments.append(_adjustment_line(rule, amount))

    fees: list[dict[str, Any]] = []
    if terms.cleaning_fee:
        fees.append(
            {
                "code": "cleaning_fee",
                "label": "Cleaning fee",
                "amount": terms.cleaning_fee.quantize(q, rounding=ROUND_HALF_UP),
            }
        )
    taxes: list[dict[str, Any]] = []
    for rule in ordered:
        if rule.rule_type == "extra_guest_fee":
            extra = max(0, guests - rule.above_guests)
            if extra and n_nights:
                amount = (rule.value * extra * n_nights).quantize(q, rounding=ROUND_HALF_UP)
                fees.append(
                    {
                        "rule_id": rule.id,
                        "code": "extra_guest_fee",
                        "label": rule.name or f"Extra guests above {rule.above_guests}",
                        "guests": extra,
                        "nights": n_nights,
                        "rate": rule.value,
                        "amount": amount,
                    }
                )
        elif rule.rule_type == "tax_percentage":
            amount = (rent * rule.value / HUNDRED).quantize(q, rounding=ROUND_HALF_UP)
            taxes.append(
                {
                    "rule_id": rule.id,
                    "code": "tax_percentage",
                    "label": rule.name or f"Tax {rule.value}%",
                    "rate": rule.value,
                    "amount": amount,
                }
            )
        elif rule.rule_type == "tax_per_person_night":
            amount = (rule.value * guests * n_nights).quantize(q, rounding=ROUND_HALF_UP)
            taxes.append(
                {
                    "rule_id": rule.id,
                    "code": "tax_per_person_night",
                    "label": rule.name or "Tax per person per night",
                    "rate": rule.value,
                    "guests": guests,
                    "nights": n_nights,
                    "amount": amount,
                }
            )
    subtotal = rent + sum((f["amount"] for f in fees), ZERO)
    total = subtotal + sum((t["amount"] for t in taxes), ZERO)
    return Quote(
        currency=currency,
        nights=lines,
        fees=fees,
        taxes=taxes,
        stay_adjustments=stay_adjustments,
        rent=rent,
        subtotal=subtotal,
        total=total,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
    )


def _spans(days: Sequence[date]) -> list[list[str]]:
    """Consecutive days as half-open [start, end) ISO pairs."""
    spans: list[list[date]] = []
    for d in sorted(days):
        if spans and spans[-1][1] == d:
            spans[-1][1] = d + timedelta(days=1)
        else:
            spans.append([d, d + timedelta(days=1)])
    return [[s.isoformat(), e.isoformat()] for s, e in spans]


def _fmt_spans(spans: list[list[str]]) -> str:
    return ", ".join(f"{s} to {e}" for s, e in spans)


def compute_reasons(
    *,
    terms: Terms,
    ranges: Iterable[DayRange],
    occupied: Iterable[tuple[date, str]],
    check_in: date,
    check_out: date,
    guests: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """Why the stay is not bookable, from plain data (empty list = bookable).

    ``occupied`` lists the taken nights of the property in [check_in, check_out) as
    ``(night, "booked" | "blocked")``.
    """
    reasons: list[dict[str, Any]] = []
    if not terms.active:
        reasons.append({"code": "property_inactive", "message": "This property is not open for bookings."})
    if not isinstance(check_in, date) or not isinstance(check_out, date) or check_out <= check_in:
        reasons.append(
            {
                "code": "invalid_dates",
                "message": "Check-out must be after check-in.",
                "check_in": str(check_in),
                "check_out": str(check_out),
            }
        )
        return reasons
    n_nights = (check_out - check_in).days
    if n_nights > MAX_STAY_NIGHTS:
        reasons.append(
            {
                "code": "invalid_dates",
                "message": f"A stay cannot be longer than {MAX_STAY_NIGHTS} nights.",
                "nights": n_nights,
            }
        )
        return reasons
    if guests < 1:
        reasons.append({"code": "invalid_guests", "message": "A stay needs at least one guest.", "guests": guests})
    elif guests > terms.max_guests:
        reasons.append(
            {
                "code": "over_capacity",
                "message": f"This property sleeps at most {terms.max_guests} guests.",
                "max_guests": terms.max_guests,
                "guests": guests,
            }
        )

    booked = [d for d, kind in occupied if kind == "booked" and check_in <= d < check_out]
    blocked = [d for d, kind in occupied if kind != "booked" and check_in <= d < check_out]
    if booked:
        spans = _spans(booked)
        reasons.append({"code": "booked", "message": f"Already booked: {_fmt_spans(spans)}.", "dates": spans})
    if blocked:
        spans = _spans(blocked)
        reasons.append({"code": "blocked", "message": f"Not available: {_fmt_spans(spans)}.", "dates": spans})

    arrival_rng: DayRange | None = None
    departure_rng: DayRange | None = None
    for rng in ranges:
        if rng.start <= check_in < rng.end:
            arrival_rng = rng
        if rng.start <= check_out < rng.end:
            departure_rng = rng
    min_stay = (arrival_rng.min_stay if arrival_rng else None) or terms.default_min_stay
    max_stay = (arrival_rng.max_stay if arrival_rng else None) or terms.default_max_stay
    if n_nights < min_stay:
        reasons.append(
            {
                "code": "min_stay",
                "message": f"Stays arriving on {check_in.isoformat()} need at least {min_stay} nights.",
                "min_stay": min_stay,
                "nights": n_nights,
            }
        )
    if n_nights > max_stay:
        reasons.append(
            {
                "code": "max_stay",
                "message": f"Stays arriving on {check_in.isoformat()} can be at most {max_stay} nights.",
                "max_stay": max_stay,
                "nights": n_nights,
            }
        )
    if arrival_rng is not None and arrival_rng.closed_to_arrival:
        reasons.append(
            {
                "code": "closed_to_arrival",
                "message": f"Arrival is not possible on {check_in.isoformat()}.",
                "date": check_in.isoformat(),
            }
        )
    if departure_rng is not None and departure_rng.closed_to_departure:
        reasons.append(
            {
                "code": "closed_to_departure",
                "message": f"Departure is not possible on {check_out.isoformat()}.",
                "date": check_out.isoformat(),
            }
        )

    tz = ZoneInfo(terms.timezone)
    local_now = now.astimezone(tz)
    today = local_now.date()
    arrival = datetime.combine(check_in, terms.check_in_time, tzinfo=tz)
    if check_in < today or arrival - local_now < timedelta(hours=terms.min_notice_hours):
        reasons.append(
            {
                "code": "too_short_notice",
                "message": (
                    "This stay starts in the past."
                    if check_in < today
                    else f"Stays must be booked at least {terms.min_notice_hours} hours before check-in."
                ),
                "min_notice_hours": terms.min_notice_hours,
            }
        )
    if (check_in - today).days > terms.max_advance_days:
        reasons.append(
            {
                "code": "beyond_max_advance",
                "message": f"Stays can start at most {terms.max_advance_days} days ahead.",
                "max_advance_days": terms.max_advance_days,
            }
        )
    return reasons


# --------------------------------------------------------------------------------------------------
# Loading (the only place that reads the database)
# --------------------------------------------------------------------------------------------------


def load_rules(property_ids: Iterable[int]) -> dict[int, list[Rule]]:
    """Active pricing rules per property, parsed and sorted (one query)."""
    from .models import PricingRule

    out: dict[int, list[Rule]] = {pid: [] for pid in property_ids}
    if not out:
        return out
    rows = PricingRule.objects.filter(property_id__in=list(out), active=True).values_list(
        "id", "property_id", "rule_type", "adjustment_type", "adjustment_value", "conditions", "priority", "name"
    )
    for rid, pid, rtype, atype, value, conditions, priority, name in rows:
        try:
            rule = Rule.parse(
                id=rid,
                rule_type=rtype,
                adjustment_type=atype,
                value=value,
                conditions=conditions,
                priority=priority,
                name=name,
            )
        except (KeyError, TypeError, ValueError):
            continue  # a malformed rule written around validation is ignored, never a 500
        out[pid].append(rule)
    for pid in out:
        out[pid] = sort_rules(out[pid])
    return out


_CALENDAR_SQL = """
SELECT o.property_id, 'o', o.night, NULL::date, (o.booking_id IS NOT NULL), NULL::numeric,
       NULL::integer, NULL::integer, false, false
  FROM availability_occupiednight o
 WHERE o.property_id = ANY(%(ids)s) AND o.night >= %(start)s AND o.night < %(occ_end)s
UNION ALL
SELECT b.property_id, 'a', b.start_date, b.end_date, false, b.price_override,
       b.min_stay, b.max_stay, b.closed_to_arrival, b.closed_to_departure
  FROM availability_availabilityblock b
 WHERE b.property_id = ANY(%(ids)s) AND b.block_type = 'available'
   AND daterange(b.start_date, b.end_date) && daterange(%(start)s, %(end)s)
"""


def load_calendar(
    property_ids: Iterable[int], start: date, end: date, *, occupied: bool = True
) -> tuple[dict[int, list[DayRange]], dict[int, list[tuple[date, str]]]]:
    """Available ranges overlapping [start, end) and taken nights in [start, end), per property (one query).

    The range query uses the same expression as the ``block_available_no_overlap`` exclusion
    constraint, so its GiST index answers it.
    """
    ids = list(property_ids)
    ranges: dict[int, list[DayRange]] = {pid: [] for pid in ids}
    taken: dict[int, list[tuple[date, str]]] = {pid: [] for pid in ids}
    if not ids or end <= start:
        return ranges, taken
    with connection.cursor() as cur:
        cur.execute(_CALENDAR_SQL, {"ids": ids, "start": start, "end": end, "occ_end": end if occupied else start})
        for pid, kind, s, e, is_booking, price, mn, mx, cta, ctd in cur.fetchall():
            if kind == "o":
                taken[pid].append((s, "booked" if is_booking else "blocked"))
            else:
                ranges[pid].append(
                    DayRange(
                        start=s,
                        end=e,
                        price_override=price,
                        min_stay=mn,
                        max_stay=mx,
                        closed_to_arrival=cta,
                        closed_to_departure=ctd,
                    )
                )
    return ranges, taken


def local_today(prop_or_terms: Any, now: datetime | None = None) -> date:
    tz = ZoneInfo(prop_or_terms.timezone)
    return (now or timezone.now()).astimezone(tz).date()


def quote_many(
    *, props: Sequence[Any], check_in: date, check_out: date, guests: int, now: datetime | None = None
) -> dict[int, Quote]:
    """Quotes for several properties and the same stay, in two queries."""
    if not props:
        return {}
    now = now or timezone.now()
    ids = [p.pk for p in props]
    rules = load_rules(ids)
    ranges, _ = load_calendar(ids, check_in, check_out, occupied=False)
    return {
        p.pk: compute_quote(
            terms=Terms.of(p),
            rules=rules[p.pk],
            ranges=ranges[p.pk],
            check_in=check_in,
            check_out=check_out,
            guests=guests,
            today=local_today(p, now),
        )
        for p in props
    }


# --------------------------------------------------------------------------------------------------
# Public API (the contract)
# --------------------------------------------------------------------------------------------------


def quote_stay(*, prop: Any, check_in: date, check_out: date, guests: int, now: datetime | None = None) -> Quote:
    """Price a stay at ``prop`` (two queries: rules, then price ranges)."""
    return quote_many(props=[prop], check_in=check_in, check_out=check_out, guests=guests, now=now)[prop.pk]


def stay_reasons(
    *, prop: Any, check_in: date, check_out: date, guests: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Why a stay is not bookable (empty list = bookable). Each reason has a ``code`` and a ``message``.

    Codes: booked, blocked, min_stay, max_stay, closed_to_arrival, closed_to_departure,
    too_short_notice, beyond_max_advance, over_capacity, invalid_dates, invalid_guests,
    property_inactive. One query.
    """
    now = now or timezone.now()
    terms = Terms.of(prop)
    if not isinstance(check_in, date) or not isinstance(check_out, date) or check_out <= check_in:
        return compute_reasons(
            terms=terms, ranges=(), occupied=(), check_in=check_in, check_out=check_out, guests=guests, now=now
        )
    ranges, taken = load_calendar([prop.pk], check_in, check_out + timedelta(days=1))
    taken_in_stay = [(d, k) for d, k in taken[prop.pk] if d < check_out]
    return compute_reasons(
        terms=terms,
        ranges=ranges[prop.pk],
        occupied=taken_in_stay,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        now=now,
    )
