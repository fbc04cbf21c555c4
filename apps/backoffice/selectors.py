"""Reads of the back office (calendar, dashboard, sync health), always scoped to one user.

Every function starts from ``Property.objects.visible_to(user)`` (fails closed) and reads what lies
under those properties in a fixed number of queries, whatever the number of properties or days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_noop

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
    total: int = 0  # properties matching (all pages)
    page: int = 1
    pages: int = 1


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


#: Properties per calendar page.
PAGE_SIZE = 50


def tape_chart(
    *,
    user: Any,
    start: date,
    days: int,
    property_ids: list[int] | None = None,
    search: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> TapeChart:
    """Properties as rows (``page_size`` per page, optionally those whose name or city contains
    ``search``), nights [start, start + days) as columns: bookings and blocks as bars, every free night
    with its price (after per-night rules) and minimum stay.

    Seven queries whatever the number of properties and days: the matching property ids, the page's
    properties, the ones the user may change, bookings, blocks, pricing rules, available ranges."""
    from django.db.models import Q

    end = start + timedelta(days=days)
    props_qs = Property.objects.visible_to(user).order_by("name", "id")
    if property_ids is not None:
        props_qs = props_qs.filter(pk__in=property_ids)
    if search:
        props_qs = props_qs.filter(Q(name__icontains=search) | Q(city__icontains=search))
    all_ids = list(props_qs.values_list("pk", flat=True))
    pages = max(1, -(-len(all_ids) // page_size))
    page = min(max(1, page), pages)
    page_ids = all_ids[(page - 1) * page_size : page * page_size]
    props = list(Property.objects.filter(pk__in=page_ids).order_by("name", "id")) if page_ids else []
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
    return TapeChart(
        start=start,
        end=end,
        days=[start + timedelta(days=i) for i in range(days)],
        rows=rows,
        total=len(all_ids),
        page=page,
        pages=pages,
    )


def night_values(*, prop: Property, start: date, end: date) -> dict[str, Any]:
    """The price and restrictions of the first night of [start, end), to prefill the range form."""
    ranges, _ = pricing.load_calendar([prop.pk], start, start + timedelta(days=1), occupied=False)
    cell = _night_cells(prop, start, start + timedelta(days=1), ranges[prop.pk], pricing.load_rules([prop.pk])[prop.pk])
    first = cell[start]
    return {"price": first.price, "min_stay": first.min_stay}


# --------------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------------

#: Stays that count as sold (a hold is not revenue yet; a cancelled stay is not a stay).
SOLD_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.CHECKED_OUT)
CENT = Decimal("0.01")


def _month_start(d: date, shift: int = 0) -> date:
    month = d.month - 1 + shift
    return date(d.year + month // 12, month % 12 + 1, 1)


@dataclass
class Figures:
    """Occupancy, ADR and RevPAR of one period for the properties of one currency."""

    available_nights: int = 0
    sold_nights: int = 0
    revenue: Decimal = Decimal("0.00")
    bookings: int = 0

    @property
    def occupancy(self) -> Decimal:
        if not self.available_nights:
            return Decimal("0.0")
        return (Decimal(self.sold_nights) * 100 / self.available_nights).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def adr(self) -> Decimal:
        return (self.revenue / self.sold_nights).quantize(CENT, ROUND_HALF_UP) if self.sold_nights else CENT * 0

    @property
    def revpar(self) -> Decimal:
        if not self.available_nights:
            return CENT * 0
        return (self.revenue / self.available_nights).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Period:
    key: str
    label: str
    start: date
    end: date  # exclusive
    #: currency -> figures; currency -> source -> figures
    totals: dict[str, Figures] = field(default_factory=dict)
    by_channel: dict[str, dict[str, Figures]] = field(default_factory=dict)
    cancellations: int = 0
    lead_days_total: int = 0
    lead_bookings: int = 0

    @property
    def nights(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def average_lead_days(self) -> Decimal | None:
        if not self.lead_bookings:
            return None
        return (Decimal(self.lead_days_total) / self.lead_bookings).quantize(Decimal("0.1"), ROUND_HALF_UP)


def booking_revenue_in(booking_total: Decimal, check_in: date, check_out: date, start: date, end: date) -> Decimal:
    """The part of a stay's total that falls on the nights inside [start, end): the total spread evenly
    over the stay's nights, rounded to the cent once per booking and period."""
    inside = (min(check_out, end) - max(check_in, start)).days
    if inside <= 0:
        return Decimal("0.00")
    return (Decimal(booking_total) * inside / (check_out - check_in).days).quantize(CENT, ROUND_HALF_UP)


@dataclass
class Movement:
    booking: Booking
    kind: str  # 'arrival' | 'departure' | 'in_house'
    day: date

    @property
    def contact(self) -> dict[str, str]:
        g = self.booking.guest
        c = self.booking.guest_contact or {}
        name = (g.full_name if g else "") or f"{c.get('first_name', '')} {c.get('last_name', '')}".strip()
        return {
            "name": name or self.booking.reference,
            "email": c.get("email") or (g.email if g else ""),
            "phone": c.get("phone") or (g.phone if g else ""),
        }


@dataclass
class Dashboard:
    today: date
    property_count: int
    arrivals_today: list[Movement]
    departures_today: list[Movement]
    in_house: list[Movement]
    arrivals_week: list[Movement]
    departures_week: list[Movement]
    periods: list[Period]
    monthly: list[dict[str, Any]]  # the last 12 months: {"month", "currency" -> revenue, occupancy}
    currencies: list[str]
    open_holds: list[Booking]
    attention: dict[str, int]


def dashboard(*, user: Any, today: date, now: Any = None) -> Dashboard:
    """Everything the owner's morning page shows, for the properties ``user`` may see, in a fixed
    number of queries (pinned in ``tests/backoffice/test_dashboard.py``).

    Definitions: a night is *sold* when a confirmed, checked-in or checked-out booking covers it;
    *available* nights are the visible properties' nights in the period (archived properties left
    out); *revenue* spreads each stay's total evenly over its nights (rounded per booking and period);
    ADR = revenue / sold nights, RevPAR = revenue / available nights, occupancy = sold / available.
    Figures are per currency (properties priced in different currencies are never added up)."""
    from django.db.models import Q
    from django.utils import timezone

    from apps.bookings.models import PaymentStatus
    from apps.channels.models import ChannelAlert, Delivery
    from apps.channels.models_airbnb import AirbnbRequest

    from .models import OwnerNotification

    now = now or timezone.now()
    props = list(Property.objects.visible_to(user).values("pk", "currency", "status"))
    ids = [p["pk"] for p in props]
    counted = [p for p in props if p["status"] != Property.Status.INACTIVE]
    currencies = sorted({p["currency"] for p in counted} or {p["currency"] for p in props})
    week_end = today + timedelta(days=8)

    # arrivals, departures, in house (one query)
    moves = list(
        Booking.objects.filter(property_id__in=ids, status__in=CALENDAR_STATUSES)
        .filter(
            Q(check_in__gte=today, check_in__lt=week_end)
            | Q(check_out__gte=today, check_out__lt=week_end)
            | Q(check_in__lte=today, check_out__gt=today)
        )
        .select_related("property", "guest")
        .order_by("check_in", "id")
    )
    arrivals_today = [Movement(b, "arrival", b.check_in) for b in moves if b.check_in == today]
    departures_today = [Movement(b, "departure", b.check_out) for b in moves if b.check_out == today]
    in_house = [Movement(b, "in_house", today) for b in moves if b.check_in <= today < b.check_out]
    arrivals_week = [Movement(b, "arrival", b.check_in) for b in moves if today < b.check_in < week_end]
    departures_week = sorted(
        (Movement(b, "departure", b.check_out) for b in moves if today < b.check_out < week_end),
        key=lambda m: (m.day, m.booking.pk),
    )

    # periods: this month, last month, the last 12 months (this month included)
    this_month = _month_start(today)
    periods = [
        Period("this_month", gettext_noop("This month"), this_month, _month_start(today, 1)),
        Period("last_month", gettext_noop("Last month"), _month_start(today, -1), this_month),
        Period("last_12_months", gettext_noop("Last 12 months"), _month_start(today, -11), _month_start(today, 1)),
    ]
    window_start, window_end = periods[2].start, periods[2].end
    months = [_month_start(window_start, i) for i in range(12)]
    monthly: list[dict[str, Any]] = [
        {"month": m, "end": _month_start(m, 1), "revenue": {c: Decimal("0.00") for c in currencies}, "sold": {}}
        for m in months
    ]
    per_currency_props: dict[str, int] = {}
    for p in counted:
        per_currency_props[p["currency"]] = per_currency_props.get(p["currency"], 0) + 1
    for period in periods:
        for cur in currencies:
            period.totals[cur] = Figures(available_nights=per_currency_props.get(cur, 0) * period.nights)
            period.by_channel[cur] = {}
    currency_of = {p["pk"]: p["currency"] for p in props}
    counted_ids = {p["pk"] for p in counted}
    sold = Booking.objects.filter(
        property_id__in=ids, status__in=SOLD_STATUSES, check_in__lt=window_end, check_out__gt=window_start
    ).values_list("property_id", "source", "attribution", "check_in", "check_out", "total_price")
    for pid, source, attribution, check_in, check_out, total in sold:  # one query
        if pid not in counted_ids:
            continue
        if source == "direct" and attribution:
            source = attribution  # a direct booking a referrer sent (Google Vacation Rentals) counts as theirs
        cur = currency_of[pid]
        for period in periods:
            inside = (min(check_out, period.end) - max(check_in, period.start)).days
            if inside <= 0:
                continue
            revenue = booking_revenue_in(total, check_in, check_out, period.start, period.end)
            for figures in (period.totals[cur], period.by_channel[cur].setdefault(source, Figures())):
                figures.sold_nights += inside
                figures.revenue += revenue
                figures.bookings += 1
        for row in monthly:
            inside = (min(check_out, row["end"]) - max(check_in, row["month"])).days
            if inside > 0:
                row["revenue"][cur] += booking_revenue_in(total, check_in, check_out, row["month"], row["end"])
                row["sold"][cur] = row["sold"].get(cur, 0) + inside
    for period in periods:
        for cur, channels in period.by_channel.items():
            for figures in channels.values():
                figures.available_nights = period.totals[cur].available_nights

    # cancellations and lead time (one query)
    window_start_dt = timezone.make_aware(datetime.combine(window_start, time.min))
    for created_at, cancelled_at, check_in, status in (
        Booking.objects.filter(property_id__in=ids)
        .filter(Q(created_at__gte=window_start_dt) | Q(cancelled_at__gte=window_start_dt))
        .values_list("created_at", "cancelled_at", "check_in", "status")
    ):
        created = timezone.localdate(created_at)
        cancelled = timezone.localdate(cancelled_at) if cancelled_at else None
        for period in periods:
            if cancelled and period.start <= cancelled < period.end:
                period.cancellations += 1
            if status != BookingStatus.INQUIRY and period.start <= created < period.end:
                period.lead_days_total += max(0, (check_in - created).days)
                period.lead_bookings += 1

    open_holds = list(
        Booking.objects.filter(property_id__in=ids, status=BookingStatus.RESERVED, hold_expires_at__gt=now)
        .select_related("property")
        .order_by("hold_expires_at")[:20]
    )
    attention = {
        "alerts": ChannelAlert.objects.visible_to(user).filter(resolved_at__isnull=True).count(),
        "dead_letters": Delivery.objects.visible_to(user).filter(status=Delivery.Status.DEAD).count(),
        "failed_payments": Booking.objects.filter(property_id__in=ids, payment_status=PaymentStatus.FAILED)
        .exclude(status=BookingStatus.CANCELLED)
        .count(),
        "inquiries": Booking.objects.filter(
            property_id__in=ids, status=BookingStatus.INQUIRY, check_out__gt=today
        ).count()
        + AirbnbRequest.objects.visible_to(user).filter(status=AirbnbRequest.Status.PENDING).count(),
        "unread": OwnerNotification.objects.filter(
            recipient_id=getattr(user, "pk", None), read_at__isnull=True
        ).count(),
    }
    return Dashboard(
        today=today,
        property_count=len(props),
        arrivals_today=arrivals_today,
        departures_today=departures_today,
        in_house=in_house,
        arrivals_week=arrivals_week,
        departures_week=departures_week,
        periods=periods,
        monthly=monthly,
        currencies=currencies,
        open_holds=open_holds,
        attention=attention,
    )


# --------------------------------------------------------------------------------------------------
# Sync health (the spec's channel manager dashboard)
# --------------------------------------------------------------------------------------------------


@dataclass
class ConnectionHealth:
    connection: Any
    may_change: bool
    last_push_at: Any = None
    last_pull_at: Any = None
    backlog: int = 0
    failures_24h: int = 0
    dead_letters: int = 0
    open_alerts: int = 0
    breaker: str = "closed"
    recent_failures: list[Any] = field(default_factory=list)
    platform_read_at: Any = None  # when the platform last read the feeds we host for it (Vrbo)

    @property
    def healthy(self) -> bool:
        conn = self.connection
        return (
            conn.sync_enabled
            and conn.sync_status != "error"
            and not self.dead_letters
            and not self.open_alerts
            and self.breaker == "closed"
        )


def _breaker_states(platforms: set[str]) -> dict[str, str]:
    """Per platform, from Redis; 'unknown' when Redis cannot answer (the page still renders)."""
    import redis

    from apps.channels import breaker

    out = {}
    for platform in sorted(platforms):
        try:
            out[platform] = breaker.state(platform).state
        except (redis.RedisError, OSError):
            out[platform] = "unknown"
    return out


def sync_health(*, user: Any, now: Any = None, failures_per_connection: int = 5) -> list[ConnectionHealth]:
    """Per visible channel connection: the last successful push and pull, the backlog, failures in the
    last 24 h, dead letters, open alerts and the platform's circuit breaker, plus the latest failed
    deliveries. Eight queries whatever the number of connections (plus one Redis read per platform)."""
    from django.db.models import Count, Max, Q
    from django.utils import timezone

    from apps.channels.models import ChannelAlert, ChannelConnection, Delivery, InboundMessage

    now = now or timezone.now()
    since = now - timedelta(hours=24)
    conns = list(
        ChannelConnection.objects.visible_to(user)
        .select_related("property")
        .order_by("property__name", "platform", "id")
    )
    ids = [c.pk for c in conns]
    if not ids:
        return []
    managed = set(ChannelConnection.objects.managed_by(user).filter(pk__in=ids).values_list("pk", flat=True))
    pending = [Delivery.Status.PENDING, Delivery.Status.RETRYING, Delivery.Status.IN_PROGRESS]
    stats = {
        row["connection_id"]: row
        for row in Delivery.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(
            last_push=Max("delivered_at", filter=Q(status=Delivery.Status.SUCCEEDED)),
            backlog=Count("id", filter=Q(status__in=pending)),
            failures=Count("id", filter=Q(updated_at__gte=since) & ~Q(last_error_kind="")),
            dead=Count("id", filter=Q(status=Delivery.Status.DEAD)),
        )
    }
    pulls = dict(
        InboundMessage.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(last=Max("received_at"))
        .values_list("connection_id", "last")
    )
    from apps.channels.models_vrbo import VrboFeedRead

    feed_reads = dict(
        VrboFeedRead.objects.filter(connection_id__in=ids)
        .values("connection_id")
        .annotate(last=Max("read_at"))
        .values_list("connection_id", "last")
    )
    alerts = dict(
        ChannelAlert.objects.filter(connection_id__in=ids, resolved_at__isnull=True)
        .values("connection_id")
        .annotate(n=Count("id"))
        .values_list("connection_id", "n")
    )
    failing: dict[int, list[Any]] = {}
    recent = (
        Delivery.objects.filter(connection_id__in=ids)
        .filter(Q(status__in=[Delivery.Status.RETRYING, Delivery.Status.DEAD]) | Q(updated_at__gte=since))
        .exclude(last_error_kind="")
        .order_by("-updated_at")[: failures_per_connection * len(ids)]
    )
    for d in recent:
        bucket = failing.setdefault(d.connection_id, [])
        if len(bucket) < failures_per_connection:
            bucket.append(d)
    breakers = _breaker_states({c.platform for c in conns if c.pushes})
    out = []
    for conn in conns:
        row = stats.get(conn.pk, {})
        pull_candidates = [t for t in (pulls.get(conn.pk), conn.last_import_at) if t]
        out.append(
            ConnectionHealth(
                connection=conn,
                may_change=conn.pk in managed,
                last_push_at=row.get("last_push"),
                last_pull_at=max(pull_candidates) if pull_candidates else None,
                backlog=row.get("backlog", 0),
                failures_24h=row.get("failures", 0),
                dead_letters=row.get("dead", 0),
                open_alerts=alerts.get(conn.pk, 0),
                breaker=breakers.get(conn.platform, "—") if conn.pushes else "—",
                recent_failures=failing.get(conn.pk, []),
                platform_read_at=feed_reads.get(conn.pk),
            )
        )
    return out
