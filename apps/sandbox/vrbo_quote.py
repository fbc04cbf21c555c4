"""The Vrbo simulator's reading of our feeds: parse the documents it crawled into its own calendar
and prices, and quote a stay from them the way the platform does (no access to our database).

``parse_rates`` / ``parse_availability`` turn ``lodgingRateContent`` / ``unitAvailabilityContent``
into plain dicts (stored on the simulator's listing); ``quote`` prices a stay from the parsed rates:
nights from ``nightlyOverrides`` else the weekday rate, then the discount tiers (length of stay, last
minute) in ``priority`` order on the running rent, each rounded to the currency's minor unit, the
cleaning fee, per-guest fees, then taxes on the rent after discounts.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from defusedxml import ElementTree as SafeET

from apps.core.money import quantum

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZERO = Decimal(0)


def _dec(text: str | None) -> Decimal:
    return Decimal((text or "0").strip())


def parse_rates(body: bytes | str) -> dict[str, Any]:
    root = SafeET.fromstring(body)
    if root.tag != "lodgingRateContent":
        raise ValueError(f"expected lodgingRateContent, got {root.tag}")
    rate = root.find("lodgingRate")
    if rate is None:
        raise ValueError("lodgingRate missing")
    nightly = rate.find("nightlyRates")
    weekday = {name: str(_dec(nightly.findtext(name))) for name in WEEKDAYS}
    overrides = [
        {
            "amount": str(_dec(o.findtext("amount"))),
            "min": o.findtext("nights/range/min"),
            "max": o.findtext("nights/range/max"),
        }
        for o in nightly.iter("override")
    ]
    discounts = []
    for group, kind in (
        ("percentOfRentDiscounts", "los"),
        ("fixedAmountDiscounts", "los"),
        ("lastMinuteDiscounts", "last_minute"),
    ):
        for d in rate.findall(f"discounts/{group}/discount"):
            rng = d.find(".//range")
            discounts.append(
                {
                    "kind": kind,
                    "name": d.findtext("name") or "",
                    "percent": d.findtext("percent"),
                    "amount": d.findtext("amount"),
                    "min": int(rng.findtext("min")),
                    "max": int(rng.findtext("max")),
                    "priority": int(d.findtext("priority") or 0),
                }
            )
    fees = {
        "cleaning": [str(_dec(f.findtext("amount"))) for f in rate.findall("fees/cleaningFees/fee")],
        "per_guest_night": [
            {"amount": str(_dec(f.findtext("amount"))), "above": int(f.findtext("aboveGuests") or 0)}
            for f in rate.findall("fees/perGuestPerNightFees/fee")
        ],
    }
    taxes = {
        "percent": [str(_dec(r.findtext("percent"))) for r in rate.findall("taxRules/percentOfRentTaxRules/rule")],
        "per_person_night": [
            str(_dec(r.findtext("amount"))) for r in rate.findall("taxRules/perPersonPerNightTaxRules/rule")
        ],
    }
    return {
        "listing": root.findtext("listingExternalId") or "",
        "unit": root.findtext("unitExternalId") or "",
        "currency": rate.findtext("currency") or "EUR",
        "time_zone": rate.findtext("timeZone") or "UTC",
        "weekday": weekday,
        "overrides": overrides,
        "discounts": discounts,
        "fees": fees,
        "taxes": taxes,
    }


def parse_availability(body: bytes | str) -> dict[str, Any]:
    root = SafeET.fromstring(body)
    if root.tag != "unitAvailabilityContent":
        raise ValueError(f"expected unitAvailabilityContent, got {root.tag}")
    ua = root.find("unitAvailability")
    cfg = ua.find("unitAvailabilityConfiguration")
    availability = cfg.findtext("availability") or ""
    change_over = cfg.findtext("changeOver") or ""
    min_stay = [int(x) for x in (cfg.findtext("minStay") or "").split(",") if x]
    max_stay = [int(x) for x in (cfg.findtext("maxStay") or "").split(",") if x]
    if not (len(availability) == len(change_over) == len(min_stay) == len(max_stay)):
        raise ValueError("availability, changeOver, minStay and maxStay differ in length")
    if any(c not in "YN" for c in availability) or any(c not in "CIOX" for c in change_over):
        raise ValueError("unknown availability or changeOver character")
    return {
        "listing": root.findtext("listingExternalId") or "",
        "begin": ua.findtext("dateRange/beginDate"),
        "availability": availability,
        "change_over": change_over,
        "min_stay": min_stay,
        "max_stay": max_stay,
    }


def _night_price(rates: dict[str, Any], night: date) -> Decimal:
    iso = night.isoformat()
    for o in rates["overrides"]:
        if o["min"] <= iso <= o["max"]:
            return Decimal(o["amount"])
    return Decimal(rates["weekday"][WEEKDAYS[night.weekday()]])


def quote(rates: dict[str, Any], *, check_in: date, check_out: date, guests: int, today: date) -> dict[str, Any]:
    """Price a stay from the crawled rates (see the module docstring). Amounts are ``Decimal``."""
    q = quantum(rates["currency"])
    nights = []
    d = check_in
    while d < check_out:
        nights.append(_night_price(rates, d).quantize(q, rounding=ROUND_HALF_UP))
        d += timedelta(days=1)
    n = len(nights)
    rent = sum(nights, ZERO)
    lead = (check_in - today).days
    chosen = [
        disc
        for disc in rates["discounts"]
        if (disc["kind"] == "los" and disc["min"] <= n <= disc["max"])
        or (disc["kind"] == "last_minute" and disc["min"] <= lead <= disc["max"])
    ]
    discounts = []
    for disc in sorted(chosen, key=lambda x: x["priority"]):
        if disc["percent"] is not None:
            amount = (rent * -Decimal(disc["percent"]) / 100).quantize(q, rounding=ROUND_HALF_UP)
        else:
            amount = (-Decimal(disc["amount"])).quantize(q, rounding=ROUND_HALF_UP)
        if rent + amount < ZERO:
            amount = -rent
        rent += amount
        discounts.append({"name": disc["name"], "amount": amount})
    fees = [Decimal(a).quantize(q, rounding=ROUND_HALF_UP) for a in rates["fees"]["cleaning"]]
    for f in rates["fees"]["per_guest_night"]:
        extra = max(0, guests - f["above"])
        if extra and n:
            fees.append((Decimal(f["amount"]) * extra * n).quantize(q, rounding=ROUND_HALF_UP))
    taxes = [(rent * Decimal(p) / 100).quantize(q, rounding=ROUND_HALF_UP) for p in rates["taxes"]["percent"]]
    taxes += [(Decimal(a) * guests * n).quantize(q, rounding=ROUND_HALF_UP) for a in rates["taxes"]["per_person_night"]]
    subtotal = rent + sum(fees, ZERO)
    total = subtotal + sum(taxes, ZERO)
    return {
        "currency": rates["currency"],
        "nights": nights,
        "discounts": discounts,
        "rent": rent,
        "fees": fees,
        "taxes": taxes,
        "total": total,
    }


def stay_open(avail: dict[str, Any], *, check_in: date, check_out: date) -> bool:
    """Whether the crawled calendar sells the stay: nights Y, arrival and departure allowed, min/max stay."""
    begin = date.fromisoformat(avail["begin"])
    i, j = (check_in - begin).days, (check_out - begin).days
    if i < 0 or j > len(avail["availability"]) or j <= i:
        return False
    if any(c != "Y" for c in avail["availability"][i:j]):
        return False
    if avail["change_over"][i] not in "CI":
        return False
    if j < len(avail["change_over"]) and avail["change_over"][j] not in "CO":
        return False
    n = j - i
    return avail["min_stay"][i] <= n <= avail["max_stay"][i]
