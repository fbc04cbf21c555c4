"""Pictures of a statement and an invoice as their readers get them: the PDFs are rendered (PDFium) to
PNG under artifacts/screenshots/ and kept with the PDFs (artifacts/money/), as CI keeps its screenshots."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest

from apps.availability.models import PricingRule
from apps.bookings import services as booking_services
from apps.bookings.models import BookingStatus
from apps.ledger import services as ledger_services
from apps.ledger.models import Invoice
from apps.ledger.render import invoice_pdf, statement_pdf
from apps.ledger.selectors import booking_cash, owner_statement
from apps.payments import services as payment_services
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2] / "artifacts"


def _keep(name: str, pdf: bytes) -> Path:
    (ROOT / "money").mkdir(parents=True, exist_ok=True)
    (ROOT / "screenshots").mkdir(parents=True, exist_ok=True)
    (ROOT / "money" / f"{name}.pdf").write_bytes(pdf)
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=1.6).to_pil()
    path = ROOT / "screenshots" / f"{name}.png"
    image.save(path)
    # something is drawn: plenty of dark pixels on the page
    dark = sum(1 for px in image.convert("L").getdata() if px < 128)
    assert dark > 2000, dark
    return path


def test_statement_and_invoice_pictures(alice, month_data):
    d = month_data
    ledger_services.owner_legal_set(
        owner_id=alice.pk, legal_name="Alice Ferienwohnungen GmbH", address="Hauptstr. 1\n10115 Berlin",
        vat_id="DE123456789", invoice_prefix="AF",
    )  # fmt: skip
    statement = owner_statement(owner_id=alice.pk, start=d["start"], end=d["end"])
    assert _keep("money-owner-statement", statement_pdf(statement)).exists()

    prop = PropertyFactory(owner=alice, name="Alice's Lake House")
    PricingRule.objects.create(
        property=prop, name="VAT 7%", rule_type="tax_percentage", adjustment_type="percentage",
        adjustment_value=Decimal("7"), conditions={},
    )  # fmt: skip
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(30), check_out=future(33), guests=2, status=BookingStatus.CONFIRMED,
        guest=booking_services.GuestData(first_name="Ana", last_name="Silva", email="ana@example.com", country="PT"),
    )  # fmt: skip
    payment_services.payment_record(booking_id=booking.pk, amount=booking.total_price, reference="bank")
    invoice = Invoice.objects.get(booking=booking)
    assert invoice.seller["name"] == "Alice Ferienwohnungen GmbH"
    assert _keep("money-guest-invoice", invoice_pdf(invoice, cash=booking_cash(booking_id=booking.pk))).exists()
    credit = Invoice.objects.filter(booking=d["cancelled"], kind="credit_note").first()
    assert _keep("money-credit-note", invoice_pdf(credit)).exists()
