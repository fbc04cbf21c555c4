"""Guest invoices and credit notes: issued from the ledger when a direct booking is confirmed, gapless
numbers per owner (raced, and a rolled-back invoice gives its number back), VAT breakdown, credit
notes for cancellations and refunds, PDFs in the guest's language read back as text, the guest's signed
link from the confirmation page, the portal and the e-mail; channel bookings get none."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from apps.availability.models import PricingRule
from apps.bookings import services as booking_services
from apps.bookings import tokens
from apps.bookings.emails import send_booking_confirmation
from apps.bookings.models import BookingSource, BookingStatus, PaymentStatus
from apps.ledger import services as ledger_services
from apps.ledger.invoices import invoice_sync
from apps.ledger.models import Invoice
from apps.ledger.render import invoice_pdf
from apps.ledger.selectors import booking_money
from apps.payments import services as payment_services
from tests.factories import PropertyFactory, future
from tests.foundation.test_concurrency import run_parallel

pytestmark = pytest.mark.django_db

D = Decimal


def _book(prop, start: int, nights: int = 2, language: str = "en", **kwargs):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(start),
        check_out=future(start + nights),
        guests=2,
        guest=booking_services.GuestData(
            first_name="Gina", last_name="Gast", email=f"gina{start}@example.com", language=language
        ),
        **kwargs,
    )


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def vat_prop(alice):
    prop = PropertyFactory(owner=alice, name="Alice's Loft", cancellation_policy="moderate")
    PricingRule.objects.create(
        property=prop, name="VAT 7%", rule_type="tax_percentage", adjustment_type="percentage",
        adjustment_value=D("7"), conditions={},
    )  # fmt: skip
    ledger_services.owner_legal_set(
        owner_id=alice.pk, legal_name="Alice Ferienwohnungen GmbH", address="Hauptstr. 1\n10115 Berlin",
        vat_id="DE123456789", invoice_prefix="AF",
    )  # fmt: skip
    return prop


def test_a_confirmed_direct_booking_gets_its_invoice_with_a_vat_breakdown(client, vat_prop):
    hold = _book(vat_prop, 20)
    assert not Invoice.objects.exists()  # a hold is not invoiced
    booking = booking_services.booking_confirm(booking_id=hold.pk)
    (invoice,) = Invoice.objects.filter(booking=booking)
    assert (invoice.kind, invoice.number, invoice.display_number) == ("invoice", 1, "AF-000001")
    # 2 nights x 100 = 200 net, 7 % VAT = 14, cleaning fee 30 (no VAT in this pricing): 244
    assert (invoice.net, invoice.tax, invoice.total) == (D("230.00"), D("14.00"), D("244.00"))
    assert invoice.total == booking.total_price
    accommodation = invoice.lines[0]
    assert accommodation["net"] == "200.00" and accommodation["rate"] == "7" and accommodation["tax"] == "14.00"
    assert invoice.seller["vat_id"] == "DE123456789" and invoice.buyer["name"] == "Gina Gast"

    page = client.get(tokens.confirmation_path(reference=booking.reference))
    assert "Invoice AF-000001 (PDF)" in page.content.decode()
    answer = client.get(invoice.guest_path)
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    text = _text(answer.content)
    for needle in ("Invoice AF-000001", booking.reference, "Alice Ferienwohnungen GmbH", "DE123456789", "244.00",
                   "14.00", booking.check_in.isoformat(), booking.check_out.isoformat(), "Gina Gast"):  # fmt: skip
        assert needle in text, needle
    # The link is signed: another token, or another booking's reference with this token, finds nothing.
    assert client.get(invoice.guest_path.replace("?t=", "?t=x")).status_code == 404
    other = booking_services.booking_confirm(booking_id=_book(vat_prop, 40).pk)
    forged = invoice.guest_path.replace(booking.reference, other.reference)
    assert client.get(forged).status_code == 404


def test_the_invoice_is_in_the_guests_language_and_linked_from_the_email(vat_prop):
    booking = _book(vat_prop, 20, language="de", status=BookingStatus.CONFIRMED)
    invoice = Invoice.objects.get(booking=booking)
    assert invoice.guest_label == "Rechnung AF-000001"
    text = _text(invoice_pdf(invoice))
    assert "Rechnung AF-000001" in text and "Unterkunft" in text and "Umsatzsteuer" in text
    mail.outbox.clear()
    send_booking_confirmation(booking_id=booking.pk)
    message = mail.outbox[-1]
    assert invoice.guest_url in message.body and invoice.guest_url.replace("&", "&amp;") in message.alternatives[0][0]


def test_channel_bookings_get_no_invoice(vat_prop):
    _book(
        vat_prop, 20, source=BookingSource.AIRBNB, external_id="HM1", status=BookingStatus.CONFIRMED,
        payment_status=PaymentStatus.NOT_REQUIRED, total_price=D("300"), enforce_rules=False,
    )  # fmt: skip
    assert not Invoice.objects.exists()


def test_a_cancellation_with_a_partial_refund_is_credited_down_to_what_was_kept(vat_prop):
    booking = _book(vat_prop, 20, status=BookingStatus.CONFIRMED)  # 244
    payment_services.payment_record(booking_id=booking.pk, amount=booking.total_price, reference="bank")
    starts_at = timezone.make_aware(timezone.datetime.combine(booking.check_in, vat_prop.check_in_time), vat_prop.tz)
    refund = payment_services.booking_cancel_by_guest(booking_id=booking.pk, now=starts_at - timedelta(days=3))
    assert refund.amount == D("122.00")
    documents = list(Invoice.objects.filter(booking=booking).order_by("number"))
    assert [d.kind for d in documents] == ["invoice", "credit_note"]
    credit = documents[1]
    assert credit.total == D("-122.00") and credit.corrects_id == documents[0].pk and credit.reason == "Cancellation"
    assert sum(d.total for d in documents) == booking_money(booking_id=booking.pk)["charged"] == D("122.00")
    assert credit.tax == D("-7.00")  # the VAT is credited in proportion
    text = _text(invoice_pdf(credit))
    assert "Credit note AF-000002" in text and "AF-000001" in text and "−122.00" in text


def test_numbers_are_per_owner(vat_prop, bob):
    _book(vat_prop, 20, status=BookingStatus.CONFIRMED)
    _book(PropertyFactory(owner=bob), 20, status=BookingStatus.CONFIRMED)
    _book(vat_prop, 30, status=BookingStatus.CONFIRMED)
    assert sorted(Invoice.objects.filter(owner=vat_prop.owner).values_list("number", flat=True)) == [1, 2]
    assert list(Invoice.objects.filter(owner=bob).values_list("number", flat=True)) == [1]


def test_a_rolled_back_invoice_gives_its_number_back(vat_prop):
    first = _book(vat_prop, 20, status=BookingStatus.CONFIRMED)
    second = _book(vat_prop, 30)
    with pytest.raises(RuntimeError), transaction.atomic():
        booking_services.booking_confirm(booking_id=second.pk)
        assert Invoice.objects.get(booking=second).number == 2
        raise RuntimeError("the confirmation fails after its invoice was numbered")
    assert not Invoice.objects.filter(booking=second).exists()
    booking_services.booking_confirm(booking_id=second.pk)
    assert list(Invoice.objects.order_by("number").values_list("booking_id", "number")) == [
        (first.pk, 1), (second.pk, 2)
    ]  # fmt: skip
    with transaction.atomic():
        assert invoice_sync(booking=second) is None  # nothing changed: nothing issued


@pytest.mark.django_db(transaction=True)
def test_invoice_numbers_stay_gapless_under_concurrent_confirmations(alice):
    props = [PropertyFactory(owner=alice) for _ in range(4)]
    holds = [_book(props[i % 4], 20 + 3 * (i // 4)) for i in range(16)]

    def confirm(i: int):
        return booking_services.booking_confirm(booking_id=holds[i].pk)

    results = run_parallel(16, confirm)
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(Invoice.objects.filter(owner=alice).values_list("number", flat=True))
    assert numbers == list(range(1, 17))
    assert Invoice.objects.values("booking_id").distinct().count() == 16
