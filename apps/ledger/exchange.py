"""Exports (bookings, guests, payments as CSV, scoped by ``visible_to``) and the import of existing
bookings and blocked dates from CSV for owners moving in from another system.

The import sends every row through the one write path (``booking_create``, ``block_create``), each row
in its own transaction: a row is imported whole or not at all, and a refused row (a conflict with
another stay, a bad date, a property the importer may not change) is reported with its line number and
reason while the others go in. A row's ``client_reference`` is derived from its content, so importing the
same file again reports the rows already there instead of importing them twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from apps.availability import services as availability_services
from apps.bookings import services as booking_services
from apps.bookings.errors import BookingConflict, ClientReferenceTaken
from apps.bookings.models import Booking, BookingSource, BookingStatus, Guest
from apps.core.errors import DomainError
from apps.core.limits import max_amount
from apps.payments.models import Payment
from apps.properties.models import Property

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
IMPORT_COLUMNS = (
    "type", "property", "check_in", "check_out", "guests", "first_name", "last_name", "email", "phone", "country",
    "language", "total_price", "source", "status", "external_id", "note",
)  # fmt: skip


def _safe(value: Any) -> Any:
    """Text cells never start a spreadsheet formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv(header: list[str], rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
    return out.getvalue()


def export_bookings(*, user: Any) -> str:
    header = [
        "reference", "property", "source", "external_id", "status", "check_in", "check_out", "nights", "guests",
        "guest_name", "guest_email", "total_price", "currency", "payment_status", "created_at", "cancelled_at",
    ]  # fmt: skip
    qs = Booking.objects.visible_to(user).select_related("property", "guest").order_by("check_in", "pk")
    return _csv(
        header,
        (
            [
                b.reference,
                b.property.name,
                b.source,
                b.external_id or "",
                b.status,
                b.check_in,
                b.check_out,
                b.nights,
                b.guests,
                b.guest.full_name if b.guest else "",
                b.guest.email if b.guest else "",
                b.total_price,
                b.currency,
                b.payment_status,
                b.created_at.isoformat(),
                b.cancelled_at.isoformat() if b.cancelled_at else "",
            ]  # fmt: skip
            for b in qs.iterator(chunk_size=500)
        ),
    )


def export_guests(*, user: Any) -> str:
    header = ["id", "first_name", "last_name", "email", "phone", "country", "language", "created_at"]
    qs = Guest.objects.visible_to(user).order_by("pk")
    return _csv(
        header,
        (
            [g.pk, g.first_name, g.last_name, g.email, g.phone, g.country, g.language, g.created_at.isoformat()]
            for g in qs.iterator(chunk_size=500)
        ),
    )


def export_payments(*, user: Any) -> str:
    header = [
        "id", "booking", "provider", "status", "amount", "amount_received", "amount_refunded", "currency",
        "succeeded_at", "created_at",
    ]  # fmt: skip
    qs = Payment.objects.visible_to(user).select_related("booking").order_by("pk")
    return _csv(
        header,
        (
            [
                p.pk,
                p.booking.reference,
                p.provider,
                p.status,
                p.amount,
                p.amount_received,
                p.amount_refunded,
                p.currency,
                p.succeeded_at.isoformat() if p.succeeded_at else "",
                p.created_at.isoformat(),
            ]  # fmt: skip
            for p in qs.iterator(chunk_size=500)
        ),
    )


EXPORTS = {"bookings": export_bookings, "guests": export_guests, "payments": export_payments}


# --- import ---------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    imported: list[dict] = field(default_factory=list)  # {"line", "kind", "id", "reference"}
    refused: list[dict] = field(default_factory=list)  # {"line", "code", "message"}

    @property
    def summary(self) -> str:
        return f"{len(self.imported)} row(s) imported, {len(self.refused)} refused."


class RowError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _date(row: dict, name: str) -> date:
    value = (row.get(name) or "").strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError("invalid", f"{name} must be a date like 2026-07-01, not “{value[:40]}”.")


def _property(row: dict, managed: dict[str, Property]) -> Property:
    key = (row.get("property") or "").strip()
    prop = managed.get(key)
    if prop is None:
        raise RowError("property", f"No property “{key[:60]}” that you may change (give its id or slug).")
    return prop


def _import_row(row: dict, *, managed: dict[str, Property], user: Any) -> dict:
    kind = (row.get("type") or "booking").strip().lower()
    prop = _property(row, managed)
    check_in, check_out = _date(row, "check_in"), _date(row, "check_out")
    if kind == "block":
        block = availability_services.block_create(
            property_id=prop.pk,
            start_date=check_in,
            end_date=check_out,
            block_type="blocked",
            note=(row.get("note") or "Imported")[:200],
        )
        return {"kind": "block", "id": block.pk, "reference": ""}
    if kind != "booking":
        raise RowError("invalid", f"type must be booking or block, not “{kind[:20]}”.")
    try:
        guests = int((row.get("guests") or "1").strip())
    except ValueError:
        raise RowError("invalid", "guests must be a whole number.")
    total = None
    if (row.get("total_price") or "").strip():
        try:
            total = Decimal(row["total_price"].strip())
        except InvalidOperation:
            raise RowError("invalid", "total_price must be an amount like 450.00.")
        if not total.is_finite() or total < 0:
            raise RowError("invalid", "total_price must be an amount like 450.00.")
        if total > max_amount():  # 1e20 overflowed the column (a 500)
            raise RowError("invalid", f"total_price is larger than {max_amount()}.")
    source = (row.get("source") or BookingSource.DIRECT).strip()
    status = (row.get("status") or BookingStatus.CONFIRMED).strip()
    if status not in (BookingStatus.CONFIRMED, BookingStatus.INQUIRY):
        raise RowError("invalid", "status must be confirmed or inquiry.")
    external_id = (row.get("external_id") or "").strip() or None
    digest = hashlib.sha256(
        "|".join(
            [str(prop.pk), str(check_in), str(check_out), (row.get("email") or "").strip().lower(), external_id or ""]
        ).encode()  # fmt: skip
    ).hexdigest()[:24]
    first = (row.get("first_name") or "").strip() or "Guest"
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        source=source,
        status=status,
        external_id=external_id,
        total_price=total,
        currency=prop.currency if total is not None else None,
        guest=booking_services.GuestData(
            first_name=first,
            last_name=row.get("last_name") or "",
            email=row.get("email") or "",
            phone=row.get("phone") or "",
            country=row.get("country") or "",
            language=(row.get("language") or "en").strip(),
        ),
        enforce_rules=False,
        actor=user,
        client_reference=f"import:{digest}",
    )
    return {"kind": "booking", "id": booking.pk, "reference": booking.reference}


def bookings_import(*, user: Any, data: bytes | str) -> ImportResult:
    """Import the CSV (header row with ``IMPORT_COLUMNS``; ``type`` booking or block). Each row through
    the one write path in its own transaction; refused rows are reported with their line number."""
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise DomainError(f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError("The file is not UTF-8 text (save it as CSV UTF-8).")
    if "\x00" in data:
        raise DomainError("The file contains null characters; it is not a CSV file.")
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = {"property", "check_in", "check_out"} - set(header)
    if missing:
        raise DomainError(f"The header row lacks: {', '.join(sorted(missing))}.")
    reader.fieldnames = header
    managed: dict[str, Property] = {}
    for prop in Property.objects.managed_by(user):
        managed[str(prop.pk)] = prop
        managed[prop.slug] = prop
    result = ImportResult()
    for n, row in enumerate(reader, start=2):
        if n - 1 > MAX_IMPORT_ROWS:
            result.refused.append({"line": n, "code": "too_many", "message": f"Only {MAX_IMPORT_ROWS} rows per file."})
            break
        row = {k: (v if isinstance(v, str) else "") for k, v in row.items() if k}
        try:
            done = _import_row(row, managed=managed, user=user)
        except RowError as exc:
            result.refused.append({"line": n, "code": exc.code, "message": exc.message})
        except ClientReferenceTaken as exc:
            ref = exc.details.get("reference", "")
            result.refused.append({"line": n, "code": "already_imported", "message": f"Already imported ({ref})."})
        except BookingConflict as exc:
            result.refused.append({"line": n, "code": "conflict", "message": str(exc)})
        except DomainError as exc:
            result.refused.append({"line": n, "code": getattr(exc, "code", "invalid"), "message": str(exc)})
        else:
            result.imported.append({"line": n, **done})
    return result
