"""Reads of the ledger: a booking's money, and where bookings and their lines disagree."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.bookings.models import BLOCKING_STATUSES, Booking, BookingStatus
from apps.core.money import round_money
from apps.core.tenancy import is_pms_staff

from .models import CASH_KINDS, CHARGE_KINDS, STAY_CHARGE_KINDS, LedgerLine, LineKind

ZERO = Decimal("0")


def tidy(amount: Decimal) -> Decimal:
    """An amount as money reads: two decimals, three only where the third is used (KWD, BHD, ...)."""
    two = amount.quantize(Decimal("0.01"))
    return two if two == amount else amount


def _sum(qs) -> Decimal:
    return qs.aggregate(s=Sum("amount"))["s"] or ZERO


def stay_charges(booking: Booking) -> Decimal:
    """What the stay itself charges (rent, discounts, fees, taxes), by its ledger lines."""
    return _sum(LedgerLine.objects.filter(booking_id=booking.pk, kind__in=STAY_CHARGE_KINDS))


def booking_money(*, booking_id: int) -> dict[str, Decimal]:
    """A booking's ledger in sums: each kind, what the guest is charged, what they paid (net of
    refunds) and the balance still due (negative: owed back to the guest)."""
    rows = LedgerLine.objects.filter(booking_id=booking_id).values("kind").annotate(s=Sum("amount"))
    sums = {kind.value: ZERO for kind in LineKind}
    sums.update({row["kind"]: row["s"] for row in rows})
    charged = sum((sums[k] for k in CHARGE_KINDS), ZERO)
    paid = sum((sums[k] for k in CASH_KINDS), ZERO)
    sums = {kind: tidy(value) for kind, value in sums.items()}
    return {**sums, "charged": tidy(charged), "paid": tidy(paid), "balance": tidy(charged - paid)}


def _kind_sum(kinds) -> Coalesce:
    lines = (
        LedgerLine.objects.filter(booking_id=OuterRef("pk"), kind__in=kinds)
        .order_by()
        .values("booking_id")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(lines, output_field=DecimalField()), Value(ZERO), output_field=DecimalField())


def ledger_drift(*, queryset=None, limit: int = 100) -> list[dict]:
    """Bookings whose lines do not reconcile with them: a booking holding its dates whose stay
    lines do not sum to its total, a cancelled one whose charges differ from the money it kept,
    or any booking without lines. Empty when all is well (``ledger_backfill --check``)."""
    qs = (queryset if queryset is not None else Booking.objects.all()).annotate(
        stay=_kind_sum(STAY_CHARGE_KINDS),
        charged=_kind_sum(CHARGE_KINDS),
        cash=_kind_sum(CASH_KINDS),
        has_lines=Exists(LedgerLine.objects.filter(booking_id=OuterRef("pk"))),
    )
    bad = qs.filter(
        Q(status__in=BLOCKING_STATUSES) & (~Q(stay=F("total_price")) | Q(has_lines=False))
        | Q(status=BookingStatus.CANCELLED) & ~Q(charged=F("cash"))
    ).order_by("pk")[:limit]
    return [
        {
            "booking_id": b.pk,
            "reference": b.reference,
            "status": b.status,
            "total_price": b.total_price,
            "stay_lines": b.stay,
            "charged": b.charged,
            "paid": b.cash,
        }
        for b in bad
    ]


# --- owner statements --------------------------------------------------------------------------------

#: The money columns of a statement row, in order.
STATEMENT_COLUMNS = (
    ("rent", "Rent"),
    ("fees", "Fees"),
    ("taxes", "Taxes"),
    ("adjustments", "Cancellation / credits"),
    ("gross", "Charged to guest"),
    ("commission", "Commission"),
    ("management_fee", "Management fee"),
    ("net", "Net to owner"),
    ("paid", "Payments"),
    ("refunded", "Refunds"),
)


@dataclass
class StatementRow:
    booking_id: int
    reference: str
    guest: str
    channel: str
    status: str
    arrival: date
    departure: date
    nights: int
    currency: str
    rent: Decimal = ZERO
    fees: Decimal = ZERO
    taxes: Decimal = ZERO
    adjustments: Decimal = ZERO
    gross: Decimal = ZERO
    commission: Decimal = ZERO
    management_fee: Decimal = ZERO
    net: Decimal = ZERO
    paid: Decimal = ZERO
    refunded: Decimal = ZERO


@dataclass
class StatementProperty:
    property_id: int
    name: str
    currency: str
    management_fee_percent: Decimal
    rows: list[StatementRow] = field(default_factory=list)

    def total(self, column: str) -> Decimal:
        return sum((getattr(r, column) for r in self.rows), ZERO)

    @builtins.property
    def totals(self) -> dict[str, Decimal]:
        return {name: self.total(name) for name, _ in STATEMENT_COLUMNS}


@dataclass
class Statement:
    owner_id: int
    owner_name: str
    start: date
    end: date  # exclusive
    properties: list[StatementProperty]

    @builtins.property
    def totals(self) -> dict[str, dict[str, Decimal]]:
        """Totals per currency (a statement may hold homes priced in different currencies)."""
        out: dict[str, dict[str, Decimal]] = {}
        for section in self.properties:
            bucket = out.setdefault(section.currency, {name: ZERO for name, _ in STATEMENT_COLUMNS})
            for name, value in section.totals.items():
                bucket[name] += value
        return out

    @builtins.property
    def period_label(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.start.isoformat()} – {last.isoformat()}"


def month_range(month: str) -> tuple[date, date]:
    """``YYYY-MM`` -> (first day, first day of the next month); ValueError if it is not one."""
    if not isinstance(month, str) or len(month) != 7 or month[4] != "-":
        raise ValueError("Give the month as YYYY-MM, e.g. 2026-07.")
    if not (month[:4].isascii() and month[:4].isdigit() and month[5:].isascii() and month[5:].isdigit()):
        raise ValueError("Give the month as YYYY-MM, e.g. 2026-07.")  # not "+202-01" or " 202-01"
    try:
        start = date(int(month[:4]), int(month[5:]), 1)
    except ValueError:
        raise ValueError("Give the month as YYYY-MM, e.g. 2026-07.")
    if start.year == 9999 and start.month == 12:
        raise ValueError("Give a month before 9999-12.")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def may_see_statement(user: Any, owner_id: int) -> bool:
    """An owner sees their own statements; staff see every owner's. Co-hosts and outsiders none."""
    if user is None:
        return False
    if is_pms_staff(user):
        return True
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.pk == owner_id)


def owner_statement(*, owner_id: int, start: date, end: date, user: Any = None) -> Statement:
    """The statement of ``owner_id``'s properties for stays arriving in [start, end): per property,
    each stay with its money from the ledger (summed in SQL), the management fee, the net to the
    owner and the totals. ``user`` (None: a staff command) must be that owner or staff, else
    ``PermissionDenied``; a stay with no money at all (a lapsed hold, an unpaid cancellation) is left out.

    Net to owner = what the guest was charged (rent, fees, taxes, what a cancellation kept, credits)
    + commission (negative) − management fee (``management_fee_percent`` of rent, fees and
    cancellation/credits; taxes are passed through and carry no fee).
    """
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied

    from apps.properties.models import Property

    if user is not None and not may_see_statement(user, owner_id):
        raise PermissionDenied("You may only see your own statements.")
    if end <= start:
        raise ValueError("The period must end after it starts.")
    owner = get_user_model().objects.filter(pk=owner_id).first()
    if owner is None:
        raise LookupError(f"No owner with id {owner_id}.")
    props = list(Property.objects.filter(owner_id=owner_id).select_related("finance").order_by("name", "pk"))
    sums = (
        LedgerLine.objects.filter(property__owner_id=owner_id, booking__check_in__gte=start, booking__check_in__lt=end)
        .values("booking_id")
        .annotate(
            rent=Sum("amount", filter=Q(kind__in=[LineKind.RENT, LineKind.DISCOUNT])),
            fees=Sum("amount", filter=Q(kind=LineKind.FEE)),
            taxes=Sum("amount", filter=Q(kind=LineKind.TAX)),
            adjustments=Sum("amount", filter=Q(kind__in=[LineKind.CREDIT, LineKind.CANCELLATION])),
            commission=Sum("amount", filter=Q(kind=LineKind.COMMISSION)),
            paid=Sum("amount", filter=Q(kind=LineKind.PAYMENT)),
            refunded=Sum("amount", filter=Q(kind=LineKind.REFUND)),
        )
        .order_by()
    )
    by_booking = {row["booking_id"]: row for row in sums}
    bookings = Booking.objects.filter(pk__in=list(by_booking)).select_related("guest").order_by("check_in", "reference")
    sections = {
        p.pk: StatementProperty(
            property_id=p.pk,
            name=p.name,
            currency=p.currency,
            management_fee_percent=getattr(getattr(p, "finance", None), "management_fee_percent", ZERO) or ZERO,
        )
        for p in props
    }
    for b in bookings:
        row = by_booking[b.pk]
        values = {
            k: round_money(row[k] or ZERO, b.currency)
            for k in ("rent", "fees", "taxes", "adjustments", "commission", "paid", "refunded")
        }
        if not any(values.values()):
            continue
        section = sections[b.property_id]
        gross = values["rent"] + values["fees"] + values["taxes"] + values["adjustments"]
        fee_base = values["rent"] + values["fees"] + values["adjustments"]
        management_fee = -round_money(fee_base * section.management_fee_percent / 100, b.currency)
        contact = b.guest_contact or {}
        guest = b.guest.full_name if b.guest else f"{contact.get('first_name', '')} {contact.get('last_name', '')}"
        section.rows.append(
            StatementRow(
                booking_id=b.pk,
                reference=b.reference,
                guest=guest.strip(),
                channel=b.get_source_display(),
                status=b.get_status_display(),
                arrival=b.check_in,
                departure=b.check_out,
                nights=b.nights,
                currency=b.currency,
                gross=gross,
                management_fee=management_fee,
                net=gross + values["commission"] + management_fee,
                **values,
            )
        )
    name = owner.get_full_name() or owner.get_username()
    return Statement(owner_id=owner_id, owner_name=name, start=start, end=end, properties=list(sections.values()))


def booking_cash(*, booking_id: int) -> list[tuple[str, Decimal]]:
    """The money that moved for a booking, line by line: ("payment", +x) and ("refund", -y)."""
    return [
        (kind, amount)
        for kind, amount in LedgerLine.objects.filter(booking_id=booking_id, kind__in=CASH_KINDS)
        .order_by("posted_at", "pk")
        .values_list("kind", "amount")
    ]


# --- reports --------------------------------------------------------------------------------------------


def months_range(first_month: str, months: int) -> tuple[date, date]:
    """(first day of ``first_month``, first day after ``months`` months); ValueError on bad input."""
    start, _ = month_range(first_month)
    if not isinstance(months, int) or not 1 <= months <= 36:
        raise ValueError("A report covers 1 to 36 months.")
    index = start.year * 12 + start.month - 1 + months
    if index // 12 > 9999:
        raise ValueError("The months must end before the year 10000.")
    return start, date(index // 12, index % 12 + 1, 1)


def _days(month: date) -> int:
    nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return (nxt - month).days


def report_properties(*, user: Any, start: date, end: date) -> list[dict]:
    """Occupancy, ADR and RevPAR by property and month, from the ledger's rent lines (a night's rent
    line says the night was sold; reversals take it back). ADR = rent of the nights sold / nights sold;
    RevPAR = rent / nights in the month; occupancy = nights sold / nights in the month. Rent is per
    night before stay discounts, fees and taxes. Only properties ``user`` may see."""
    from django.db.models.functions import TruncMonth

    rows = (
        LedgerLine.objects.visible_to(user)
        .filter(kind=LineKind.RENT, night__gte=start, night__lt=end)
        .annotate(month=TruncMonth("night"))
        .values("property_id", "property__name", "currency", "month")
        .annotate(nights=Sum("nights"), rent=Sum("amount"))
        .order_by("property__name", "property_id", "month")
    )
    out = []
    for row in rows:
        month = row["month"]
        days = _days(month)
        nights, rent = row["nights"] or 0, round_money(row["rent"] or ZERO, row["currency"])
        if not nights and not rent:
            continue
        out.append(
            {
                "property": row["property_id"],
                "name": row["property__name"],
                "month": f"{month:%Y-%m}",
                "currency": row["currency"],
                "nights_sold": nights,
                "nights_available": days,
                "occupancy": (Decimal(nights) / days * 100).quantize(Decimal("0.1")),
                "rent": rent,
                "adr": round_money(rent / nights, row["currency"]) if nights else ZERO,
                "revpar": round_money(rent / days, row["currency"]),
            }
        )
    return out


def report_channels(*, user: Any, start: date, end: date) -> list[dict]:
    """Revenue and bookings by channel and month of arrival, from the ledger: bookings that hold their
    dates, nights, what guests were charged, commission, and cancellations (with what they kept)."""
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    holding = Q(booking__status__in=BLOCKING_STATUSES)
    rows = (
        LedgerLine.objects.visible_to(user)
        .filter(booking__check_in__gte=start, booking__check_in__lt=end)
        .annotate(month=TruncMonth("booking__check_in"))
        .values("booking__source", "currency", "month")
        .annotate(
            bookings=Count("booking", distinct=True, filter=holding),
            nights=Sum("nights", filter=Q(kind=LineKind.RENT)),
            revenue=Sum("amount", filter=Q(kind__in=CHARGE_KINDS)),
            commission=Sum("amount", filter=Q(kind=LineKind.COMMISSION)),
            # a cancelled stay that had been confirmed (a lapsed hold is not a cancellation)
            cancellations=Count(
                "booking",
                distinct=True,
                filter=Q(booking__status=BookingStatus.CANCELLED, booking__confirmed_at__isnull=False),
            ),
            kept=Sum("amount", filter=Q(kind=LineKind.CANCELLATION)),
        )
        .order_by("month", "booking__source")
    )
    labels = dict(Booking._meta.get_field("source").choices)
    return [
        {
            "channel": row["booking__source"],
            "channel_name": labels.get(row["booking__source"], row["booking__source"]),
            "month": f"{row['month']:%Y-%m}",
            "currency": row["currency"],
            "bookings": row["bookings"],
            "nights": row["nights"] or 0,
            "revenue": round_money(row["revenue"] or ZERO, row["currency"]),
            "commission": round_money(row["commission"] or ZERO, row["currency"]),
            "cancellations": row["cancellations"],
            "cancellation_kept": round_money(row["kept"] or ZERO, row["currency"]),
        }
        for row in rows
        if row["bookings"] or row["cancellations"]
    ]


def report_pace(*, user: Any, start: date, months: int, as_of: Any = None) -> list[dict]:
    """Booking pace: per month from ``start``, the nights and rent on the books at ``as_of`` (default
    now) against the same month a year earlier as it stood one year before ``as_of``. The ledger is
    append-only, so "as it stood then" is simply the lines posted by then."""
    from datetime import datetime

    from django.utils import timezone

    as_of = as_of or timezone.now()
    year_ago = as_of.replace(year=as_of.year - 1) if not (as_of.month == 2 and as_of.day == 29) else (
        as_of - timedelta(days=365)
    )  # fmt: skip
    visible = LedgerLine.objects.visible_to(user).filter(kind=LineKind.RENT)
    out = []
    for i in range(months):
        index = start.year * 12 + start.month - 1 + i
        first = date(index // 12, index % 12 + 1, 1)
        last = date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        prev_first, prev_last = first.replace(year=first.year - 1), last.replace(year=last.year - 1)
        now_rows = visible.filter(night__gte=first, night__lt=last, posted_at__lte=as_of).aggregate(
            n=Sum("nights"), r=Sum("amount")
        )
        then_rows = visible.filter(night__gte=prev_first, night__lt=prev_last, posted_at__lte=year_ago).aggregate(
            n=Sum("nights"), r=Sum("amount")
        )
        out.append(
            {
                "month": f"{first:%Y-%m}",
                "nights_on_books": now_rows["n"] or 0,
                "rent_on_books": tidy(now_rows["r"] or ZERO),
                "nights_last_year": then_rows["n"] or 0,
                "rent_last_year": tidy(then_rows["r"] or ZERO),
                "as_of": as_of.isoformat() if isinstance(as_of, datetime) else str(as_of),
            }
        )
    return out


def _days_between(later: str, earlier: str):
    """``later - earlier`` of two date columns: whole days (PostgreSQL date arithmetic)."""
    from django.db.models import Func, IntegerField

    return Func(F(later), F(earlier), template="(%(expressions)s)", arg_joiner=" - ", output_field=IntegerField())


LEAD_TIME_BUCKETS = ((0, 7, "0-7 days"), (8, 30, "8-30 days"), (31, 90, "31-90 days"), (91, 180, "91-180 days"),
                     (181, 100000, "181+ days"))  # fmt: skip
STAY_BUCKETS = ((1, 1, "1 night"), (2, 2, "2 nights"), (3, 3, "3 nights"), (4, 6, "4-6 nights"),
                (7, 13, "7-13 nights"), (14, 100000, "14+ nights"))  # fmt: skip


def report_distributions(*, user: Any, start: date, end: date) -> dict[str, list[dict]]:
    """Lead time (arrival − the day the stay was first booked, i.e. its first ledger line) and length of
    stay of the stays that hold their dates, arriving in [start, end), counted in SQL."""
    from django.db.models import Case, CharField, Count, Min, When
    from django.db.models.functions import TruncDate

    first_posted = (
        LedgerLine.objects.filter(booking_id=OuterRef("pk"), kind=LineKind.RENT)
        .order_by()
        .values("booking_id")
        .annotate(first=Min("posted_at"))
        .values("first")
    )
    stays = (
        Booking.objects.visible_to(user)
        .filter(status__in=BLOCKING_STATUSES, check_in__gte=start, check_in__lt=end)
        .annotate(booked=TruncDate(Subquery(first_posted)))
        .exclude(booked__isnull=True)
        .annotate(lead=_days_between("check_in", "booked"), los=_days_between("check_out", "check_in"))
    )

    def buckets(field_name: str, spec) -> list[dict]:
        label = Case(
            *[When(**{f"{field_name}__gte": lo, f"{field_name}__lte": hi}, then=Value(text)) for lo, hi, text in spec],
            default=Value("other"),
            output_field=CharField(),
        )
        counts = dict(stays.annotate(bucket=label).values("bucket").annotate(n=Count("pk")).values_list("bucket", "n"))
        return [{"bucket": text, "bookings": counts.get(text, 0)} for _, _, text in spec]

    return {"lead_time": buckets("lead", LEAD_TIME_BUCKETS), "length_of_stay": buckets("los", STAY_BUCKETS)}
