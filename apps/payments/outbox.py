"""Outbox handler of the payments app: a cancelled, never-paid booking gets its PaymentIntent cancelled.

It runs inside the outbox relay's transaction, so it does no Stripe I/O itself: it enqueues
``payments.cancel_intents_for_booking`` after that transaction commits (the periodic
``payments.sweep`` catches anything a lost task missed).
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

BOOKING_CANCELLED = "booking.cancelled"


def handle_event(event) -> None:
    if event.event_type != BOOKING_CANCELLED:
        return
    booking_id = (event.payload or {}).get("booking_id")
    if not booking_id:
        return
    from .models import Payment

    if not Payment.objects.filter(booking_id=booking_id).exclude(status__in=Payment.FINAL_STATUSES).exists():
        return
    transaction.on_commit(lambda: _enqueue(int(booking_id)))


def _enqueue(booking_id: int) -> None:
    from .tasks import cancel_intents_for_booking

    try:
        cancel_intents_for_booking.delay(booking_id)
    except Exception:  # broker down: payments.sweep retries
        logger.exception("could not enqueue the PaymentIntent cancel of booking %s; the sweep will retry", booking_id)
