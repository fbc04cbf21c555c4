"""Guest e-mails: confirmation, cancellation and the guest-portal magic link.

Each is an HTML + plain-text pair rendered from ``templates/emails/``, in the guest's language
(``Guest.language``), with dates and times in the property's time zone. Call them after the
change has committed (from the outbox handler or ``transaction.on_commit``), never under a lock.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from apps.bookings import tokens
from apps.bookings.models import Booking

logger = logging.getLogger(__name__)

__all__ = ["send_booking_confirmation", "send_booking_cancellation", "send_magic_link"]


def _load(booking_id: int) -> Booking | None:
    booking = Booking.objects.select_related("property", "guest").filter(pk=booking_id).first()
    if booking is None:
        logger.warning("email: booking %s not found", booking_id)
        return None
    if booking.guest is None or not booking.guest.email:
        logger.info("email: booking %s has no guest e-mail; nothing sent", booking.reference)
        return None
    return booking


def _language(booking: Booking) -> str:
    lang = booking.guest.language if booking.guest else ""
    return lang if lang in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _context(booking: Booking, **extra: Any) -> dict[str, Any]:
    from . import presentation

    prop = booking.property
    return {
        "booking": booking,
        "property": prop,
        "guest": booking.guest,
        "times": presentation.stay_times(prop=prop, check_in=booking.check_in, check_out=booking.check_out),
        "confirmation_url": tokens.confirmation_url(reference=booking.reference),
        "portal_request_url": settings.SITE_URL.rstrip("/") + reverse("storefront:portal_request"),
        "site_url": settings.SITE_URL.rstrip("/"),
        **extra,
    }


def _send(*, booking: Booking, template: str, context: dict[str, Any]) -> int:
    from . import presentation

    with translation.override(_language(booking)):
        # Price lines are worded in the guest's language, like the rest of the e-mail.
        context = {**context, "breakdown": presentation.price_lines(booking.price_snapshot or {})}
        subject = render_to_string(f"emails/{template}_subject.txt", context).strip().replace("\n", " ")
        text = render_to_string(f"emails/{template}.txt", context)
        html = render_to_string(f"emails/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[booking.guest.email]
    )
    message.attach_alternative(html, "text/html")
    sent = message.send()
    logger.info("email %s sent for %s", template, booking.reference)
    return sent


def send_booking_confirmation(*, booking_id: int) -> int:
    """The booking is confirmed: reference, property-local times, price breakdown, links."""
    booking = _load(booking_id)
    if booking is None:
        return 0
    portal = tokens.portal_url(booking_id=booking.pk, email=booking.guest.email)
    return _send(booking=booking, template="booking_confirmation", context=_context(booking, portal_url=portal))


def send_booking_cancellation(*, booking_id: int, refund_amount: Any = None) -> int:
    """The booking was cancelled (by the guest, the owner, or an expired hold)."""
    booking = _load(booking_id)
    if booking is None:
        return 0
    if refund_amount is None:
        refund_amount = _refunded_amount(booking)
    return _send(
        booking=booking, template="booking_cancellation", context=_context(booking, refund_amount=refund_amount)
    )


def send_magic_link(*, booking_id: int) -> int:
    """A signed, expiring link to the guest portal for this booking."""
    booking = _load(booking_id)
    if booking is None:
        return 0
    hours = int(settings.GUEST_PORTAL_LINK_MAX_AGE) // 3600
    portal = tokens.portal_url(booking_id=booking.pk, email=booking.guest.email)
    return _send(booking=booking, template="magic_link", context=_context(booking, portal_url=portal, hours=hours))


def _refunded_amount(booking: Booking) -> Any:
    """What was (or is being) refunded for this booking: the sum of its refunds not failed, 0 when it
    was paid and nothing is refunded, None when nothing was paid (the e-mail then says nothing about money)."""
    from django.db.models import Sum

    from apps.payments.models import Payment, Refund

    refunded = (
        Refund.objects.filter(booking=booking)
        .exclude(status=Refund.Status.FAILED)
        .aggregate(total=Sum("amount"))["total"]
    )
    if refunded is not None:
        return refunded
    if Payment.objects.filter(booking=booking, status=Payment.Status.SUCCEEDED).exists():
        return Decimal("0")
    return None
