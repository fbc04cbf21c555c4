"""Payments against the real Stripe SDK and the local Stripe sandbox over HTTP (no mocks)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.urls import reverse
from django.utils import timezone

from apps.bookings import services as booking_services
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.core.models import SyncEvent
from apps.core.money import to_minor
from apps.payments import gateway, services
from apps.payments.gateway import CardDeclined
from apps.payments.models import Payment, Refund, StripeEvent
from tests.factories import PropertyFactory, future
from tests.stripe_fixtures import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "/payments/stripe/webhook/"


@pytest.fixture
def reserved(prop, stripe_sandbox):
    """A reserved direct booking of Alice's loft (3 nights, 330 EUR with cleaning)."""
    return booking_services.booking_create(
        property_id=prop.pk,
        check_in=future(30),
        check_out=future(33),
        guests=2,
        guest=booking_services.GuestData(first_name="Gina", email="gina@example.com"),
    )


def pay_on_stripe_only(payment: Payment, number: str = "4242424242424242"):
    """The guest pays on Stripe; our database learns it only from a webhook or a sync."""
    return gateway.sandbox_confirm_with_card(
        intent_id=payment.intent_id, number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123"
    )


def event_body(*, event_id: str, type_: str, intent_id: str, status: str = "succeeded", extra=None) -> str:
    obj = {"id": intent_id, "object": "payment_intent", "status": status, **(extra or {})}
    return json.dumps(
        {"id": event_id, "object": "event", "type": type_, "created": int(time.time()), "data": {"object": obj}}
    )


def post_event(client, body: str, secret: str = WEBHOOK_SECRET, header: str | None = None):
    header = header or stripe.WebhookSignature.generate_signature_header(body, secret)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


# --- checkout and the test cards ----------------------------------------------------------------------


def test_checkout_start_creates_one_intent_with_the_booking_amount(reserved):
    first = services.checkout_start(booking_id=reserved.pk)
    again = services.checkout_start(booking_id=reserved.pk)
    assert first.pk == again.pk
    assert Payment.objects.filter(booking=reserved).count() == 1
    intent = gateway.payment_intent_retrieve(intent_id=first.intent_id)
    assert intent.amount == to_minor(reserved.total_price, "EUR") == 33000
    assert intent.currency == "EUR"
    assert intent.metadata["booking_id"] == str(reserved.pk)
    assert first.client_secret.startswith(first.intent_id)


def test_checkout_start_refuses_a_cancelled_booking(reserved):
    booking_services.booking_cancel(booking_id=reserved.pk)
    with pytest.raises(services.Conflict):
        services.checkout_start(booking_id=reserved.pk)


def test_card_4242_pays_and_confirms_the_booking(reserved):
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242 4242 4242 4242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert result.succeeded, result.message
    assert "confirmed" in result.message
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.CONFIRMED
    assert reserved.payment_status == PaymentStatus.PAID
    payment = Payment.objects.get(booking=reserved)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.amount_received == Decimal("330.00")
    assert payment.settled_at is not None
    # Paying again changes nothing and says so.
    again = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert again.succeeded and "already paid" in again.message


@pytest.mark.parametrize(
    "number, message",
    [
        ("4000000000000002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
    ],
)
def test_declined_cards_keep_the_hold(reserved, number, message):
    hold = reserved.hold_expires_at
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number=number, exp_month=12, exp_year=2034, cvc="123"
    )
    assert not result.succeeded
    assert result.message.startswith(message)
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.RESERVED
    assert reserved.hold_expires_at == hold
    payment = Payment.objects.get(booking=reserved)
    assert payment.status == Payment.Status.REQUIRES_PAYMENT_METHOD
    assert payment.last_error == message
    # Stripe's own view agrees: the PaymentIntent waits for another card.
    intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)
    assert intent.status == "requires_payment_method"
    assert intent.error_message == message
    # ... and another card then pays the same PaymentIntent.
    ok = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert ok.succeeded, ok.message
    assert Payment.objects.filter(booking=reserved).count() == 1


@pytest.mark.parametrize(
    "number, exp_year, cvc, message",
    [
        ("4242424242424241", 2034, "123", "Your card number is incorrect."),
        ("4242424242424242", 2019, "123", "Your card's expiration year is invalid."),
        ("4242424242424242", 2034, "12", "Your card's security code is invalid."),
    ],
)
def test_bad_card_data_is_refused_before_stripe(reserved, number, exp_year, cvc, message):
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number=number, exp_month=12, exp_year=exp_year, cvc=cvc
    )
    assert not result.succeeded and result.message == message
    assert not Payment.objects.filter(booking=reserved).exists()


def test_card_form_only_with_the_sandbox(reserved, settings):
    settings.STRIPE_SANDBOX = False
    with pytest.raises(gateway.PaymentsNotConfigured):
        services.sandbox_card_pay(
            booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
        )


def test_idempotency_key_replays_on_the_sandbox(stripe_sandbox):
    args = {"amount": 1000, "currency": "EUR", "metadata": {"booking_id": "0"}, "idempotency_key": "test-key-1"}
    assert gateway.payment_intent_create(**args).id == gateway.payment_intent_create(**args).id
    with pytest.raises(gateway.GatewayError):
        gateway.payment_intent_create(**{**args, "amount": 2000})


# --- webhooks -----------------------------------------------------------------------------------------


def test_webhook_success_confirms_the_booking(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.RESERVED  # nothing applied yet
    body = event_body(event_id="evt_ok_1", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    response = post_event(client, body)
    assert response.status_code == 200, response.content
    assert response.json()["duplicate"] is False
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.CONFIRMED
    record = StripeEvent.objects.get(event_id="evt_ok_1")
    assert record.processed_at is not None and record.object_id == payment.intent_id


def test_webhook_body_is_not_trusted(client, reserved):
    """A correctly signed event claiming success for an unpaid PaymentIntent confirms nothing."""
    payment = services.checkout_start(booking_id=reserved.pk)
    body = event_body(event_id="evt_lie", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, body).status_code == 200
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.RESERVED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.REQUIRES_PAYMENT_METHOD


@pytest.mark.parametrize(
    "header",
    [
        None,  # signed with the wrong secret
        "t=1,v1=deadbeef",
        "garbage",
    ],
)
def test_webhook_badly_signed_is_refused(client, reserved, header):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)
    body = event_body(event_id="evt_bad", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    response = post_event(client, body, secret="whsec_wrong", header=header)
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.RESERVED


def test_webhook_without_signature_or_body_is_refused(client, stripe_sandbox):
    assert client.post(WEBHOOK_URL, data="{}", content_type="application/json").status_code == 400
    signed = stripe.WebhookSignature.generate_signature_header("not json", WEBHOOK_SECRET)
    response = client.post(WEBHOOK_URL, data="not json", content_type="application/json", HTTP_STRIPE_SIGNATURE=signed)
    assert response.status_code == 400
    assert client.get(WEBHOOK_URL).status_code == 405


def test_webhook_replay_is_idempotent(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)
    body = event_body(event_id="evt_replay", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, body).json()["duplicate"] is False
    updates = SyncEvent.objects.filter(entity_type="booking", entity_id=str(reserved.pk)).count()
    second = post_event(client, body)
    assert second.status_code == 200 and second.json()["duplicate"] is True
    assert StripeEvent.objects.filter(event_id="evt_replay").count() == 1
    assert SyncEvent.objects.filter(entity_type="booking", entity_id=str(reserved.pk)).count() == updates
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.CONFIRMED


def test_webhook_failure_after_success_changes_nothing(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)
    ok = event_body(event_id="evt_order_1", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, ok).status_code == 200
    reserved.refresh_from_db()
    confirmed_at = reserved.confirmed_at
    late_failure = event_body(
        event_id="evt_order_0",
        type_="payment_intent.payment_failed",
        intent_id=payment.intent_id,
        status="requires_payment_method",
        extra={"last_payment_error": {"code": "card_declined", "message": "Your card was declined."}},
    )
    assert post_event(client, late_failure).status_code == 200
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.CONFIRMED and reserved.confirmed_at == confirmed_at
    assert reserved.payment_status == PaymentStatus.PAID
    assert payment.status == Payment.Status.SUCCEEDED and payment.last_error == ""
    assert StripeEvent.objects.get(event_id="evt_order_0").processed_at is not None


def test_webhook_failure_keeps_the_hold(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    with pytest.raises(CardDeclined):
        pay_on_stripe_only(payment, number="4000000000000002")
    body = event_body(
        event_id="evt_fail",
        type_="payment_intent.payment_failed",
        intent_id=payment.intent_id,
        status="requires_payment_method",
    )
    assert post_event(client, body).status_code == 200
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.RESERVED and reserved.hold_expires_at is not None
    assert payment.last_error == "Your card was declined." and payment.last_error_code == "generic_decline"


# --- holds and late payments -------------------------------------------------------------------------------


def test_hold_expiry_cancels_the_payment_intent(reserved, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_HANDLERS = ["apps.payments.outbox.handle_event"]
    payment = services.checkout_start(booking_id=reserved.pk)
    later = reserved.hold_expires_at + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert booking_services.holds_expire(now=later) == [reserved.pk]
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.CANCELLED
    assert payment.status == Payment.Status.CANCELED
    assert gateway.payment_intent_retrieve(intent_id=payment.intent_id).status == "canceled"
    # Paying now is refused with a clear message and charges nothing.
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert not result.succeeded and "expired" in result.message and "nothing was charged" in result.message


def test_payment_after_the_hold_lapsed_is_refunded(client, reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)  # the guest paid, but our webhook is late ...
    booking_services.holds_expire(now=reserved.hold_expires_at + timedelta(seconds=1))  # ... and the hold lapsed
    body = event_body(event_id="evt_late", type_="payment_intent.succeeded", intent_id=payment.intent_id)
    assert post_event(client, body).status_code == 200
    reserved.refresh_from_db()
    payment.refresh_from_db()
    assert reserved.status == BookingStatus.CANCELLED  # the dates were released; never double-sold
    refund = Refund.objects.get(payment=payment)
    assert refund.kind == Refund.Kind.LATE_PAYMENT and refund.status == Refund.Status.SUCCEEDED
    assert refund.amount == Decimal("330.00") and refund.stripe_refund_id.startswith("re_")
    assert "after booking" in refund.reason and "Hold expired" in refund.reason
    assert payment.amount_refunded == Decimal("330.00")
    assert reserved.payment_status == PaymentStatus.REFUNDED
    # The replayed event or a sync refunds nothing more.
    post_event(client, event_body(event_id="evt_late_2", type_="payment_intent.succeeded", intent_id=payment.intent_id))
    services.payment_sync(payment_id=payment.pk)
    assert Refund.objects.filter(payment=payment).count() == 1


def test_hold_cancel_racing_a_payment_refunds_it(reserved):
    """The outbox handler's cancel finds the PaymentIntent already succeeded: it refunds instead."""
    payment = services.checkout_start(booking_id=reserved.pk)
    pay_on_stripe_only(payment)
    booking_services.holds_expire(now=reserved.hold_expires_at + timedelta(seconds=1))
    services.payment_cancel_for_booking(booking_id=reserved.pk)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.refunds.get().kind == Refund.Kind.LATE_PAYMENT


def test_sandbox_pay_after_lapsed_but_unexpired_hold_charges_nothing(reserved):
    """Beat has not run yet, but the clock decides: a lapsed hold is not charged; it is released."""
    Booking.objects.filter(pk=reserved.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    result = services.sandbox_card_pay(
        booking_id=reserved.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert not result.succeeded and "expired before payment, so nothing was charged" in result.message
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.CANCELLED and reserved.cancellation_reason == services.HOLD_EXPIRED_REASON
    assert not Payment.objects.filter(booking=reserved, status=Payment.Status.SUCCEEDED).exists()


# --- guest cancellation -----------------------------------------------------------------------------------


def _paid_booking(prop, *, days_ahead: int) -> Booking:
    booking = booking_services.booking_create(
        property_id=prop.pk, check_in=future(days_ahead), check_out=future(days_ahead + 2), guests=1
    )
    result = services.sandbox_card_pay(
        booking_id=booking.pk, card_number="4242424242424242", exp_month=12, exp_year=2034, cvc="123"
    )
    assert result.succeeded, result.message
    booking.refresh_from_db()
    return booking


@pytest.mark.parametrize(
    "policy, days_before, expected",
    [
        ("flexible", 2, Decimal("230.00")),
        ("flexible", 0.5, None),
        ("moderate", 6, Decimal("230.00")),
        ("moderate", 3, Decimal("115.00")),
        ("moderate", 0.5, None),
        ("strict", 10, Decimal("115.00")),
        ("strict", 3, None),
    ],
)
def test_guest_cancellation_refunds_per_policy(alice, stripe_sandbox, policy, days_before, expected):
    prop = PropertyFactory(owner=alice, cancellation_policy=policy)
    booking = _paid_booking(prop, days_ahead=20)  # 2 nights x 100 + 30 cleaning = 230 EUR
    starts_at = timezone.make_aware(timezone.datetime.combine(booking.check_in, prop.check_in_time), prop.tz)
    now = starts_at - timedelta(days=days_before)
    assert services.refund_preview(booking=booking, now=now) == (expected or Decimal("0"))
    refund = services.booking_cancel_by_guest(booking_id=booking.pk, reason="Plans changed", now=now)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancellation_reason == "Plans changed"
    if expected is None:
        assert refund is None
        assert booking.payment_status == PaymentStatus.PAID
        return
    assert refund.status == Refund.Status.SUCCEEDED and refund.amount == expected and refund.policy == policy
    assert refund.kind == Refund.Kind.GUEST_CANCELLATION
    assert booking.payment_status == (
        PaymentStatus.REFUNDED if expected == Decimal("230.00") else PaymentStatus.PARTIALLY_REFUNDED
    )
    # A second cancel is refused by the lifecycle; the refund is never doubled.
    with pytest.raises(services.InvalidTransition):
        services.booking_cancel_by_guest(booking_id=booking.pk, now=now)
    assert Refund.objects.filter(booking=booking).count() == 1


def test_guest_cancels_an_unpaid_hold(reserved):
    services.checkout_start(booking_id=reserved.pk)
    assert services.booking_cancel_by_guest(booking_id=reserved.pk) is None
    reserved.refresh_from_db()
    assert reserved.status == BookingStatus.CANCELLED


def test_refund_never_exceeds_what_was_paid(alice, stripe_sandbox):
    booking = _paid_booking(PropertyFactory(owner=alice), days_ahead=20)
    payment = booking.payments.get()
    with pytest.raises(services.ValidationFailed):
        services.refund_create(
            payment_id=payment.pk, amount=Decimal("230.01"), kind="owner", reason="too much", idempotency_key="x1"
        )
    first = services.refund_create(
        payment_id=payment.pk, amount=Decimal("100"), kind="owner", reason="goodwill", idempotency_key="x2"
    )
    same = services.refund_create(
        payment_id=payment.pk, amount=Decimal("100"), kind="owner", reason="goodwill", idempotency_key="x2"
    )
    assert first.pk == same.pk
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("100.00")


# --- the sandbox sends real signed webhooks -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sandbox_delivers_signed_webhooks(live_server, alice, stripe_sandbox):
    import requests

    from apps.sandbox.stripe_sandbox import unregister_webhook

    prop = PropertyFactory(owner=alice)
    booking = booking_services.booking_create(property_id=prop.pk, check_in=future(40), check_out=future(42), guests=1)
    payment = services.checkout_start(booking_id=booking.pk)
    response = requests.post(
        f"{stripe_sandbox.url}/_config/webhooks/pms-test",
        data={"url": live_server.url + reverse("payments:stripe-webhook"), "secret": WEBHOOK_SECRET},
        timeout=5,
    )
    assert response.status_code == 200
    try:
        pay_on_stripe_only(payment)  # only the webhook can confirm the booking now
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            processed = StripeEvent.objects.filter(
                type="payment_intent.succeeded", object_id=payment.intent_id, processed_at__isnull=False
            )
            if processed.exists():
                break
            time.sleep(0.2)
    finally:
        unregister_webhook("pms-test")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    event = StripeEvent.objects.get(type="payment_intent.succeeded", object_id=payment.intent_id)
    assert event.processed_at is not None and "succeeded" in event.result


# --- admin ---------------------------------------------------------------------------------------------------


def test_admin_payments_are_owner_scoped(client, alice, bob, stripe_sandbox):
    booking = _paid_booking(PropertyFactory(owner=alice), days_ahead=20)
    payment = booking.payments.get()
    client.force_login(bob)
    url = reverse("admin:payments_payment_changelist")
    response = client.get(url)
    assert response.status_code == 200 and payment.intent_id not in response.content.decode()
    assert client.get(reverse("admin:payments_payment_change", args=[payment.pk])).status_code in (302, 404)
    client.force_login(alice)
    assert payment.intent_id in client.get(url).content.decode()
    # The refund action gives back the rest, once, even when clicked twice.
    for _ in range(2):
        client.post(url, {"action": "action_refund_rest", "_selected_action": [payment.pk]})
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("230.00")
    assert Refund.objects.filter(payment=payment, kind=Refund.Kind.OWNER).count() == 1


# --- the periodic safety net ---------------------------------------------------------------------------------


def test_sweep_cancels_intents_the_outbox_missed(reserved):
    payment = services.checkout_start(booking_id=reserved.pk)
    booking_services.booking_cancel(booking_id=reserved.pk, reason="Hold expired before payment.")
    Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    stats = services.payments_sweep()
    assert stats["cancelled"] == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELED
    assert gateway.payment_intent_retrieve(intent_id=payment.intent_id).status == "canceled"


def test_outbox_handler_ignores_other_events_and_paid_bookings(alice, stripe_sandbox, settings):
    from apps.core.outbox import event_dispatch

    settings.OUTBOX_HANDLERS = ["apps.payments.outbox.handle_event"]
    booking = _paid_booking(PropertyFactory(owner=alice), days_ahead=20)
    booking_services.booking_cancel(booking_id=booking.pk)
    for event in SyncEvent.objects.filter(processed_at__isnull=True):
        assert event_dispatch(event_id=str(event.pk))
    payment = booking.payments.get()
    assert payment.status == Payment.Status.SUCCEEDED  # a paid booking's intent is never cancelled
