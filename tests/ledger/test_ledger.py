"""The ledger: lines written by the services that change money, in their transaction; append-only;
they reconcile with the booking (stay lines == total; a cancellation keeps what was paid less what
was given back); the backfill brings older bookings in. Stripe is the local sandbox over HTTP."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingSource, BookingStatus, PaymentStatus
from apps.ledger.models import LedgerLine, LineKind
from apps.ledger.selectors import booking_money, ledger_drift, stay_charges
from apps.payments import services as payment_services
from apps.payments.models import Payment, Refund
from tests.factories import PropertyFactory, future

pytestmark = pytest.mark.django_db

GUEST = booking_services.GuestData(first_name="Gina", last_name="Gast", email="gina@example.com")


def _book(prop, *, start=30, nights=3, **kwargs) -> Booking:
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(start),
        check_out=future(start + nights),
        guests=kwargs.pop("guests", 2),
        guest=GUEST,
        **kwargs,
    )


def _lines(booking, **filters):
    return list(LedgerLine.objects.filter(booking=booking, **filters).order_by("pk"))


def test_a_new_booking_is_written_as_lines_that_sum_to_its_total(prop):
    booking = _book(prop, status=BookingStatus.CONFIRMED)  # 3 nights x 100 + 30 cleaning
    rent = _lines(booking, kind=LineKind.RENT)
    assert [line.night for line in rent] == [future(30), future(31), future(32)]
    assert all(line.nights == 1 and line.amount == Decimal("100.00") for line in rent)
    assert [(line.kind, line.code, line.amount) for line in _lines(booking, kind=LineKind.FEE)] == [
        ("fee", "cleaning_fee", Decimal("30.00"))
    ]
    assert stay_charges(booking) == booking.total_price == Decimal("330.00")
    assert {line.entry for line in _lines(booking)} == {"booking.created"}
    assert booking_money(booking_id=booking.pk)["balance"] == Decimal("330.00")  # nothing paid yet
    assert ledger_drift() == []


def test_taxes_and_discounts_come_from_the_price_snapshot(prop):
    from apps.availability.models import PricingRule

    for name, rule_type, kind, value in [
        ("Weekly", "length_of_stay", "percentage", "-10"),
        ("VAT 7%", "tax_percentage", "percentage", "7"),
        ("City tax", "tax_per_person_night", "fixed", "2.50"),
    ]:
        PricingRule.objects.create(
            property=prop,
            name=name,
            rule_type=rule_type,
            adjustment_type=kind,
            adjustment_value=Decimal(value),
            conditions={"min_nights": 7} if rule_type == "length_of_stay" else {},
        )
    booking = _book(prop, nights=7, status=BookingStatus.CONFIRMED)
    snapshot = booking.price_snapshot
    assert [t.amount for t in _lines(booking, kind=LineKind.TAX)] == [Decimal(t["amount"]) for t in snapshot["taxes"]]
    assert [t.rate for t in _lines(booking, kind=LineKind.TAX)] == [Decimal("7"), None]
    (discount,) = _lines(booking, kind=LineKind.DISCOUNT)
    assert discount.amount == Decimal("-70.00") and discount.label == "Weekly"
    assert stay_charges(booking) == booking.total_price


def test_ledger_lines_are_append_only(prop):
    booking = _book(prop)
    line = _lines(booking)[0]
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerLine.objects.filter(pk=line.pk).update(amount=Decimal("1.00"))
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_ledgerline WHERE id = %s", [line.pk])
    assert LedgerLine.objects.get(pk=line.pk).amount == line.amount


@pytest.mark.django_db(transaction=True)
def test_ledger_writes_outside_a_transaction_are_refused(prop):
    from apps.ledger import services as ledger

    booking = _book(prop)
    with pytest.raises(RuntimeError):
        ledger.booking_ledger_sync(booking=booking, entry="x")


def test_a_date_change_reverses_the_old_nights_and_posts_the_new(prop):
    booking = _book(prop, status=BookingStatus.CONFIRMED)
    before = LedgerLine.objects.filter(booking=booking).count()
    booking_services.booking_update(booking_id=booking.pk, check_in=future(40), check_out=future(43))
    booking.refresh_from_db()
    changed = _lines(booking, entry="booking.changed")
    assert len(changed) == 2 * before  # every line reversed, then the new ones
    # moved without a new price: the cleaning fee stays a fee, the rest is rent over the new nights
    assert [(line.kind, line.amount) for line in changed if not line.reverses_id] == [
        ("rent", Decimal("100.00")),
        ("rent", Decimal("100.00")),
        ("rent", Decimal("100.00")),
        ("fee", Decimal("30.00")),
    ]
    reversals = [line for line in changed if line.reverses_id]
    assert {line.reverses_id for line in reversals} == {line.pk for line in _lines(booking)[:before]}
    standing = LedgerLine.objects.filter(booking=booking, kind=LineKind.RENT).values("night").annotate(n=Sum("nights"))
    assert {row["night"] for row in standing if row["n"]} == {future(40), future(41), future(42)}
    assert stay_charges(booking) == booking.total_price
    # Only the special requests change: no money moved, no line written.
    count = LedgerLine.objects.filter(booking=booking).count()
    booking_services.booking_update(booking_id=booking.pk, special_requests="Late arrival")
    assert LedgerLine.objects.filter(booking=booking).count() == count
    assert ledger_drift() == []


def test_lifecycle_moves_post_nothing_until_the_stay_is_cancelled(prop):
    booking = _book(prop)  # a hold
    booking_services.booking_confirm(booking_id=booking.pk)
    assert {line.entry for line in _lines(booking)} == {"booking.created"}
    booking_services.booking_cancel(booking_id=booking.pk)
    booking.refresh_from_db()
    assert stay_charges(booking) == 0 and booking_money(booking_id=booking.pk)["charged"] == 0
    assert len(_lines(booking, entry="booking.cancelled")) == len(_lines(booking, entry="booking.created"))
    assert ledger_drift() == []


def test_an_inquiry_charges_nothing_until_it_holds_dates(prop):
    booking = _book(prop, status=BookingStatus.INQUIRY)
    assert _lines(booking) == []
    booking_services.booking_transition(booking_id=booking.pk, to_status=BookingStatus.RESERVED)
    assert stay_charges(booking) == booking.total_price


def test_a_channel_booking_with_a_platform_total_and_commission(prop):
    booking = _book(
        prop,
        nights=3,
        source=BookingSource.BOOKING_COM,
        external_id="BDC-1",
        status=BookingStatus.CONFIRMED,
        total_price=Decimal("400.00"),
        payment_status=PaymentStatus.NOT_REQUIRED,
        enforce_rules=False,
        commission=Decimal("60.00"),
    )
    rent = _lines(booking, kind=LineKind.RENT)
    assert [line.amount for line in rent] == [Decimal("133.33"), Decimal("133.33"), Decimal("133.34")]
    assert stay_charges(booking) == Decimal("400.00")
    (commission,) = _lines(booking, kind=LineKind.COMMISSION)
    assert commission.amount == Decimal("-60.00") and commission.code == "booking_com"
    # The platform moves it and reports a new price and commission.
    booking_services.booking_change_stay(
        booking_id=booking.pk,
        check_in=future(30),
        check_out=future(32),
        total_price=Decimal("280.00"),
        commission=Decimal("42.00"),
    )
    booking.refresh_from_db()
    assert stay_charges(booking) == Decimal("280.00")
    assert booking_money(booking_id=booking.pk)["commission"] == Decimal("-42.00")
    booking_services.booking_cancel(booking_id=booking.pk, source=BookingSource.BOOKING_COM)
    assert booking_money(booking_id=booking.pk)["commission"] == 0
    assert ledger_drift() == []


def test_a_recorded_payment_then_a_cancellation_with_a_partial_refund(alice):
    prop = PropertyFactory(owner=alice, cancellation_policy="moderate")
    booking = _book(prop, start=20, nights=2, status=BookingStatus.CONFIRMED)  # 230 EUR
    payment = payment_services.payment_record(booking_id=booking.pk, amount=booking.total_price, reference="T-1")
    assert payment_services.payment_record(booking_id=booking.pk, amount=booking.total_price, reference="T-1") == (
        payment
    )
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.PAID
    money = booking_money(booking_id=booking.pk)
    assert money["payment"] == Decimal("230.00") and money["balance"] == 0

    starts_at = timezone.make_aware(timezone.datetime.combine(booking.check_in, prop.check_in_time), prop.tz)
    result = payment_services.booking_cancel_by_guest(booking_id=booking.pk, now=starts_at - timedelta(days=3))
    assert result.status == Refund.Status.SUCCEEDED and result.amount == Decimal("115.00")
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    money = booking_money(booking_id=booking.pk)
    assert money["refund"] == Decimal("-115.00")
    assert money["cancellation"] == Decimal("115.00")  # what the owner keeps
    assert stay_charges(booking) == 0
    assert money["charged"] == money["paid"] == Decimal("115.00") and money["balance"] == 0
    assert ledger_drift() == []


def test_stripe_payment_and_refunds_are_posted_once(alice, stripe_sandbox, client):
    prop = PropertyFactory(owner=alice)
    booking = _book(prop, start=20, nights=2)
    result = payment_services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert result.succeeded, result.message
    payment = Payment.objects.get(booking=booking)
    payment_services.payment_sync(payment_id=payment.pk)  # applied again: posts nothing twice
    (line,) = _lines(booking, kind=LineKind.PAYMENT)
    assert line.amount == Decimal("230.00") and line.payment_id == payment.pk and line.entry == "payment.succeeded"

    # An owner's goodwill refund on a stay that goes ahead: a credit on it.
    payment_services.refund_create(
        payment_id=payment.pk,
        amount=Decimal("30.00"),
        kind=Refund.Kind.OWNER,
        reason="Broken dryer",
        idempotency_key="goodwill-1",
    )
    money = booking_money(booking_id=booking.pk)
    assert money["credit"] == Decimal("-30.00") and money["refund"] == Decimal("-30.00") and money["balance"] == 0
    assert stay_charges(booking) == booking.total_price  # the stay's own price is unchanged

    # Then the owner cancels, giving back everything that is left: the credit goes with the stay.
    payment_services.booking_cancel_with_refund(booking_id=booking.pk, refund="full")
    money = booking_money(booking_id=booking.pk)
    assert money["refund"] == Decimal("-230.00") and money["credit"] == 0 and money["cancellation"] == 0
    assert money["charged"] == money["paid"] == 0
    assert ledger_drift() == []


def test_a_late_payment_on_a_lapsed_hold_nets_to_zero(alice, stripe_sandbox):
    from apps.payments import gateway

    booking = _book(PropertyFactory(owner=alice), start=20, nights=2)
    payment = payment_services.checkout_start(booking_id=booking.pk)
    gateway.sandbox_confirm_with_card(
        intent_id=payment.intent_id, number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    booking_services.holds_expire(now=booking.hold_expires_at + timedelta(seconds=1))
    payment_services.payment_sync(payment_id=payment.pk)  # applies the success: refunded in full
    money = booking_money(booking_id=booking.pk)
    assert money["payment"] == Decimal("230.00") and money["refund"] == Decimal("-230.00")
    assert money["charged"] == money["paid"] == 0
    assert ledger_drift() == []


def test_backfill_brings_older_bookings_in_once(prop):
    """A booking and payments written before the ledger existed (straight into the tables)."""
    booking = Booking.objects.create(
        reference="OLD-1",
        property=prop,
        check_in=future(5),
        check_out=future(7),
        guests=1,
        status=BookingStatus.CANCELLED,
        total_price=Decimal("230.00"),
        payment_status=PaymentStatus.PARTIALLY_REFUNDED,
    )
    payment = Payment.objects.create(
        booking=booking,
        intent_id="pi_old",
        idempotency_key="old",
        amount=Decimal("230.00"),
        currency="EUR",
        status=Payment.Status.SUCCEEDED,
        amount_received=Decimal("230.00"),
        amount_refunded=Decimal("100.00"),
        succeeded_at=timezone.now(),
    )
    Refund.objects.create(
        booking=booking,
        payment=payment,
        kind=Refund.Kind.OWNER,
        amount=Decimal("100.00"),
        currency="EUR",
        status=Refund.Status.SUCCEEDED,
        reason="old",
        idempotency_key="old-r",
    )
    live = Booking.objects.create(
        reference="OLD-2",
        property=prop,
        check_in=future(10),
        check_out=future(12),
        guests=1,
        status=BookingStatus.CONFIRMED,
        total_price=Decimal("199.99"),
    )
    assert {row["reference"] for row in ledger_drift()} == {"OLD-2"}  # the cancelled one: 0 charged, 0 posted
    out = io.StringIO()
    with pytest.raises(Exception, match="do not reconcile"):
        call_command("ledger_backfill", "--check", stdout=out)
    call_command("ledger_backfill", stdout=out)
    assert "2 booking(s) brought into the ledger" in out.getvalue()
    assert "Every booking reconciles" in out.getvalue()
    money = booking_money(booking_id=booking.pk)
    assert money["cancellation"] == money["paid"] == Decimal("130.00")
    assert stay_charges(live) == Decimal("199.99")
    count = LedgerLine.objects.count()
    call_command("ledger_backfill", stdout=io.StringIO())
    assert LedgerLine.objects.count() == count
