"""Celery tasks of the guest pages: thin, id-based, retry-bounded."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.core.cache import cache

logger = logging.getLogger(__name__)


@shared_task(
    name="storefront.send_booking_email",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    max_retries=5,
)
def send_booking_email(kind: str, booking_id: int, event_id: str = "") -> int:
    """Send the guest's confirmation or cancellation e-mail, once per outbox event."""
    from apps.bookings import emails

    senders = {"confirmation": emails.send_booking_confirmation, "cancellation": emails.send_booking_cancellation}
    if kind not in senders:
        logger.warning("unknown guest e-mail kind %r", kind)
        return 0
    key = f"storefront:email-sent:{kind}:{booking_id}:{event_id}"
    if event_id and cache.get(key):
        return 0
    sent = senders[kind](booking_id=booking_id)
    if event_id:
        cache.set(key, 1, 7 * 24 * 3600)
    return sent
