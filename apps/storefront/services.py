"""Writes behind the guest pages: start a checkout, leave a review. Bookings and payments are
written only through their own services (``apps.bookings.services``, ``apps.payments.services``).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.bookings import services as booking_services
from apps.bookings.errors import BookingConflict
from apps.bookings.models import Booking, BookingStatus
from apps.core.errors import DomainError, NotFound, ValidationFailed
from apps.properties.models import Property

from .models import Review
from .selectors import review_allowed

logger = logging.getLogger(__name__)

CheckoutConflict = BookingConflict


class CheckoutUnavailable(DomainError):
    code = "checkout_unavailable"
    http_status = 503


@dataclass(frozen=True)
class CheckoutStarted:
    booking: Booking
    client_secret: str
    details_key: str


def _details_key(details: dict[str, Any], language: str) -> str:
    keys = ("first_name", "last_name", "email", "phone", "country", "special_requests")
    blob = json.dumps([str(details.get(k, "")).strip().lower() for k in keys] + [language])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def checkout_begin(
    *,
    prop: Property,
    check_in: date,
    check_out: date,
    guests: int,
    details: dict[str, Any],
    language: str,
    own_hold: Booking | None = None,
    previous: dict[str, Any] | None = None,
    retry_token: str = "",
    attribution: str = "",
) -> CheckoutStarted:
    """Hold the dates (a ``reserved`` booking) and start the payment.

    A guest who goes back from the payment step and submits the same details keeps their hold;
    changed details release the old hold and take a new one. Raises ``BookingConflict`` when the
    dates are taken, ``CheckoutUnavailable`` when the payment cannot be started (the hold is
    released again).

    ``retry_token`` is a secret of the guest's browser (the view passes its CSRF secret): the hold is
    created with a client reference derived from it, the stay and the details, so a guest who sends the
    same form again after an answer was lost (a 503, a dropped connection) gets the hold their first
    attempt committed, not a conflict with it.
    """
    previous = previous or {}
    key = _details_key(details, language)
    reference = _retry_reference(retry_token, prop.pk, check_in, check_out, guests, key) if retry_token else ""
    if reference:
        earlier = Booking.objects.filter(property_id=prop.pk, client_reference=reference).first()
        if earlier is not None and _still_held(earlier) and (own_hold is None or own_hold.pk == earlier.pk):
            return _start_payment(earlier, key)
        if earlier is not None:
            reference = ""  # spent (paid, cancelled or lapsed): a new hold, without it
    if own_hold is not None and previous.get("details_key") == key:
        return CheckoutStarted(booking=own_hold, client_secret=previous.get("client_secret") or "", details_key=key)
    if own_hold is not None:
        try:
            booking_services.booking_cancel(
                booking_id=own_hold.pk,
                reason="Guest changed the checkout details.",
                expected_status=BookingStatus.RESERVED,
            )
        except DomainError:
            logger.info("old hold %s was already released", own_hold.reference)
    country = details.get("country", "")
    booking = booking_services.booking_create(
        property_id=prop.pk,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        source="direct",
        status=BookingStatus.RESERVED,
        guest=booking_services.GuestData(
            first_name=details["first_name"],
            last_name=details.get("last_name", ""),
            email=details["email"],
            phone=details.get("phone", ""),
            country="" if country == "OTHER" else country,
            language=language,
        ),
        special_requests=details.get("special_requests", ""),
        client_reference=reference,
        attribution=attribution,
    )
    return _start_payment(booking, key)


def checkout_retried_hold(
    *,
    prop: Property,
    check_in: date,
    check_out: date,
    guests: int,
    details: dict[str, Any],
    language: str,
    retry_token: str,
) -> Booking | None:
    """The hold an earlier attempt of this browser with the same stay and details committed, if it is
    still held (its answer was lost, so the session never learnt of it)."""
    if not retry_token:
        return None
    key = _details_key(details, language)
    reference = _retry_reference(retry_token, prop.pk, check_in, check_out, guests, key)
    earlier = Booking.objects.filter(property_id=prop.pk, client_reference=reference).first()
    return earlier if earlier is not None and _still_held(earlier) else None


def _still_held(booking: Booking) -> bool:
    return booking.status == BookingStatus.RESERVED and (
        booking.hold_expires_at is None or booking.hold_expires_at > timezone.now()
    )


def _retry_reference(token: str, property_id: int, check_in: date, check_out: date, guests: int, key: str) -> str:
    blob = f"{token}|{property_id}|{check_in}|{check_out}|{guests}|{key}".encode()
    return "web-" + hashlib.sha256(blob).hexdigest()[:40]


def _start_payment(booking: Booking, key: str) -> CheckoutStarted:
    """Start (or find) the hold's PaymentIntent; if that fails, release the hold again."""
    from apps.payments.services import checkout_start

    try:
        started = checkout_start(booking_id=booking.pk)
    except Exception as exc:
        logger.exception("checkout_start failed for %s", booking.reference)
        try:
            booking_services.booking_cancel(booking_id=booking.pk, reason="The payment could not be started.")
        except DomainError:
            logger.exception("could not release hold %s", booking.reference)
        message = exc.message if isinstance(exc, DomainError) else ""
        raise CheckoutUnavailable(
            message or _("We could not start the payment just now. Please try again in a moment.")
        ) from exc
    client_secret = getattr(started, "client_secret", "") or ""
    if not client_secret and isinstance(started, dict):
        client_secret = started.get("client_secret", "")
    booking.refresh_from_db()
    return CheckoutStarted(booking=booking, client_secret=client_secret, details_key=key)


def guest_can_cancel(*, booking: Booking, now: datetime | None = None) -> bool:
    """A guest may cancel online until the check-in time of a reserved or confirmed booking."""
    if booking.status not in (BookingStatus.RESERVED, BookingStatus.CONFIRMED):
        return False
    arrival = datetime.combine(booking.check_in, booking.property.check_in_time, tzinfo=booking.property.tz)
    return (now or timezone.now()) < arrival


def refund_preview(*, booking: Booking, now: datetime | None = None) -> Decimal | None:
    """What the guest would get back if they cancelled now (the payments app decides)."""
    from apps.payments.services import refund_preview as payments_refund_preview

    try:
        return payments_refund_preview(booking=booking, now=now)
    except DomainError:
        return None


def review_create(*, booking_id: int, rating: int, text: str = "", now: datetime | None = None) -> Review:
    """A guest's review of their stay: once per booking, only after check-out."""
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed(_("Please give a rating from 1 to 5 stars."))
    with transaction.atomic():
        booking = (
            Booking.objects.select_related("property").select_for_update(of=("self",)).filter(pk=booking_id).first()
        )
        if booking is None:
            raise NotFound(_("Booking not found."))
        if not review_allowed(booking=booking, now=now):
            raise ValidationFailed(_("You can review your stay after check-out."))
        if Review.objects.filter(booking=booking).exists():
            raise ValidationFailed(_("You have already reviewed this stay. Thank you!"))
        try:
            with transaction.atomic():
                return Review.objects.create(booking=booking, rating=rating, text=text.strip()[:4000])
        except IntegrityError as exc:
            raise ValidationFailed(_("You have already reviewed this stay. Thank you!")) from exc
