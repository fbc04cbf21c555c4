"""Guest search: which bookable properties match a location, dates, guests and filters.

Availability and every stay restriction are decided in ONE SQL query (which also counts the
matches and returns only the page shown):

- taken nights: a hashed anti-join on ``availability_occupiednight`` (a row per night held by a
  blocking booking or block, written in the same transaction as every calendar write), read from
  its ``(night, property)`` unique index;
- min/max stay and closed-to-arrival from the ``available`` block covering the arrival day, and
  closed-to-departure from the one covering the departure day, joined with the same
  ``daterange(start_date, end_date)`` expression as the ``block_available_no_overlap`` exclusion
  constraint (so its GiST index serves it), falling back to the property's defaults;
- minimum notice and maximum advance in the property's own time zone.

Quotes are computed only for the page shown (``pricing.quote_many``: two more queries).

``max_price`` and ``order="price"`` use the property's base nightly price (``nightly_from``); the
page shows each result's exact total for the stay.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.utils import timezone

from apps.core.errors import ValidationFailed

from . import pricing

ORDERS = {
    "price": "p.base_price ASC, p.id ASC",
    "-price": "p.base_price DESC, p.id ASC",
    "name": "p.name ASC, p.id ASC",
    "-bedrooms": "p.bedrooms DESC, p.base_price ASC, p.id ASC",
    "newest": "p.created_at DESC, p.id DESC",
}
MAX_PER_PAGE = 100
MAX_NIGHTS = 365


@dataclass
class SearchResult:
    property: Any
    quote: pricing.Quote | None = None

    @property
    def total(self) -> Decimal | None:
        return self.quote.total if self.quote else None

    @property
    def nightly_from(self) -> Decimal:
        if self.quote and self.quote.nights:
            return min(n.final for n in self.quote.nights)
        return self.property.base_price

    @property
    def currency(self) -> str:
        return self.quote.currency if self.quote else self.property.currency


@dataclass
class SearchPage:
    results: list[SearchResult]
    total_count: int
    page: int
    per_page: int
    num_pages: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def __iter__(self):
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


@dataclass(frozen=True)
class SearchQuery:
    location: str = ""
    check_in: date | None = None
    check_out: date | None = None
    guests: int = 1
    amenities: tuple[str, ...] = ()
    min_bedrooms: int | None = None
    max_price: Decimal | None = None
    order: str = "price"


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def clean_query(
    *,
    location: str = "",
    check_in: date | None = None,
    check_out: date | None = None,
    guests: Any = 1,
    amenities: Sequence[str] = (),
    min_bedrooms: Any = None,
    max_price: Any = None,
    order: str = "price",
) -> SearchQuery:
    """Validate search input; bad input raises ``ValidationFailed`` with a readable message."""
    errors: dict[str, str] = {}
    if (check_in is None) != (check_out is None):
        errors["dates"] = "Give both a check-in and a check-out date, or neither."
    elif check_in is not None and check_out is not None:
        if not isinstance(check_in, date) or not isinstance(check_out, date):
            errors["dates"] = "Check-in and check-out must be dates."
        elif check_out <= check_in:
            errors["dates"] = "Check-out must be after check-in."
        elif (check_out - check_in).days > MAX_NIGHTS:
            errors["dates"] = f"A stay cannot be longer than {MAX_NIGHTS} nights."
    try:
        guests = int(guests if guests not in (None, "") else 1)
        if guests < 1:
            raise ValueError
    except (TypeError, ValueError):
        errors["guests"] = "Guests must be a whole number of at least 1."
        guests = 1
    if min_bedrooms in ("",):
        min_bedrooms = None
    if min_bedrooms is not None:
        try:
            min_bedrooms = int(min_bedrooms)
            if min_bedrooms < 0:
                raise ValueError
        except (TypeError, ValueError):
            errors["min_bedrooms"] = "Bedrooms must be a whole number."
            min_bedrooms = None
    if max_price in ("",):
        max_price = None
    if max_price is not None:
        try:
            max_price = Decimal(str(max_price))
            if not max_price.is_finite() or max_price < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["max_price"] = "The maximum price must be a positive number."
            max_price = None
    if order not in ORDERS:
        errors["order"] = f"Sort by one of: {', '.join(ORDERS)}."
    if isinstance(amenities, str):
        amenities = [amenities]
    clean_amenities = tuple(sorted({str(a).strip() for a in amenities or () if str(a).strip()}))
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    return SearchQuery(
        location=(location or "").strip()[:200],
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        amenities=clean_amenities,
        min_bedrooms=min_bedrooms,
        max_price=max_price,
        order=order,
    )


def availability_sql(
    query: SearchQuery,
    *,
    now: datetime,
    limit: int | None,
    offset: int = 0,
    property_ids: Sequence[int] | None = None,
) -> tuple[str, dict]:
    """The one query that decides which properties match, counts them and returns one page of ids.

    Rows: ``(property_id, total_count)``. ``limit=None`` returns every match. ``property_ids``
    narrows the search to those properties (an owner's own, for the integrator API).
    """
    where = ["p.status = 'active'", "p.max_guests >= %(guests)s"]
    joins = ""
    params: dict[str, Any] = {"guests": query.guests, "now": now}
    if property_ids is not None:
        params["within"] = [int(i) for i in property_ids]
        where.append("p.id = ANY(%(within)s)")
    for i, term in enumerate(t.strip() for t in query.location.split(",")):
        if not term:
            continue
        params[f"loc{i}"] = _like(term)
        params[f"cc{i}"] = term.upper()
        where.append(f"(p.city ILIKE %(loc{i})s OR p.name ILIKE %(loc{i})s OR p.country = %(cc{i})s)")
    if query.amenities:
        params["amenities"] = list(query.amenities)
        where.append("p.amenities @> %(amenities)s::varchar(64)[]")
    if query.min_bedrooms is not None:
        params["min_bedrooms"] = query.min_bedrooms
        where.append("p.bedrooms >= %(min_bedrooms)s")
    if query.max_price is not None:
        params["max_price"] = query.max_price
        where.append("p.base_price <= %(max_price)s")
    if query.check_in is not None and query.check_out is not None:
        params.update(
            ci=query.check_in,
            co=query.check_out,
            n=(query.check_out - query.check_in).days,
            lead=(query.check_in - now.astimezone(UTC).date()).days,
        )
        joins = """
  LEFT JOIN availability_availabilityblock arr
         ON arr.property_id = p.id AND arr.block_type = 'available'
        AND daterange(arr.start_date, arr.end_date) @> %(ci)s::date
  LEFT JOIN availability_availabilityblock dep
         ON dep.property_id = p.id AND dep.block_type = 'available'
        AND daterange(dep.start_date, dep.end_date) @> %(co)s::date"""
        where += [
            # A hashed anti-join: the taken nights of the stay's dates come from the
            # (night, property) index once, whatever the planner's row estimates.
            """p.id NOT IN (SELECT o.property_id FROM availability_occupiednight o
                          WHERE o.night >= %(ci)s AND o.night < %(co)s)""",
            "COALESCE(arr.min_stay, p.default_min_stay) <= %(n)s",
            "COALESCE(arr.max_stay, p.default_max_stay) >= %(n)s",
            "arr.closed_to_arrival IS NOT TRUE",
            "dep.closed_to_departure IS NOT TRUE",
            # Each time rule is "cheap sufficient test OR exact test in the property's zone": UTC
            # offsets are within a day, so the exact (slow) test only runs for stays starting soon
            # or near the advance limit.
            "(%(lead)s >= 1 OR %(ci)s::date >= (%(now)s::timestamptz AT TIME ZONE p.timezone)::date)",
            """(%(lead)s + 1 <= p.max_advance_days
                OR %(ci)s::date - (%(now)s::timestamptz AT TIME ZONE p.timezone)::date <= p.max_advance_days)""",
            """((%(lead)s - 2) * 24 >= p.min_notice_hours
                OR ((%(ci)s::date + p.check_in_time) AT TIME ZONE p.timezone) - %(now)s::timestamptz
                   >= make_interval(hours => p.min_notice_hours))""",
        ]
    sql = (
        "SELECT p.id, count(*) OVER () AS total_count\n  FROM properties_property p"  # noqa: S608 - constant fragments, values bound
        + joins
        + "\n WHERE "
        + "\n   AND ".join(where)
        + f"\n ORDER BY {ORDERS[query.order]}"
    )
    if limit is not None:
        sql += "\n LIMIT %(limit)s OFFSET %(offset)s"
        params.update(limit=limit, offset=offset)
    return sql, params


def matching_ids(query: SearchQuery, *, now: datetime | None = None) -> list[int]:
    """Every matching property id in order (for tests and exports; search uses one page)."""
    sql, params = availability_sql(query, now=now or timezone.now(), limit=None)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [row[0] for row in cur.fetchall()]


def search_properties(
    *,
    location: str = "",
    check_in: date | None = None,
    check_out: date | None = None,
    guests: int = 1,
    amenities: Sequence[str] = (),
    min_bedrooms: int | None = None,
    max_price: Decimal | None = None,
    order: str = "price",
    page: int = 1,
    per_page: int = 12,
    now: datetime | None = None,
    property_ids: Sequence[int] | None = None,
) -> SearchPage:
    """One page of bookable properties for the search, with the stay's total when dates are given.

    ``property_ids`` (optional) limits the search to those properties, e.g. what an owner may see.
    """
    from apps.properties.models import Property

    query = clean_query(
        location=location,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        amenities=amenities,
        min_bedrooms=min_bedrooms,
        max_price=max_price,
        order=order,
    )
    now = now or timezone.now()
    try:
        page = max(1, int(page))
    except (TypeError, ValueError):
        page = 1
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)

    def run(page_no: int) -> list[tuple[int, int]]:
        sql, params = availability_sql(
            query, now=now, limit=per_page, offset=(page_no - 1) * per_page, property_ids=property_ids
        )
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    rows = run(page)
    if not rows and page > 1:
        # Past the last page: answer with the last page (as Django's Paginator.get_page does).
        sql, params = availability_sql(query, now=now, limit=1, property_ids=property_ids)
        with connection.cursor() as cur:
            cur.execute(sql, params)
            first = cur.fetchone()
        total = first[1] if first else 0
        page = max(1, math.ceil(total / per_page))
        rows = run(page) if total else []
    total_count = rows[0][1] if rows else 0
    ids = [r[0] for r in rows]
    by_id = Property.objects.in_bulk(ids)
    props = [by_id[i] for i in ids if i in by_id]
    quotes: dict[int, pricing.Quote] = {}
    if query.check_in is not None and query.check_out is not None and props:
        quotes = pricing.quote_many(
            props=props, check_in=query.check_in, check_out=query.check_out, guests=query.guests, now=now
        )
    return SearchPage(
        results=[SearchResult(property=p, quote=quotes.get(p.pk)) for p in props],
        total_count=total_count,
        page=page,
        per_page=per_page,
        num_pages=max(1, math.ceil(total_count / per_page)),
        params={
            "location": query.location,
            "check_in": query.check_in,
            "check_out": query.check_out,
            "guests": query.guests,
            "amenities": list(query.amenities),
            "min_bedrooms": query.min_bedrooms,
            "max_price": query.max_price,
            "order": query.order,
        },
    )
