"""Outbox handler of the guest pages: e-mail guests of direct bookings when their booking is
confirmed or cancelled.

It runs inside the outbox relay's transaction and does no I/O itself: it enqueues
``storefront.send_booking_email`` after that transaction commits (a handler that fails rolls the
whole dispatch back, so nothing is enqueued and the event is retried).
"""

from __future__ import annotations

import logging

from django.db import transaction

from apps.core.observability import funnel_step

logger = logging.getLogger(__name__)

PAID_STATES = ("confirmed", "checked_in", "checked_out")


def email_kind(event) -> str | None:
    """Which guest e-mail an event calls for, if any."""
    payload = event.payload or {}
    if payload.get("source") != "direct" or not payload.get("booking_id"):
        return None
    previous = payload.get("previous_status")
    if event.event_type == "booking.updated" and payload.get("status") == "confirmed" and previous != "confirmed":
        return "confirmation"
    if event.event_type == "booking.cancelled" and previous in PAID_STATES:
        # An expired or abandoned hold was never a booking for the guest: no e-mail for it.
        return "cancellation"
    return None


def handle_event(event) -> None:
    kind = email_kind(event)
    if kind is None:
        return
    if kind == "confirmation":
        transaction.on_commit(lambda: funnel_step("confirmed"))
    booking_id = int(event.payload["booking_id"])
    event_id = str(event.pk)
    transaction.on_commit(lambda: _enqueue(kind, booking_id, event_id))


def _enqueue(kind: str, booking_id: int, event_id: str) -> None:
    from .tasks import send_booking_email

    try:
        send_booking_email.delay(kind, booking_id, event_id)
    except Exception:  # broker down: the e-mail is lost, but never the booking; log loudly
        logger.exception("could not enqueue the %s e-mail of booking %s", kind, booking_id)
