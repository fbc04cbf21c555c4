"""Celery tasks of the payments app: thin, id-based, idempotent."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="payments.cancel_intents_for_booking", acks_late=True, ignore_result=True)
def cancel_intents_for_booking(booking_id: int) -> int:
    return len(services.payment_cancel_for_booking(booking_id=booking_id))


@shared_task(name="payments.sync_payment", acks_late=True, ignore_result=True)
def sync_payment(payment_id: int) -> None:
    services.payment_sync(payment_id=payment_id)


@shared_task(name="payments.sweep", acks_late=True, ignore_result=True)
def sweep() -> dict:
    """Cancel open PaymentIntents of cancelled bookings and retry pending refunds."""
    return services.payments_sweep()
