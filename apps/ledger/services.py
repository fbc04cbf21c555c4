"""Every write to the ledger. Called by the services that change money, inside their transaction
and with the booking locked (bookings: the property and the booking; payments: the booking before
the payment), so two writers of one booking's lines never interleave.

- ``booking_ledger_sync``: after a booking was created, changed or moved along its lifecycle. It
  posts the difference between what the booking now charges and what its lines say: nothing when
  they agree, else reversals of the lines that no longer hold plus the new lines. While a booking
  holds its dates its stay lines (rent per night, discounts, fees, taxes) sum to its total; once
  cancelled they are reversed, and a ``cancellation`` line keeps what the guest paid and was not
  given back (updated by every later payment or refund of that booking).
- ``payment_post`` / ``refund_post``: money received / given back, one line each (unique), written
  when the payment succeeded / the refund succeeded.

The lines are taken from the values the calling service has just written (the booking's total and
its price snapshot, the payment's received amount, the refund's amount), never recomputed later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.bookings.models import BLOCKING_STATUSES, Booking, BookingStatus
from apps.core.money import quantum, round_money

from .invoices import invoice_sync
from .models import CASH_KINDS, STAY_CHARGE_KINDS, LedgerLine, LineKind

__all__ = [
    "booking_ledger_sync",
    "payment_post",
    "refund_post",
    "booking_backfill",
    "charge_lines_for",
]

ZERO = Decimal("0")
#: Stay lines that follow the booking while it holds its dates but are not re-derived from its
#: price (a platform's commission, a credit given with a refund): reversed when it stops holding them.
KEPT_WHILE_BLOCKING = (LineKind.COMMISSION, LineKind.CREDIT)


@dataclass(frozen=True)
class Line:
    kind: str
    amount: Decimal
    code: str = ""
    label: str = ""
    night: date | None = None
    nights: int = 0
    rate: Decimal | None = None

    def key(self) -> tuple:
        return (self.kind, self.code, self.label, self.night, self.nights, self.rate, self.amount)


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _snapshot_extras(snap: dict, cur: str) -> list[Line] | None:
    """The snapshot's discount, fee and tax lines (None if it has none readable)."""
    lines = []
    for kind, items in ((LineKind.DISCOUNT, "stay_adjustments"), (LineKind.FEE, "fees"), (LineKind.TAX, "taxes")):
        for item in snap.get(items) or []:
            amount = _dec(item.get("amount")) if isinstance(item, dict) else None
            if amount is None:
                return None
            rate = _dec(item.get("rate")) if item.get("code") == "tax_percentage" else None
            code, label = str(item.get("code") or "")[:64], str(item.get("label") or "")[:200]
            lines.append(Line(kind, round_money(amount, cur), code, label, rate=rate))
    return lines


def _from_snapshot(booking: Booking, nights: list[date], total: Decimal) -> list[Line] | None:
    """The stay's lines from its price snapshot. When the snapshot prices other nights (the dates
    were moved without a new price) its fees, taxes and discounts stay and the rest of the total is
    rent spread over the new nights. None if the snapshot does not fit the total."""
    snap = booking.price_snapshot or {}
    cur = booking.currency
    if not isinstance(snap, dict) or not snap or snap.get("currency") not in (None, cur):
        return None
    extras = _snapshot_extras(snap, cur)
    if extras is None:
        return None
    rent: list[Line] = []
    try:
        snap_nights = [(date.fromisoformat(str(n["night"])), _dec(n["final"])) for n in snap.get("nights") or []]
    except (KeyError, TypeError, ValueError):
        snap_nights = []
    if [night for night, _ in snap_nights] == nights and all(amount is not None for _, amount in snap_nights):
        for night, amount in snap_nights:
            rent.append(
                Line(LineKind.RENT, round_money(amount, cur), "night", f"Night of {night.isoformat()}", night, 1)
            )
    else:
        rest = total - sum((line.amount for line in extras), ZERO)
        if rest < 0:
            return None
        rent = _split(booking, nights, rest)
    lines = rent + extras
    if sum((line.amount for line in lines), ZERO) != total:
        return None
    return lines


def _split(booking: Booking, nights: list[date], total: Decimal) -> list[Line]:
    """A total without a matching breakdown (a platform's price, an owner's price): rent spread
    evenly over the nights, the rounding remainder on the last one."""
    cur = booking.currency
    if not nights:
        return [Line(LineKind.RENT, total, "stay", "Stay")] if total else []
    each = (total / len(nights)).quantize(quantum(cur), rounding=ROUND_DOWN)
    lines = [Line(LineKind.RENT, each, "night", f"Night of {n.isoformat()}", n, 1) for n in nights]
    remainder = total - each * len(nights)
    if remainder:
        last = lines[-1]
        lines[-1] = Line(last.kind, last.amount + remainder, last.code, last.label, last.night, last.nights)
    return lines


def charge_lines_for(booking: Booking) -> list[Line]:
    """The stay lines of a booking that holds its dates: from its price snapshot when that prices
    this very stay and total, else its total spread over its nights. They always sum to the total."""
    if booking.status not in BLOCKING_STATUSES:
        return []
    total = round_money(booking.total_price, booking.currency)
    nights = [booking.check_in + timedelta(days=i) for i in range((booking.check_out - booking.check_in).days)]
    return _from_snapshot(booking, nights, total) or _split(booking, nights, total)


def _outstanding(booking_id: int, kinds) -> list[LedgerLine]:
    """Lines of these kinds that stand: neither a reversal nor reversed."""
    return list(
        LedgerLine.objects.filter(
            booking_id=booking_id, kind__in=kinds, reverses__isnull=True, reversed_by__isnull=True
        ).order_by("pk")
    )


def _as_line(row: LedgerLine) -> Line:
    return Line(row.kind, row.amount, row.code, row.label, row.night, row.nights, row.rate)


def _post(booking: Booking, line: Line, *, entry: str, now, **extra: Any) -> LedgerLine:
    return LedgerLine.objects.create(
        booking_id=booking.pk,
        property_id=booking.property_id,
        kind=line.kind,
        code=line.code,
        label=line.label,
        night=line.night,
        nights=line.nights,
        rate=line.rate,
        amount=line.amount,
        currency=booking.currency,
        entry=entry,
        posted_at=now,
        **extra,
    )


def _reverse(booking: Booking, row: LedgerLine, *, entry: str, now) -> LedgerLine:
    return LedgerLine.objects.create(
        booking_id=booking.pk,
        property_id=booking.property_id,
        kind=row.kind,
        code=row.code,
        label=row.label,
        night=row.night,
        nights=-row.nights,
        rate=row.rate,
        amount=-row.amount,
        currency=row.currency,
        entry=entry,
        reverses=row,
        payment_id=row.payment_id,
        refund_id=row.refund_id,
        posted_at=now,
    )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger writes run inside the transaction of the change they record")


def booking_ledger_sync(
    *, booking: Booking, entry: str, commission: Decimal | None = None, now=None
) -> list[LedgerLine]:
    """Post what changed in a booking's money (see the module doc). Idempotent: a second call with
    nothing changed posts nothing. ``commission`` (positive, in the booking's currency) is a
    platform's commission as the platform reports it; None leaves the recorded one as it is.
    Returns the lines posted."""
    _require_transaction()
    now = now or timezone.now()
    posted: list[LedgerLine] = []
    blocking = booking.status in BLOCKING_STATUSES

    # 1. the stay's own lines follow its price and dates
    desired = charge_lines_for(booking)
    standing = _outstanding(booking.pk, STAY_CHARGE_KINDS)
    if Counter(line.key() for line in desired) != Counter(_as_line(row).key() for row in standing):
        posted += [_reverse(booking, row, entry=entry, now=now) for row in standing]
        posted += [_post(booking, line, entry=entry, now=now) for line in desired]

    # 2. commission and credits stand while the stay holds its dates
    kept = _outstanding(booking.pk, KEPT_WHILE_BLOCKING)
    if not blocking:
        posted += [_reverse(booking, row, entry=entry, now=now) for row in kept]
    elif commission is not None:
        amount = -round_money(commission, booking.currency)
        commission_rows = [row for row in kept if row.kind == LineKind.COMMISSION]
        if [row.amount for row in commission_rows] != ([amount] if amount else []):
            posted += [_reverse(booking, row, entry=entry, now=now) for row in commission_rows]
            if amount:
                line = Line(LineKind.COMMISSION, amount, booking.source, f"{booking.get_source_display()} commission")
                posted.append(_post(booking, line, entry=entry, now=now))

    # 3. a cancelled booking keeps what the guest paid and did not get back
    posted += _cancellation_adjust(booking, entry=entry, now=now)
    invoice_sync(booking=booking, now=now)  # the guest's documents follow what they are charged
    return posted


def _sum(booking_id: int, kinds) -> Decimal:
    return LedgerLine.objects.filter(booking_id=booking_id, kind__in=kinds).aggregate(s=Sum("amount"))["s"] or ZERO


def _cancellation_adjust(booking: Booking, *, entry: str, now) -> list[LedgerLine]:
    target = _sum(booking.pk, CASH_KINDS) if booking.status == BookingStatus.CANCELLED else ZERO
    delta = target - _sum(booking.pk, [LineKind.CANCELLATION])
    if not delta:
        return []
    label = "Kept on cancellation" if delta > 0 else "Given back after cancellation"
    return [_post(booking, Line(LineKind.CANCELLATION, delta, "cancellation", label), entry=entry, now=now)]


def payment_post(*, payment, now=None) -> LedgerLine | None:
    """The line of a payment that succeeded (once per payment). The caller holds the booking's lock."""
    _require_transaction()
    if LedgerLine.objects.filter(payment_id=payment.pk, kind=LineKind.PAYMENT).exists():
        return None
    now = now or timezone.now()
    booking = Booking.objects.get(pk=payment.booking_id)
    line = Line(
        LineKind.PAYMENT,
        round_money(payment.amount_received, booking.currency),
        payment.provider,
        f"Payment {payment.intent_id}"[:200],
    )
    row = _post(booking, line, entry="payment.succeeded", now=now, payment=payment)
    _cancellation_adjust(booking, entry="payment.succeeded", now=now)
    invoice_sync(booking=booking, now=now)
    return row


def refund_post(*, refund, now=None) -> LedgerLine | None:
    """The line of a refund that succeeded (once per refund). On a booking that goes ahead the money
    given back is also a credit on the stay (the guest owes that much less); on a cancelled one it
    lowers what the cancellation keeps. The caller holds the booking's lock."""
    _require_transaction()
    if LedgerLine.objects.filter(refund_id=refund.pk, kind=LineKind.REFUND).exists():
        return None
    now = now or timezone.now()
    booking = Booking.objects.get(pk=refund.booking_id)
    amount = round_money(refund.amount, booking.currency)
    row = _post(
        booking,
        Line(LineKind.REFUND, -amount, refund.kind, f"Refund {refund.get_kind_display()}"[:200]),
        entry="refund.succeeded",
        now=now,
        refund=refund,
    )
    if booking.status in BLOCKING_STATUSES:
        _post(
            booking,
            Line(LineKind.CREDIT, -amount, refund.kind, "Refunded on the stay"),
            entry="refund.succeeded",
            now=now,
            refund=refund,
        )
    _cancellation_adjust(booking, entry="refund.succeeded", now=now)
    invoice_sync(booking=booking, now=now)
    return row


def booking_backfill(*, booking_id: int) -> list[LedgerLine]:
    """Bring one booking written before the ledger existed into it: its stay lines from its price,
    a line per succeeded payment and refund, what a cancellation keeps. Idempotent (a booking
    already in the ledger gets nothing twice)."""
    from apps.payments.models import Payment, Refund

    with transaction.atomic():
        booking = Booking.objects.select_for_update().get(pk=booking_id)
        before = LedgerLine.objects.filter(booking_id=booking_id).count()
        for payment in Payment.objects.filter(booking_id=booking_id, status=Payment.Status.SUCCEEDED).order_by("pk"):
            payment_post(payment=payment, now=payment.succeeded_at)
        for refund in Refund.objects.filter(booking_id=booking_id, status=Refund.Status.SUCCEEDED).order_by("pk"):
            refund_post(refund=refund, now=refund.updated_at)
        booking_ledger_sync(booking=booking, entry="backfill")
        return list(LedgerLine.objects.filter(booking_id=booking_id).order_by("pk")[before:])


def property_finance_set(*, property_id: int, management_fee_percent: Decimal):
    """Set a property's management fee (percent of rent and fees, 0-100) for owner statements."""
    from apps.core.errors import ValidationFailed

    from .models import PropertyFinance

    try:
        value = Decimal(str(management_fee_percent))
    except (InvalidOperation, ValueError):
        value = Decimal("-1")
    if not value.is_finite() or not Decimal("0") <= value <= Decimal("100") or value != value.quantize(Decimal("0.01")):
        raise ValidationFailed(
            "The management fee is a percentage from 0 to 100 with at most two decimals.",
            details={"management_fee_percent": [str(management_fee_percent)[:20]]},
        )
    finance, _ = PropertyFinance.objects.update_or_create(
        property_id=property_id, defaults={"management_fee_percent": value}
    )
    return finance


LEGAL_FIELDS = ("legal_name", "address", "vat_id", "tax_number", "email", "invoice_prefix")


def owner_legal_set(*, owner_id: int, **values: Any):
    """Set the owner's legal details printed on their invoices (any of ``LEGAL_FIELDS``). Issued
    invoices keep the details they were issued with."""
    import re

    from apps.core.errors import ValidationFailed

    from .models import OwnerLegal

    unknown = sorted(set(values) - set(LEGAL_FIELDS))
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(unknown)}.")
    cleaned = {k: str(v or "").strip() for k, v in values.items()}
    if any("\x00" in v for v in cleaned.values()):
        raise ValidationFailed("Null characters are not allowed.")
    if "legal_name" in cleaned and not cleaned["legal_name"]:
        raise ValidationFailed("The legal name is required.", details={"legal_name": ["Required."]})
    if "invoice_prefix" in cleaned and not re.fullmatch(r"[A-Za-z0-9-]{1,12}", cleaned["invoice_prefix"]):
        raise ValidationFailed(
            "The invoice prefix is 1 to 12 letters, digits or dashes.", details={"invoice_prefix": ["Invalid."]}
        )
    legal, _ = OwnerLegal.objects.update_or_create(owner_id=owner_id, defaults=cleaned)
    return legal
