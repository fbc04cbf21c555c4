"""Every write of the payments app. Views, the storefront, admin, tasks and webhooks call these.

Rules kept here:
- No Stripe I/O while holding a lock: rows are locked only for short local updates; Stripe calls
  run before or after those transactions.
- Stripe's word is re-read, never taken from a request body: ``payment_apply_intent`` gets a
  PaymentIntent freshly retrieved from the gateway, and is idempotent and monotonic (a success is
  never undone by a later failure; a success is applied to the booking exactly once, ``settled_at``).
- Refunds are written ``pending`` with a unique idempotency key *before* Stripe is called, and the
  same key goes to Stripe, so a retry (or a replayed webhook) never refunds twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.bookings import policies
from apps.bookings import services as booking_services
from apps.bookings.errors import InvalidTransition
from apps.bookings.models import Booking, BookingStatus, PaymentStatus
from apps.core.db import lock_properties, reconnecting, retry_transaction
from apps.core.errors import Conflict, NotFound, ValidationFailed
from apps.core.models import SyncEvent
from apps.core.money import from_stripe_minor, round_money, to_stripe_minor
from apps.core.outbox import event_emit
from apps.ledger import services as ledger

from . import gateway
from .gateway import CardDeclined, GatewayError, Intent, PaymentsNotConfigured
from .models import Payment, Refund, StripeEvent

logger = logging.getLogger(__name__)

__all__ = [
    "PayResult",
    "checkout_start",
    "sandbox_card_pay",
    "payment_sync",
    "payment_apply_intent",
    "payment_cancel_for_booking",
    "booking_cancel_by_guest",
    "booking_cancel_with_refund",
    "cancellation_refund_options",
    "REFUND_MODES",
    "refund_preview",
    "refund_create",
    "stripe_event_process",
    "payments_sweep",
    "payment_status_repair",
    "payment_record",
]

#: A PaymentIntent id as Stripe writes it; anything else in an event is not re-read from Stripe.
INTENT_ID = re.compile(r"^pi_[A-Za-z0-9_]{1,250}$")
PAID_STATUSES = (BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN, BookingStatus.CHECKED_OUT)
HOLD_EXPIRED_REASON = "Hold expired before payment."


@dataclass(frozen=True)
class PayResult:
    succeeded: bool
    message: str
    booking: Booking
    payment: Payment | None = None
    refund: Refund | None = None


def _get_booking(booking_id: int) -> Booking:
    booking = Booking.objects.select_related("property").filter(pk=booking_id).first()
    if booking is None:
        raise NotFound("Booking not found.", details={"booking_id": booking_id})
    return booking


# --- checkout -------------------------------------------------------------------------------------


def checkout_start(*, booking_id: int) -> Payment:
    """The PaymentIntent of a reserved booking: reused if one is open for the same amount, else created.

    The idempotency key derives from the booking reference (and amount), so two concurrent calls,
    or a retry after a crash between Stripe and our database, end with one PaymentIntent.
    """
    booking = _get_booking(booking_id)
    succeeded = booking.payments.filter(status=Payment.Status.SUCCEEDED).first()
    if succeeded is not None:
        return succeeded
    if booking.status != BookingStatus.RESERVED:
        raise Conflict(
            f"Booking {booking.reference} is not awaiting payment (it is {booking.get_status_display().lower()}).",
            details={"status": booking.status},
        )
    amount = round_money(booking.total_price, booking.currency)
    if amount <= 0:
        raise ValidationFailed("This booking has nothing to pay.")
    open_payments = booking.payments.exclude(status=Payment.Status.CANCELED).order_by("-created_at")
    for existing in open_payments:
        if existing.amount == amount and existing.currency == booking.currency:
            return existing
        # The price changed since: the old PaymentIntent must not be paid any more.
        _cancel_intent(existing)
    attempt = booking.payments.count()
    amount_minor = to_stripe_minor(amount, booking.currency)
    # Unique per booking row (a reset database reuses references; Stripe keeps keys for 24 h).
    key = f"pms:{booking.reference}:{int(booking.created_at.timestamp())}:pi:{amount_minor}{booking.currency}:{attempt}"
    intent = gateway.payment_intent_create(
        amount=amount_minor,
        currency=booking.currency,
        idempotency_key=key,
        metadata={"booking_id": str(booking.pk), "reference": booking.reference},
        description=f"Booking {booking.reference}: {booking.property.name}, {booking.check_in} to {booking.check_out}",
    )
    payment, _ = Payment.objects.get_or_create(
        intent_id=intent.id,
        defaults={
            "booking": booking,
            "client_secret": intent.client_secret,
            "idempotency_key": key,
            "amount": amount,
            "currency": booking.currency,
            "status": _known_status(intent.status, Payment.Status.REQUIRES_PAYMENT_METHOD),
        },
    )
    logger.info("payment %s started for booking %s (%s %s)", intent.id, booking.reference, amount, booking.currency)
    return payment


def _known_status(status: str, default: str) -> str:
    return status if status in Payment.Status.values else default


_CARD_DIGITS = re.compile(r"^\d{12,19}$")


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card_problem(*, number: str, exp_month: int, exp_year: int, cvc: str, today: date) -> str | None:
    """A message in Stripe's words for card data that cannot be right, or None."""
    if not _CARD_DIGITS.match(number) or not _luhn_ok(number):
        return "Your card number is incorrect."
    if not 1 <= exp_month <= 12:
        return "Your card's expiration month is invalid."
    if exp_year < 100:
        exp_year += 2000
    if (exp_year, exp_month) < (today.year, today.month) or exp_year > today.year + 50:
        return "Your card's expiration year is invalid." if exp_year != today.year else "Your card has expired."
    if not re.fullmatch(r"\d{3,4}", cvc):
        return "Your card's security code is invalid."
    return None


def sandbox_card_pay(*, booking_id: int, card_number: str, exp_month: int, exp_year: int, cvc: str) -> PayResult:
    """Pay a reserved booking with a card on the Stripe sandbox (demo and tests only).

    Confirms the PaymentIntent server-side, then re-reads it and applies it exactly as the webhook
    does, so the booking is confirmed even if the webhook is slow.
    """
    if not (settings.STRIPE_SANDBOX and settings.STRIPE_API_BASE):
        raise PaymentsNotConfigured("The test card form is only available with the Stripe sandbox.")
    booking = _get_booking(booking_id)
    paid = booking.payments.filter(status=Payment.Status.SUCCEEDED).first()
    if booking.status in PAID_STATUSES and paid is not None:
        return PayResult(True, f"Booking {booking.reference} is already paid.", booking, paid)
    if booking.status == BookingStatus.CANCELLED:
        if booking.cancellation_reason == HOLD_EXPIRED_REASON:
            message = (
                "Your hold on these dates expired before payment, so nothing was charged. Please start a new booking."
            )
        else:
            message = "This booking was cancelled, so nothing was charged."
        return PayResult(False, message, booking)
    if booking.status != BookingStatus.RESERVED:
        return PayResult(False, "This booking is not awaiting payment.", booking)
    if booking.hold_expires_at is not None and booking.hold_expires_at <= timezone.now():
        # the clock decides, not whether the expiry task has run yet: never charge a lapsed hold
        try:
            booking_services.booking_cancel(
                booking_id=booking.pk, reason=HOLD_EXPIRED_REASON, expected_status=BookingStatus.RESERVED
            )
        except InvalidTransition:
            pass  # paid or expired meanwhile: the guest's retry reads which
        booking.refresh_from_db()
        return PayResult(
            False,
            "Your hold on these dates expired before payment, so nothing was charged. Please start a new booking.",
            booking,
        )

    number = re.sub(r"[\s-]", "", card_number or "")
    cvc = (cvc or "").strip()
    try:
        exp_month, exp_year = int(exp_month), int(exp_year)
    except (TypeError, ValueError):
        return PayResult(False, "Your card's expiration date is invalid.", booking)
    problem = _card_problem(number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, today=timezone.localdate())
    if problem:
        return PayResult(False, problem, booking)

    payment = checkout_start(booking_id=booking.pk)
    declined = ""
    try:
        gateway.sandbox_confirm_with_card(
            intent_id=payment.intent_id, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc
        )
    except CardDeclined as exc:
        declined = exc.message
    except GatewayError as exc:
        if exc.stripe_code != "payment_intent_unexpected_state":
            return PayResult(False, exc.message, booking, payment)
        # e.g. the hold expired and its PaymentIntent was cancelled meanwhile: the re-read tells.
    intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)
    try:
        # idempotent: re-run on a fresh connection if the database connection died under it
        # applying a success writes the payment, its ledger line, the confirmation and the invoice:
        # give a flapping database a few more fresh connections before the sweep has to settle it
        payment = reconnecting(lambda: payment_apply_intent(intent=intent), attempts=6) or payment
        booking = reconnecting(lambda: _get_booking(booking.pk))
    except (OperationalError, InterfaceError):
        if intent.status != Payment.Status.SUCCEEDED:
            raise
        # Stripe took the money: the guest is told so (never an error page); the webhook or the sweep
        # settles it on the booking as soon as the database answers again
        logger.warning("payment %s succeeded but could not be applied yet; the sweep settles it", intent.id)
        return PayResult(True, "Payment received. Your booking is being confirmed.", booking, payment)
    return _pay_result(booking=booking, payment=payment, declined=declined)


def _pay_result(*, booking: Booking, payment: Payment, declined: str) -> PayResult:
    if payment.status == Payment.Status.SUCCEEDED:
        if booking.status in PAID_STATUSES:
            return PayResult(
                True, f"Payment received. Your booking {booking.reference} is confirmed.", booking, payment
            )
        refund = payment.refunds.filter(kind=Refund.Kind.LATE_PAYMENT).first()
        amount = f"{payment.amount_received} {payment.currency}"
        if refund is not None and refund.status == Refund.Status.SUCCEEDED:
            tail = f"The full amount of {amount} has been refunded to your card."
        else:
            tail = f"The full amount of {amount} will be refunded to your card."
        return PayResult(
            False,
            "Your payment arrived after the hold on these dates had expired, so the booking could not be "
            f"completed. {tail}",
            booking,
            payment,
            refund,
        )
    if payment.status == Payment.Status.CANCELED:
        return PayResult(
            False,
            "Your hold on these dates expired before payment, so nothing was charged. Please start a new booking.",
            booking,
            payment,
        )
    message = declined or payment.last_error or "The payment did not go through."
    return PayResult(False, f"{message} Please try another card.", booking, payment)


# --- applying Stripe's state ----------------------------------------------------------------------


def payment_sync(*, payment_id: int) -> Payment:
    """Re-read the payment's PaymentIntent from Stripe and apply it."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("Payment not found.", details={"payment_id": payment_id})
    intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)
    return payment_apply_intent(intent=intent) or payment


def payment_apply_intent(*, intent: Intent, now: datetime | None = None) -> Payment | None:
    """Apply a freshly retrieved PaymentIntent. Idempotent, and monotonic: once succeeded (or
    cancelled) a payment never moves back. A success is settled on the booking exactly once."""
    now = now or timezone.now()
    payment = Payment.objects.filter(intent_id=intent.id).first()
    if payment is None:
        payment = _adopt_intent(intent)
        if payment is None:
            return None
    with transaction.atomic():
        # the booking before its payment (the order cancellations lock them in): the ledger line
        # of a success and a concurrent cancellation's lines never interleave
        _lock_booking_row(payment.booking_id)
        p = Payment.objects.select_for_update().get(pk=payment.pk)
        fields: list[str] = []
        if p.status == Payment.Status.SUCCEEDED:
            pass  # final: a late failure or a stale event changes nothing
        elif intent.status == Payment.Status.SUCCEEDED:
            p.status = Payment.Status.SUCCEEDED
            p.amount_received = from_stripe_minor(intent.amount_received or intent.amount, p.currency)
            p.succeeded_at = intent.paid_at or now  # when Stripe took the money, if it says
            p.last_error, p.last_error_code = "", ""
            fields += ["status", "amount_received", "succeeded_at", "last_error", "last_error_code"]
        elif p.status == Payment.Status.CANCELED:
            pass
        else:
            new_status = _known_status(intent.status, p.status)
            if new_status != p.status:
                p.status = new_status
                fields.append("status")
            if new_status == Payment.Status.CANCELED:
                p.canceled_at = now
                fields.append("canceled_at")
            if intent.error_message and (intent.error_message, intent.decline_code or intent.error_code) != (
                p.last_error,
                p.last_error_code,
            ):
                p.last_error = intent.error_message
                p.last_error_code = intent.decline_code or intent.error_code
                fields += ["last_error", "last_error_code"]
        if fields:
            p.save(update_fields=[*fields, "updated_at"])
        if p.status == Payment.Status.SUCCEEDED:
            ledger.payment_post(payment=p, now=now)  # once per payment
        if "succeeded_at" in fields:
            _emit_money_event(
                SyncEvent.Type.PAYMENT_SUCCEEDED,
                entity_type="payment",
                entity_id=p.pk,
                booking_id=p.booking_id,
                payload={"payment_id": p.pk, "amount": p.amount_received, "currency": p.currency},
            )
    if p.status == Payment.Status.SUCCEEDED and p.settled_at is None:
        _settle_success(p, now=now)
        p.refresh_from_db()
    # derived from the payments every time, not only when this call changed a field: a crash between
    # saving the payment and this line is repaired by the next apply (webhook, sweep, the guest's retry)
    _sync_booking_payment_status(p.booking_id)
    return p


def _lock_booking_row(booking_id: int) -> None:
    Booking.objects.select_for_update().filter(pk=booking_id).values_list("pk", flat=True).first()


def _emit_money_event(
    event_type: str, *, entity_type: str, entity_id: int, booking_id: int, payload: dict, source: str = "stripe"
) -> None:
    """``payment.succeeded`` / ``payment.refunded`` in the transaction that records it."""
    property_id = Booking.objects.filter(pk=booking_id).values_list("property_id", flat=True).first()
    event_emit(
        event_type=event_type,
        entity_type=entity_type,
        entity_id=entity_id,
        property_id=property_id,
        source=source,
        payload={**payload, "booking_id": booking_id, "property_id": property_id},
    )


def _adopt_intent(intent: Intent) -> Payment | None:
    """A PaymentIntent we created but never recorded (crash after Stripe answered): record it."""
    booking_id = intent.metadata.get("booking_id", "")
    booking = Booking.objects.filter(pk=int(booking_id)).first() if booking_id.isdigit() else None
    if booking is None:
        logger.warning("PaymentIntent %s belongs to no booking of ours; ignored", intent.id)
        return None
    payment, _ = Payment.objects.get_or_create(
        intent_id=intent.id,
        defaults={
            "booking": booking,
            "client_secret": intent.client_secret,
            "idempotency_key": f"adopted:{intent.id}",
            "amount": from_stripe_minor(intent.amount, booking.currency),
            "currency": booking.currency,
            "status": Payment.Status.REQUIRES_PAYMENT_METHOD,
        },
    )
    return payment


def _settle_success(payment: Payment, *, now: datetime) -> None:
    """Confirm the booking a success paid for; if its hold had already lapsed, refund it all.

    The clock decides, not whether the expiry task has run: money taken after ``hold_expires_at``
    (Stripe's charge time when it tells us, else when we learnt of it) cancels a still-``reserved``
    booking (hold expired) and is refunded in full."""
    booking = Booking.objects.get(pk=payment.booking_id)
    paid_at = payment.succeeded_at or now
    if booking.status == BookingStatus.RESERVED and booking.hold_expires_at and paid_at > booking.hold_expires_at:
        try:
            booking = booking_services.booking_cancel(
                booking_id=booking.pk, reason=HOLD_EXPIRED_REASON, expected_status=BookingStatus.RESERVED, now=now
            )
        except InvalidTransition:
            booking.refresh_from_db()  # cancelled or confirmed meanwhile
    if booking.status in (BookingStatus.RESERVED, BookingStatus.INQUIRY):
        try:
            booking = booking_services.booking_confirm(
                booking_id=booking.pk, expected_status=booking.status, reason="Payment received."
            )
        except InvalidTransition:
            booking.refresh_from_db()  # cancelled (hold expired) or confirmed meanwhile
    if booking.status == BookingStatus.CANCELLED:
        refund_create(
            payment_id=payment.pk,
            amount=payment.refundable,
            kind=Refund.Kind.LATE_PAYMENT,
            reason=(
                f"Payment {payment.intent_id} succeeded after booking {booking.reference} was cancelled "
                f"({booking.cancellation_reason or 'no reason given'}); refunded in full automatically."
            ),
            idempotency_key=f"late:{payment.intent_id}",
        )
        logger.warning("late payment %s for cancelled booking %s refunded", payment.intent_id, booking.reference)
    Payment.objects.filter(pk=payment.pk, settled_at__isnull=True).update(settled_at=now, updated_at=now)


def _sync_booking_payment_status(booking_id: int) -> None:
    """Mirror the payments on ``Booking.payment_status`` (paid, refunded, ...)."""
    totals = Payment.objects.filter(booking_id=booking_id, status=Payment.Status.SUCCEEDED).aggregate(
        received=Sum("amount_received"), refunded=Sum("amount_refunded")
    )
    received, refunded = totals["received"] or Decimal("0"), totals["refunded"] or Decimal("0")
    if received > 0 and refunded >= received:
        status = PaymentStatus.REFUNDED
    elif refunded > 0:
        status = PaymentStatus.PARTIALLY_REFUNDED
    elif received > 0:
        status = PaymentStatus.PAID
    elif Payment.objects.filter(booking_id=booking_id).exclude(last_error="").exists():
        status = PaymentStatus.FAILED
    else:
        return
    booking_services.booking_payment_status_set(booking_id=booking_id, payment_status=status)


def _cancel_intent(payment: Payment) -> Payment:
    """Cancel a payment's PaymentIntent on Stripe (no lock held) and apply what Stripe says."""
    try:
        intent = gateway.payment_intent_cancel(intent_id=payment.intent_id)
    except GatewayError as exc:
        if exc.retryable:
            raise
        intent = gateway.payment_intent_retrieve(intent_id=payment.intent_id)  # succeeded or already cancelled
    return payment_apply_intent(intent=intent) or payment


def payment_cancel_for_booking(*, booking_id: int) -> list[Payment]:
    """Cancel the open PaymentIntents of a cancelled booking (hold expired, guest cancelled before paying).

    An intent that succeeded meanwhile is applied instead, which refunds it (late payment)."""
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.CANCELLED:
        return []
    done = []
    for payment in booking.payments.exclude(status__in=Payment.FINAL_STATUSES):
        done.append(_cancel_intent(payment))
    return done


# --- refunds ----------------------------------------------------------------------------------------


def refund_preview(*, booking: Booking, now: datetime | None = None) -> Decimal:
    """What the guest would get back by cancelling now, per the property's policy (0 if nothing paid)."""
    now = now or timezone.now()
    if booking.status not in (BookingStatus.RESERVED, *PAID_STATUSES) or booking.status == BookingStatus.CHECKED_OUT:
        return Decimal("0")
    paid = sum((p.refundable for p in booking.payments.filter(status=Payment.Status.SUCCEEDED)), Decimal("0"))
    if paid <= 0:
        return Decimal("0")
    prop = booking.property
    starts_at = policies.check_in_at(check_in=booking.check_in, check_in_time=prop.check_in_time, tz=prop.tz)
    return policies.refund_amount(
        policy=prop.cancellation_policy,
        paid=paid,
        currency=booking.currency,
        starts_at=starts_at,
        booked_at=booking.created_at,
        now=now,
    )


#: How a cancellation by the owner (admin) or an integrator (API) refunds a paid booking.
REFUND_POLICY, REFUND_FULL, REFUND_NONE = "policy", "full", "none"
REFUND_MODES = (REFUND_POLICY, REFUND_FULL, REFUND_NONE)


@dataclass(frozen=True)
class CancelResult:
    booking: Booking
    amount: Decimal  # what is refunded (submitted to Stripe; see each refund's status)
    refunds: list[Refund]


def _paid_total(booking: Booking) -> Decimal:
    return sum((p.refundable for p in booking.payments.filter(status=Payment.Status.SUCCEEDED)), Decimal("0"))


def cancellation_refund_options(*, booking: Booking, now: datetime | None = None) -> dict[str, Decimal]:
    """What each refund choice would give back if ``booking`` were cancelled now: ``paid`` (still
    refundable), ``policy`` (the property's cancellation policy), ``full`` and ``none``. Shown to the
    owner before a cancellation is confirmed."""
    paid = round_money(_paid_total(booking), booking.currency)
    return {
        "paid": paid,
        REFUND_POLICY: refund_preview(booking=booking, now=now),
        REFUND_FULL: paid,
        REFUND_NONE: round_money(Decimal("0"), booking.currency),
    }


@retry_transaction
def _cancel_recording_refunds(
    *, booking_id: int, refund: str, reason: str, source: str | None, user, kind: str, now: datetime
) -> tuple[Booking, list[Refund]]:
    """Cancel the booking and write its refunds ``pending``, in one transaction (so the guest's
    cancellation e-mail, sent after commit, already knows the amount). No Stripe call here."""
    with transaction.atomic():
        property_id = Booking.objects.filter(pk=booking_id).values_list("property_id", flat=True).first()
        if property_id is None:
            raise NotFound("Booking not found.", details={"booking_id": booking_id})
        lock_properties([property_id])
        booking = Booking.objects.select_for_update().select_related("property").get(pk=booking_id)
        amount = cancellation_refund_options(booking=booking, now=now)[refund]
        booking = booking_services.booking_cancel(booking_id=booking.pk, reason=reason, source=source, now=now)
        if amount <= 0:
            return booking, []
        prop = Booking.objects.select_related("property").get(pk=booking.pk).property
        policy = prop.cancellation_policy if refund == REFUND_POLICY else ""
        payments = sorted(
            Payment.objects.select_for_update().filter(booking_id=booking.pk, status=Payment.Status.SUCCEEDED),
            key=lambda p: (p.refundable, p.pk),
            reverse=True,
        )
        who = "the guest" if kind == Refund.Kind.GUEST_CANCELLATION else _user_name(user) or "the owner"
        when = f"{timezone.localtime(now, prop.tz):%Y-%m-%d %H:%M %Z}"
        rule = f"{policy} policy" if policy else f"{refund} refund chosen"
        refunds, left = [], amount
        for n, payment in enumerate(payments):
            pending = payment.refunds.filter(status=Refund.Status.PENDING).aggregate(s=Sum("amount"))["s"] or 0
            share = min(left, payment.refundable - pending)
            if share <= 0:
                continue
            refunds.append(
                Refund.objects.create(
                    booking_id=booking.pk,
                    payment=payment,
                    kind=kind,
                    amount=share,
                    currency=payment.currency,
                    reason=f"Cancelled by {who} on {when}; {rule}: refunds {share} of {payment.refundable} "
                    f"{payment.currency}."[:4000],
                    policy=policy,
                    idempotency_key=f"cancel:{booking.reference}" + (f":{payment.pk}" if n else ""),
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                )
            )
            left -= share
            if left <= 0:
                break
        return booking, refunds


def _user_name(user) -> str:
    return user.get_username() if getattr(user, "is_authenticated", False) else ""


def booking_cancel_with_refund(
    *,
    booking_id: int,
    refund: str = REFUND_POLICY,
    reason: str = "",
    source: str | None = None,
    user=None,
    kind: str = Refund.Kind.OWNER,
    now: datetime | None = None,
) -> CancelResult:
    """Cancel a booking and refund what was paid: by the property's cancellation policy (default),
    in full, or not at all. The one cancellation path of the admin, the API and the guest portal.

    The booking is cancelled and its refunds written ``pending`` in one transaction (the outbox
    tells the channels and the guest, whose e-mail states the refund); Stripe is called after the
    commit, outside every lock, with each refund's idempotency key (a retryable failure stays
    pending and the sweeper retries it). Unpaid holds and channel bookings have nothing to refund.
    """
    if refund not in REFUND_MODES:
        raise ValidationFailed(
            f"Choose how to refund: {', '.join(REFUND_MODES)}.", details={"refund": [f"Not one of {REFUND_MODES}."]}
        )
    now = now or timezone.now()
    default_reason = "Cancelled by the guest." if kind == Refund.Kind.GUEST_CANCELLATION else "Cancelled by the owner."
    booking, pending = _cancel_recording_refunds(
        booking_id=booking_id,
        refund=refund,
        reason=(reason or "").strip() or default_reason,
        source=source,
        user=user,
        kind=kind,
        now=now,
    )
    refunds = [_refund_submit(r) for r in pending]
    booking.refresh_from_db()
    return CancelResult(booking=booking, amount=sum((r.amount for r in pending), Decimal("0")), refunds=refunds)


def booking_cancel_by_guest(*, booking_id: int, reason: str = "", now: datetime | None = None) -> Refund | None:
    """Cancel a booking at the guest's request and refund per the property's policy (the guest
    portal). An unpaid hold has nothing to refund: its PaymentIntent is cancelled by the
    ``booking.cancelled`` outbox handler."""
    result = booking_cancel_with_refund(
        booking_id=booking_id, refund=REFUND_POLICY, reason=reason, kind=Refund.Kind.GUEST_CANCELLATION, now=now
    )
    return result.refunds[0] if result.refunds else None


def refund_create(
    *,
    payment_id: int,
    amount: Decimal,
    kind: str,
    reason: str,
    idempotency_key: str,
    policy: str = "",
    user=None,
) -> Refund:
    """Refund ``amount`` of a succeeded payment. The same ``idempotency_key`` always means the same refund."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:
        try:
            with transaction.atomic():
                payment = Payment.objects.select_for_update().get(pk=payment_id)
                amount = round_money(Decimal(amount), payment.currency)
                if payment.status != Payment.Status.SUCCEEDED:
                    raise ValidationFailed("Only a succeeded payment can be refunded.")
                pending = payment.refunds.filter(status=Refund.Status.PENDING).aggregate(s=Sum("amount"))["s"] or 0
                available = payment.refundable - pending
                if amount <= 0 or amount > available:
                    raise ValidationFailed(
                        f"A refund must be between 0.01 and {available} {payment.currency}.",
                        details={"available": str(available)},
                    )
                existing = Refund.objects.create(
                    booking_id=payment.booking_id,
                    payment=payment,
                    kind=kind,
                    amount=amount,
                    currency=payment.currency,
                    reason=reason[:4000],
                    policy=policy,
                    idempotency_key=idempotency_key,
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                )
        except IntegrityError:
            existing = Refund.objects.get(idempotency_key=idempotency_key)  # a concurrent twin won
    if existing.status != Refund.Status.PENDING:
        return existing
    return _refund_submit(existing)


def _refund_submit(refund: Refund) -> Refund:
    """Send a pending refund to Stripe (no lock held), then record the answer."""
    payment = refund.payment
    if payment.provider != "stripe":
        # money received outside Stripe (bank transfer, cash) is given back the same way: recorded
        return _refund_record(refund)
    try:
        result = gateway.refund_create(
            intent_id=payment.intent_id,
            amount=to_stripe_minor(refund.amount, refund.currency),
            idempotency_key=f"pms:{refund.idempotency_key}",
            metadata={"booking_id": str(refund.booking_id), "refund_id": str(refund.pk), "kind": refund.kind},
            reason="requested_by_customer" if refund.kind == Refund.Kind.GUEST_CANCELLATION else "",
        )
    except GatewayError as exc:
        status = Refund.Status.PENDING if exc.retryable else Refund.Status.FAILED
        Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=status, error=exc.message[:2000], updated_at=timezone.now()
        )
        logger.warning("refund %s of %s: %s", refund.pk, payment.intent_id, exc.message)
        refund.refresh_from_db()
        return refund
    with transaction.atomic():
        _lock_booking_row(refund.booking_id)
        p = Payment.objects.select_for_update().get(pk=payment.pk)
        r = Refund.objects.select_for_update().get(pk=refund.pk)
        if r.status == Refund.Status.PENDING:
            if result.status in ("failed", "canceled"):
                r.status, r.error = Refund.Status.FAILED, f"Stripe answered {result.status}."
            else:
                r.status, r.error = Refund.Status.SUCCEEDED, ""
                p.amount_refunded = min(p.amount_received, p.amount_refunded + r.amount)
                p.save(update_fields=["amount_refunded", "updated_at"])
            r.stripe_refund_id = result.id
            r.save(update_fields=["status", "error", "stripe_refund_id", "updated_at"])
            if r.status == Refund.Status.SUCCEEDED:
                ledger.refund_post(refund=r)
                _emit_money_event(
                    SyncEvent.Type.PAYMENT_REFUNDED,
                    entity_type="refund",
                    entity_id=r.pk,
                    booking_id=r.booking_id,
                    payload={"refund_id": r.pk, "payment_id": p.pk, "amount": r.amount, "currency": r.currency},
                )
    _sync_booking_payment_status(refund.booking_id)
    return r


def _refund_record(refund: Refund) -> Refund:
    """A refund of a payment made outside Stripe: the owner gives it back themselves; recorded as done."""
    with transaction.atomic():
        _lock_booking_row(refund.booking_id)
        p = Payment.objects.select_for_update().get(pk=refund.payment_id)
        r = Refund.objects.select_for_update().get(pk=refund.pk)
        if r.status == Refund.Status.PENDING:
            r.status, r.error = Refund.Status.SUCCEEDED, ""
            r.save(update_fields=["status", "error", "updated_at"])
            p.amount_refunded = min(p.amount_received, p.amount_refunded + r.amount)
            p.save(update_fields=["amount_refunded", "updated_at"])
            ledger.refund_post(refund=r)
            _emit_money_event(
                SyncEvent.Type.PAYMENT_REFUNDED,
                entity_type="refund",
                entity_id=r.pk,
                booking_id=r.booking_id,
                payload={"refund_id": r.pk, "payment_id": p.pk, "amount": r.amount, "currency": r.currency},
                source=p.provider,
            )
    _sync_booking_payment_status(refund.booking_id)
    return r


def payment_record(
    *, booking_id: int, amount: Decimal, method: str = "manual", reference: str = "", now: datetime | None = None
) -> Payment:
    """Record money a guest paid outside Stripe (bank transfer, cash; the demo's seeded payments):
    a succeeded payment of provider ``method`` and its ledger line, in one transaction. Refunds of
    it are recorded too, never sent to Stripe. ``reference`` (e.g. the bank's transaction id) is
    unique: recording the same one twice returns the first."""
    now = now or timezone.now()
    if method == "stripe" or not re.fullmatch(r"[a-z_]{1,16}", method or ""):
        raise ValidationFailed("A recorded payment's method is a short lower-case word such as manual or bank.")
    booking = _get_booking(booking_id)
    amount = round_money(Decimal(amount), booking.currency)
    if amount <= 0:
        raise ValidationFailed("A recorded payment must be more than zero.")
    key = f"{method}:{booking.reference}:{reference or int(now.timestamp() * 1000)}"[:255]
    with transaction.atomic():
        _lock_booking_row(booking_id)
        payment = Payment.objects.filter(idempotency_key=key).first()
        if payment is not None:
            return payment
        payment = Payment.objects.create(
            booking_id=booking_id,
            provider=method,
            intent_id=key,
            idempotency_key=key,
            amount=amount,
            currency=booking.currency,
            status=Payment.Status.SUCCEEDED,
            amount_received=amount,
            succeeded_at=now,
            settled_at=now,
        )
        ledger.payment_post(payment=payment, now=now)
        _emit_money_event(
            SyncEvent.Type.PAYMENT_SUCCEEDED,
            entity_type="payment",
            entity_id=payment.pk,
            booking_id=booking_id,
            payload={"payment_id": payment.pk, "amount": amount, "currency": booking.currency},
            source=method,
        )
    _sync_booking_payment_status(booking_id)
    return payment


# --- webhooks and sweeping ---------------------------------------------------------------------------


def stripe_event_process(*, event: dict) -> tuple[StripeEvent, bool]:
    """Record a verified Stripe event (unique id) and apply it. Returns (record, was_duplicate).

    Only the event's id and object id are taken from the body: the PaymentIntent itself is
    re-read from Stripe, so a stale or out-of-order event applies Stripe's current state.
    """
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    object_id = str(obj.get("id") or "") if isinstance(obj, dict) else ""
    record, created = StripeEvent.objects.get_or_create(
        event_id=str(event["id"]),
        defaults={"type": str(event.get("type") or "")[:100], "object_id": object_id[:255], "payload": event},
    )
    if record.processed_at is not None:
        return record, True
    StripeEvent.objects.filter(pk=record.pk).update(attempts=F("attempts") + 1)
    try:
        if record.type.startswith("payment_intent.") and INTENT_ID.match(object_id):
            intent = gateway.payment_intent_retrieve(intent_id=object_id)
            payment = payment_apply_intent(intent=intent)
            result = f"PaymentIntent {intent.id} is {intent.status}" if payment else "not one of our PaymentIntents"
        else:
            result = "ignored"
    except GatewayError as exc:
        StripeEvent.objects.filter(pk=record.pk).update(error=exc.message[:2000])
        if exc.retryable:
            raise
        # Stripe answered and refused (e.g. no such PaymentIntent): a retry would get the same answer
        result = f"refused by Stripe: {exc.message}"[:2000]
    StripeEvent.objects.filter(pk=record.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), result=result, error=""
    )
    record.refresh_from_db()
    return record, not created


def payment_status_repair(*, limit: int = 500) -> list[int]:
    """Bookings whose ``payment_status`` disagrees with their payments (e.g. a crash between the two
    writes): derive it again. Returns the ids repaired."""
    succeeded = Q(payments__status=Payment.Status.SUCCEEDED)
    zero = Value(Decimal("0"))
    drifted = (
        Booking.objects.filter(payments__isnull=False)
        .annotate(
            received=Coalesce(Sum("payments__amount_received", filter=succeeded), zero),
            refunded=Coalesce(Sum("payments__amount_refunded", filter=succeeded), zero),
            failed=Count("payments", filter=~Q(payments__last_error="")),
        )
        .annotate(
            derived=Case(
                When(received__gt=0, refunded__gte=F("received"), then=Value(PaymentStatus.REFUNDED)),
                When(refunded__gt=0, then=Value(PaymentStatus.PARTIALLY_REFUNDED)),
                When(received__gt=0, then=Value(PaymentStatus.PAID)),
                When(failed__gt=0, then=Value(PaymentStatus.FAILED)),
                default=Value(""),
                output_field=CharField(),
            )
        )
        .exclude(derived="")
        .exclude(payment_status=F("derived"))
        # a hold cancelled before any payment succeeded is void; a failed attempt on it changes nothing
        .exclude(payment_status=PaymentStatus.VOID, derived=PaymentStatus.FAILED)
        .order_by()
        .values_list("pk", flat=True)[:limit]
    )
    repaired = []
    for booking_id in list(drifted):
        _sync_booking_payment_status(booking_id)
        repaired.append(booking_id)
    if repaired:
        logger.warning("payment status of %d booking(s) repaired from their payments: %s", len(repaired), repaired)
    return repaired


def payments_sweep(*, limit: int = 100) -> dict:
    """Periodic safety net: cancel open PaymentIntents of cancelled bookings, settle successes not
    yet applied, retry refunds left pending by an unreachable Stripe, and derive the payment status
    of bookings whose status drifted from their payments."""
    stats = {"cancelled": 0, "settled": 0, "refunds_retried": 0, "errors": 0, "status_repaired": 0}
    cutoff = timezone.now() - timezone.timedelta(seconds=60)
    booking_ids = (
        Payment.objects.filter(booking__status=BookingStatus.CANCELLED, updated_at__lte=cutoff)
        .exclude(status__in=Payment.FINAL_STATUSES)
        .order_by()
        .values_list("booking_id", flat=True)
        .distinct()[:limit]
    )
    for booking_id in list(booking_ids):
        try:
            stats["cancelled"] += len(payment_cancel_for_booking(booking_id=booking_id))
        except GatewayError:
            stats["errors"] += 1
    for payment_id in list(
        Payment.objects.filter(
            status=Payment.Status.SUCCEEDED, settled_at__isnull=True, updated_at__lte=cutoff
        ).values_list("pk", flat=True)[:limit]
    ):
        try:
            payment_sync(payment_id=payment_id)
            stats["settled"] += 1
        except GatewayError:
            stats["errors"] += 1
    for refund in Refund.objects.filter(status=Refund.Status.PENDING, updated_at__lte=cutoff).select_related("payment")[
        :limit
    ]:
        _refund_submit(refund)
        stats["refunds_retried"] += 1
    stats["status_repaired"] = len(payment_status_repair())
    return stats
