"""Demo money: every seeded paid booking has its payment, and the ledger holds every booking.

Called by one line from ``seed_demo`` (idempotent: a second run adds nothing). Seeded direct bookings
say "paid" without having gone through Stripe, so their payment is recorded as a bank transfer
(``payments.services.payment_record``, which writes the ledger line); every other cancelled paid
stay gave half back to the guest (a recorded refund), so statements show cancellations both ways.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from apps.bookings.models import Booking, BookingSource, BookingStatus, PaymentStatus
from apps.core.money import round_money
from apps.ledger.models import LedgerLine
from apps.ledger.services import booking_backfill
from apps.payments import services as payment_services
from apps.payments.models import Payment, Refund


def seed_demo_money() -> dict[str, int]:
    stats = {"backfilled": 0, "payments": 0, "refunds": 0}
    for pk in Booking.objects.filter(~Exists(LedgerLine.objects.filter(booking_id=OuterRef("pk")))).values_list(
        "pk", flat=True
    ):
        booking_backfill(booking_id=pk)  # bookings seeded before the ledger existed
        stats["backfilled"] += 1
    unpaid = Booking.objects.filter(
        source=BookingSource.DIRECT, payment_status=PaymentStatus.PAID, total_price__gt=0
    ).exclude(Exists(Payment.objects.filter(booking_id=OuterRef("pk"), status=Payment.Status.SUCCEEDED)))
    for n, booking in enumerate(unpaid.order_by("pk")):
        payment = payment_services.payment_record(
            booking_id=booking.pk, amount=booking.total_price, method="bank", reference="demo", now=booking.created_at
        )
        stats["payments"] += 1
        if booking.status == BookingStatus.CANCELLED and n % 2 == 0:
            half = round_money(payment.amount_received / 2, payment.currency)
            payment_services.refund_create(
                payment_id=payment.pk,
                amount=half,
                kind=Refund.Kind.GUEST_CANCELLATION,
                reason=f"Demo: {booking.reference} cancelled by the guest; half refunded (moderate policy).",
                idempotency_key=f"demo-cancel:{booking.reference}",
                policy="moderate",
            )
            stats["refunds"] += 1
    return stats
