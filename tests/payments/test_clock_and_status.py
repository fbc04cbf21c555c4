"""Holds decided by the clock, and payment status derived from the payments (issue 12, findings 4 and 7).

Real ``stripe`` SDK against the Stripe sandbox over HTTP; the webhook path re-reads the PaymentIntent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.payments import gateway, services
from apps.payments.models import Payment, Refund
from tests.factories import future

from .test_payments import event_body, pay_on_stripe_only, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def reserved(prop, stripe_sandbox):
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(30),
        check_out=future(33),
        guests=2,
        guest=booking_services.GuestData(first_name="Gina", email="gina@example.com"),
    )


def test_money_taken_after_the_hold_lapsed_is_refunded_before_the_expiry_task_ran(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    # the hold lapses, then the guest's payment goes through on Stripe; beat has not expired the hold
    lapsed_at = timezone.now() - timedelta(seconds=30)
    Booking.objects.filter(pk=reserved.pk).update(hold_expires_at=lapsed_at)
    pay_on_stripe_only(payment)
    body = event_body(event_id="evt_clock_late", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, body).status_code == 200
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.CANCELLED
    assert reserved.cancellation_reason == services.HOLD_EXPIRED_REASON
    refund = Refund.objects.get(payment=payment)
    assert refund.kind == Refund.Kind.LATE_PAYMENT and refund.status == Refund.Status.SUCCEEDED
    assert reserved.payment_status == PaymentStatus.REFUNDED
    # the charge time is Stripe's, and it is after the hold's end
    assert payment.succeeded_at > lapsed_at


def test_money_taken_in_time_confirms_even_if_we_learn_of_it_after_the_hold_lapsed(reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)  # in time
    intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)
    assert intent.paid_at is not None and intent.paid_at <= reserved.hold_expires_at
    # the webhook reaches us only after the hold's end (beat has not run): Stripe's charge time decides
    late = reserved.hold_expires_at + timedelta(minutes=1)
    services.payment_apply_intent(intent=intent, now=late)
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.CONFIRMED and reserved.payment_status == PaymentStatus.PAID
    assert payment.succeeded_at == intent.paid_at and not payment.refunds.exists()


def test_paid_at_is_read_from_the_successful_charge():
    data = {
        "status": "succeeded",
        "charges": {"data": [{"status": "failed", "created": 100}, {"status": "succeeded", "created": 200}]},
    }
    assert gateway._paid_at(data) == datetime.fromtimestamp(200, tz=UTC)
    assert gateway._paid_at({"status": "succeeded", "latest_charge": {"status": "succeeded", "created": 300}}) == (
        datetime.fromtimestamp(300, tz=UTC)
    )
    assert gateway._paid_at({"status": "succeeded", "latest_charge": "ch_123"}) is None
    assert (
        gateway._paid_at({"status": "processing", "charges": {"data": [{"status": "succeeded", "created": 1}]}}) is None
    )


def test_payment_status_drift_is_repaired_by_the_next_apply_and_by_the_sweep(client, reserved):
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert result.succeeded
    payment = Payment.objects.get(booking=reserved, status=Payment.Status.SUCCEEDED)
    # a crash between saving the payment and deriving the booking's status
    Booking.objects.filter(pk=reserved.pk).update(payment_status=PaymentStatus.PENDING)
    # a replayed webhook changes no payment field, and still derives the status again
    body = event_body(event_id="evt_drift", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, body).status_code == 200
    reserved.refresh_from_db()
    assert reserved.payment_status == PaymentStatus.PAID
    # drift nobody touches again: the sweep's repair pass finds and fixes it
    Booking.objects.filter(pk=reserved.pk).update(payment_status=PaymentStatus.FAILED)
    assert services.payment_status_repair() == [reserved.pk]
    reserved.refresh_from_db()
    assert reserved.payment_status == PaymentStatus.PAID
    Booking.objects.filter(pk=reserved.pk).update(payment_status=PaymentStatus.PENDING)
    assert services.payments_sweep()["status_repaired"] == 1
    assert services.payment_status_repair() == []
    reserved.refresh_from_db()
    assert reserved.payment_status == PaymentStatus.PAID
