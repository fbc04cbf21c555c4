"""Guest invoices and credit notes of direct bookings, issued from the ledger.

``invoice_sync`` runs inside every ledger write (the booking locked): a direct or API booking gets
its invoice when it is confirmed, and from then on its documents always add up to what the ledger
says the guest is charged: a cancellation, a refund or a lower price is a credit note, a higher price
a further invoice. Issued documents never change.

Numbers are per owner and without gaps: the owner's counter row is incremented (and so locked) in
the transaction that writes the invoice, so concurrent confirmations queue on it and a rolled-back
invoice gives its number back.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from apps.bookings.models import Booking, BookingSource, BookingStatus
from apps.core.money import round_money

from .models import CHARGE_KINDS, Invoice, LedgerLine, LineKind, OwnerLegal
from .selectors import tidy

ZERO = Decimal("0")
INVOICED_SOURCES = (BookingSource.DIRECT, BookingSource.API)
INVOICED_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.CHECKED_OUT)


def next_invoice_number(*, owner_id: int) -> int:
    """The owner's next invoice number; the counter row stays locked until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_invoicecounter (owner_id, last_number) VALUES (%s, 0) "
            "ON CONFLICT (owner_id) DO NOTHING",
            [owner_id],
        )
        cursor.execute(
            "UPDATE ledger_invoicecounter SET last_number = last_number + 1 WHERE owner_id = %s RETURNING last_number",
            [owner_id],
        )
        return cursor.fetchone()[0]


def _line(label: str, net: Decimal, rate: Decimal | None = None, tax: Decimal = ZERO) -> dict:
    net, tax = tidy(net), tidy(tax)
    return {
        "label": label,
        "net": str(net),
        "rate": None if rate is None else str(rate.normalize()),
        "tax": str(tax),
        "total": str(net + tax),
    }


def _stay_lines(booking: Booking) -> list[dict]:
    """The invoice lines of what the ledger charges now: accommodation with its VAT, each fee, other
    taxes (e.g. a city tax), credits and what a cancellation kept."""
    sums = {
        (row["kind"], row["code"], row["label"], row["rate"]): row["s"]
        for row in LedgerLine.objects.filter(booking_id=booking.pk, kind__in=CHARGE_KINDS)
        .values("kind", "code", "label", "rate")
        .annotate(s=Sum("amount"))
        .order_by()
    }
    rent = sum((v for (kind, *_), v in sums.items() if kind in (LineKind.RENT, LineKind.DISCOUNT)), ZERO)
    vat = {rate: v for (kind, code, _, rate), v in sums.items() if kind == LineKind.TAX and rate is not None and v}
    lines = []
    nights = booking.nights
    label = f"Accommodation, {nights} night{'s' if nights != 1 else ''} ({booking.check_in} – {booking.check_out})"
    if rent or vat:
        if len(vat) == 1:
            ((rate, tax),) = vat.items()
            lines.append(_line(label, rent, rate, tax))
        else:
            lines.append(_line(label, rent))
            lines += [_line(f"VAT {rate.normalize()} %", ZERO, rate, tax) for rate, tax in vat.items()]
    order = [LineKind.FEE, LineKind.TAX, LineKind.CREDIT, LineKind.CANCELLATION]
    for kind in order:
        for (k, code, text, rate), value in sums.items():
            if k != kind or not value or (k == LineKind.TAX and rate is not None):
                continue
            default = {"credit": "Credit", "cancellation": "Cancellation fee (kept)"}.get(kind, code)
            lines.append(_line(text if kind in (LineKind.FEE, LineKind.TAX) else default, value))
    return lines


def _scaled(lines: list[dict], delta: Decimal, currency: str) -> list[dict]:
    """``lines`` scaled to add up to ``delta`` (a credit note or further invoice on them)."""
    base = sum((Decimal(x["total"]) for x in lines), ZERO)
    if not base:
        return [_line("Correction", delta)]
    factor = delta / base
    out = []
    for x in lines:
        net = round_money(Decimal(x["net"]) * factor, currency)
        tax = round_money(Decimal(x["tax"]) * factor, currency)
        out.append(_line(x["label"], net, Decimal(x["rate"]) if x["rate"] else None, tax))
    rest = delta - sum((Decimal(x["total"]) for x in out), ZERO)
    if rest:
        last = out[-1]
        out[-1] = _line(
            last["label"], Decimal(last["net"]) + rest, Decimal(last["rate"]) if last["rate"] else None,
            Decimal(last["tax"]),
        )  # fmt: skip
    return out


def _seller(owner_id: int, prop) -> dict:
    legal = OwnerLegal.objects.filter(owner_id=owner_id).first()
    if legal is not None:
        return {
            "name": legal.legal_name,
            "address": legal.address,
            "vat_id": legal.vat_id,
            "tax_number": legal.tax_number,
            "email": legal.email,
            "prefix": legal.invoice_prefix,
        }
    owner = prop.owner
    return {"name": owner.get_full_name() or owner.get_username(), "address": "", "vat_id": "", "prefix": "INV"}


def _buyer(booking: Booking) -> dict:
    contact = booking.guest_contact or {}
    guest = booking.guest
    name = guest.full_name if guest else f"{contact.get('first_name', '')} {contact.get('last_name', '')}".strip()
    return {
        "name": name,
        "email": (guest.email if guest else "") or contact.get("email", ""),
        "country": (guest.country if guest else "") or contact.get("country", ""),
        "language": (guest.language if guest else "") or contact.get("language", "") or "en",
    }


def invoice_sync(*, booking: Booking, now=None) -> Invoice | None:
    """Issue what makes the booking's documents add up to what the ledger charges (see module doc).
    Runs in the caller's transaction, the booking locked. Returns the document issued, if any."""
    if booking.source not in INVOICED_SOURCES:
        return None
    documents = list(Invoice.objects.filter(booking_id=booking.pk).order_by("number"))
    if not documents and booking.status not in INVOICED_STATUSES:
        return None
    charged = (
        LedgerLine.objects.filter(booking_id=booking.pk, kind__in=CHARGE_KINDS).aggregate(s=Sum("amount"))["s"] or ZERO
    )
    delta = charged - sum((d.total for d in documents), ZERO)
    if not delta:
        return None
    now = now or timezone.now()
    prop = booking.property
    if not documents:
        kind, lines, corrects, reason = Invoice.Kind.INVOICE, _stay_lines(booking), None, ""
    else:
        first = documents[0]
        kind = Invoice.Kind.CREDIT_NOTE if delta < 0 else Invoice.Kind.INVOICE
        lines, corrects = _scaled(first.lines, delta, booking.currency), first
        if booking.status == BookingStatus.CANCELLED:
            reason = "Cancellation" if delta < 0 else "Cancellation fee"
        else:
            reason = "Refund" if delta < 0 else "Change of booking"
    seller = _seller(prop.owner_id, prop)
    buyer = _buyer(booking)
    number = next_invoice_number(owner_id=prop.owner_id)
    net = sum((Decimal(x["net"]) for x in lines), ZERO)
    tax = sum((Decimal(x["tax"]) for x in lines), ZERO)
    return Invoice.objects.create(
        owner_id=prop.owner_id,
        booking_id=booking.pk,
        property_id=booking.property_id,
        kind=kind,
        number=number,
        display_number=f"{seller.get('prefix') or 'INV'}-{number:06d}",
        corrects=corrects,
        issued_at=now,
        language=buyer["language"],
        currency=booking.currency,
        seller=seller,
        buyer=buyer,
        lines=lines,
        net=net,
        tax=tax,
        total=net + tax,
        reason=reason,
    )
