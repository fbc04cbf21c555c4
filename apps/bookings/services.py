"""Every write to bookings. Views, admin, API, channel adapters, tasks and commands call these.

All functions are keyword-only. Calendar writes take the property's row lock first, check the
calendar (for a readable ``BookingConflict``) and let PostgreSQL refuse whatever slips through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.availability import calendar
from apps.core import limits
from apps.core.db import lock_properties, retry_transaction
from apps.core.models import SyncEvent
from apps.core.outbox import event_emit
from apps.ledger import services as ledger
from apps.properties.models import Property

from .errors import (
    BookingConflict,
    BookingValidationError,
    ClientReferenceTaken,
    GuestEmailTaken,
    InvalidTransition,
)
from .models import BLOCKING_STATUSES, CHANNEL_SOURCES, Booking, BookingSource, BookingStatus, Guest, PaymentStatus
from .transitions import check_timing, check_transition

logger = logging.getLogger(__name__)

__all__ = [
    "BookingConflict",
    "BookingValidationError",
    "InvalidTransition",
    "GuestData",
    "booking_create",
    "booking_transition",
    "booking_confirm",
    "booking_check_in",
    "booking_check_out",
    "booking_cancel",
    "booking_change_stay",
    "booking_update",
    "holds_expire",
    "guest_upsert",
    "guest_create",
    "guest_update",
    "guest_for_booking",
    "guest_contact",
]


@dataclass(frozen=True)
class GuestData:
    first_name: str
    last_name: str = ""
    email: str = ""
    phone: str = ""
    country: str = ""
    language: str = "en"
    #: the owner's private notes; None leaves existing notes alone (bookings never touch them)
    notes: str | None = None


GUEST_FIELDS = ("first_name", "last_name", "email", "phone", "country", "language", "notes")


def _guest_clean(**values: Any) -> dict[str, Any]:
    """Normalise guest fields (only those given); a blank first name is refused."""
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        if name not in GUEST_FIELDS:
            raise BookingValidationError(f"Unknown guest field “{name}”.", details={"field": name})
        if value is None:
            continue
        value = str(value)
        if "\x00" in value:
            raise BookingValidationError("Null characters are not allowed.", details={"field": name})
        if name == "first_name":
            if not value.strip():
                raise BookingValidationError("The guest's first name is required.", details={"field": "first_name"})
            value = value.strip()[:100]
        elif name == "last_name":
            value = value.strip()[:100]
        elif name == "email":
            value = value.strip().lower()
            if len(value) > 254 or (value and "@" not in value):
                raise BookingValidationError("Enter a valid e-mail address.", details={"field": "email"})
        elif name == "phone":
            value = value.strip()[:40]
        elif name == "country":
            value = value.strip().upper()[:2]
        elif name == "language":
            value = value if value in dict(settings.LANGUAGES) else "en"
        cleaned[name] = value
    return cleaned


def guest_create(*, owner_id: int, data: GuestData, update_existing: bool = True) -> tuple[Guest, bool]:
    """Add a guest to ``owner_id``'s guest book; returns (guest, created). E-mails are normalised, so
    the same address is one guest: with ``update_existing`` the guest already there is updated (the
    API's documented upsert), otherwise it is ``GuestEmailTaken`` (the admin's "add guest")."""
    fields = _guest_clean(**{name: getattr(data, name) for name in GUEST_FIELDS})
    email = fields.pop("email", "")
    if not email:
        return Guest.objects.create(owner_id=owner_id, email="", **fields), True
    with transaction.atomic():
        existing = Guest.objects.select_for_update().filter(owner_id=owner_id, email=email).first()
        if existing is not None and not update_existing:
            raise GuestEmailTaken(email=email, guest_id=existing.pk)
        if existing is not None:
            for name, value in fields.items():
                setattr(existing, name, value)
            existing.save(update_fields=[*fields, "updated_at"])
            return existing, False
        try:
            with transaction.atomic():
                return Guest.objects.create(owner_id=owner_id, email=email, **fields), True
        except IntegrityError:  # created concurrently
            raise GuestEmailTaken(email=email, guest_id=None)


def guest_upsert(*, owner_id: int, data: GuestData) -> Guest:
    """The owner's guest with this e-mail (updated), or a new one. Owners' own writes only: a
    booking never updates a guest (see ``guest_for_booking``)."""
    return guest_create(owner_id=owner_id, data=data)[0]


def guest_contact(data: GuestData) -> dict[str, str]:
    """The contact details given with a booking, normalised, as stored on ``Booking.guest_contact``."""
    fields = _guest_clean(**{name: getattr(data, name) for name in GUEST_FIELDS if name != "notes"})
    return {name: fields.get(name, "") for name in GUEST_FIELDS if name != "notes"}


def guest_for_booking(*, owner_id: int, data: GuestData, actor: Any = None) -> Guest | None:
    """The guest record a new booking with these contact details belongs to. Never changes a guest.

    - An e-mail the owner's guest book does not have: a new guest from the details.
    - An e-mail it has: that guest, untouched (the details given stay on the booking,
      ``guest_contact``); renaming or merging guests is the owner's action.
    - ``actor`` is the signed-in user making the booking (admin, API) or None for the guest
      themselves or a platform (checkout, channels). A lookup by e-mail only finds what the actor
      may see: a guest hidden from the actor is neither returned nor attached (the booking keeps
      only its contact), so a co-host never reaches the owner's other guests by typing an address.
    """
    fields = _guest_clean(**{name: getattr(data, name) for name in GUEST_FIELDS})
    fields.pop("notes", None)  # a booking never writes the owner's private notes
    email = fields.pop("email", "")
    if not email:
        return Guest.objects.create(owner_id=owner_id, email="", **fields)
    existing = Guest.objects.filter(owner_id=owner_id, email=email)
    found = existing.first()
    if found is not None:
        if actor is None or Guest.objects.visible_to(actor).filter(pk=found.pk).exists():
            return found
        return None
    try:
        with transaction.atomic():
            return Guest.objects.create(owner_id=owner_id, email=email, **fields)
    except IntegrityError:  # created concurrently: the same rules for the twin
        found = existing.first()
        if found is not None and (actor is None or Guest.objects.visible_to(actor).filter(pk=found.pk).exists()):
            return found
        return None


def guest_update(*, guest_id: int, **changes: Any) -> Guest:
    """Change a guest's details (any of ``GUEST_FIELDS``). An e-mail another guest of the same
    owner already has -> ``Conflict`` (``guest_email_taken``) naming that guest."""
    fields = _guest_clean(**changes)
    with transaction.atomic():
        guest = Guest.objects.select_for_update().get(pk=guest_id)
        email = fields.get("email")
        if email and email != guest.email:
            other = Guest.objects.filter(owner_id=guest.owner_id, email=email).exclude(pk=guest.pk).first()
            if other is not None:
                raise GuestEmailTaken(email=email, guest_id=other.pk)
        for name, value in fields.items():
            setattr(guest, name, value)
        try:
            with transaction.atomic():
                guest.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:  # the same e-mail saved concurrently
            raise GuestEmailTaken(email=email or "", guest_id=None)
    return guest


def _next_reference() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('booking_reference_seq')")
        (seq,) = cursor.fetchone()
    return f"{settings.BOOKING_REFERENCE_PREFIX}-{timezone.now().year}-{seq:06d}"


def _validate_stay(
    *, prop: Property, check_in: date, check_out: date, guests: int, now: datetime | None = None
) -> None:
    if not isinstance(check_in, date) or not isinstance(check_out, date):
        raise BookingValidationError("Check-in and check-out must be dates.")
    if check_out <= check_in:
        raise BookingValidationError(
            "Check-out must be after check-in.",
            details={"check_in": check_in.isoformat(), "check_out": check_out.isoformat()},
        )
    if guests < 1:
        raise BookingValidationError("A booking needs at least one guest.", details={"guests": guests})
    try:  # one set of limits for every entry (apps.core.limits): span, date window, party size
        limits.check_span(check_in, check_out, today=timezone.localdate(now) if now else None)
        limits.check_guests(guests)
    except limits.ValidationFailed as exc:
        raise BookingValidationError(exc.message, details=exc.details) from None


def _event_payload(booking: Booking, **extra: Any) -> dict[str, Any]:
    return {
        "booking_id": booking.pk,
        "reference": booking.reference,
        "property_id": booking.property_id,
        "source": booking.source,
        "external_id": booking.external_id,
        "status": booking.status,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
        "guests": booking.guests,
        "total_price": booking.total_price,
        "currency": booking.currency,
        **extra,
    }


@retry_transaction
def booking_create(
    *,
    property_id: int,
    check_in: date,
    check_out: date,
    guests: int,
    source: str = BookingSource.DIRECT,
    guest: Guest | GuestData | None = None,
    status: str = BookingStatus.RESERVED,
    external_id: str | None = None,
    total_price: Decimal | None = None,
    currency: str | None = None,
    price_snapshot: dict[str, Any] | None = None,
    payment_status: str | None = None,
    special_requests: str = "",
    hold_minutes: int | None = None,
    enforce_rules: bool = True,
    now: datetime | None = None,
    actor: Any = None,
    client_reference: str = "",
    commission: Decimal | None = None,
    attribution: str = "",
) -> Booking:
    """Create a booking from any source (direct, API, a channel, iCal).

    ``guest`` is a guest of the property's owner, or the contact details given with the booking
    (``GuestData``: stored on the booking and matched to a guest by ``guest_for_booking``, which
    never changes an existing guest and only finds what ``actor``, the signed-in user making the
    booking, may see).

    ``status`` is the initial state: ``reserved`` (a hold that lapses after ``hold_minutes``),
    ``confirmed`` (channel reservations, owner bookings) or ``inquiry`` (no dates held).
    ``enforce_rules`` applies the property's stay restrictions (min/max stay, notice, ...);
    channels pass False because the platform already accepted the stay, but no source may
    ever overlap another blocking stay.
    ``client_reference`` (API clients) is unique per property: a second booking with it is refused
    with ``ClientReferenceTaken``, which names the first.
    ``commission`` is a platform's commission on the stay, where the platform reports it (ledger).
    ``attribution`` names the referrer that sent the guest of a direct booking (``google_vr``).
    """
    if source not in BookingSource.values:
        raise BookingValidationError(f"Unknown booking source “{source}”.", details={"source": source})
    if status not in (BookingStatus.INQUIRY, BookingStatus.RESERVED, BookingStatus.CONFIRMED):
        raise BookingValidationError(
            f"A new booking starts as inquiry, reserved or confirmed, not “{status}”.", details={"status": status}
        )
    now = now or timezone.now()
    with transaction.atomic():
        lock_properties([property_id])
        prop = Property.objects.get(pk=property_id)
        _validate_stay(prop=prop, check_in=check_in, check_out=check_out, guests=guests, now=now)
        if external_id is not None:
            existing = Booking.objects.filter(property_id=property_id, source=source, external_id=external_id).first()
            if existing is not None:
                raise BookingValidationError(
                    f"A {source} booking with id {external_id} already exists ({existing.reference}).",
                    details={"existing_booking_id": existing.pk, "reference": existing.reference},
                )
        if client_reference:
            existing = Booking.objects.filter(property_id=property_id, client_reference=client_reference).first()
            if existing is not None:
                raise ClientReferenceTaken(
                    client_reference=client_reference, booking_id=existing.pk, reference=existing.reference
                )

        from apps.availability import pricing

        if enforce_rules:
            reasons = pricing.stay_reasons(prop=prop, check_in=check_in, check_out=check_out, guests=guests, now=now)
            # Calendar conflicts are reported by assert_free below with their dates.
            reasons = [r for r in reasons if r["code"] not in ("booked", "blocked")]
            if reasons:
                raise BookingValidationError("; ".join(r["message"] for r in reasons), details={"reasons": reasons})
        elif guests > prop.max_guests and source in (BookingSource.DIRECT, BookingSource.API):
            raise BookingValidationError(f"This property sleeps at most {prop.max_guests} guests.")

        if total_price is None:
            quote = pricing.quote_stay(prop=prop, check_in=check_in, check_out=check_out, guests=guests, now=now)
            total_price = quote.total
            currency = quote.currency
            price_snapshot = quote.as_dict()
        currency = currency or prop.currency
        if total_price < 0:
            raise BookingValidationError("The total price cannot be negative.")

        contact: dict[str, str] = {}
        if isinstance(guest, GuestData):
            contact = guest_contact(guest)
            guest = guest_for_booking(owner_id=prop.owner_id, data=guest, actor=actor)
        elif guest is not None and guest.owner_id != prop.owner_id:
            raise BookingValidationError(
                "This guest is not in the property owner's guest book.", details={"guest_id": guest.pk}
            )

        blocking = status in BLOCKING_STATUSES
        if blocking:
            calendar.assert_free(property_id=property_id, start=check_in, end=check_out)
        hold_expires_at = None
        if status == BookingStatus.RESERVED:
            hold_expires_at = now + timedelta(minutes=hold_minutes or settings.HOLD_MINUTES)
        with calendar.translate_refusal(property_id=property_id, start=check_in, end=check_out):
            booking = Booking.objects.create(
                reference=_next_reference(),
                property_id=property_id,
                guest=guest,
                source=source,
                external_id=external_id,
                check_in=check_in,
                check_out=check_out,
                guests=guests,
                status=status,
                total_price=total_price,
                currency=currency,
                price_snapshot=price_snapshot or {},
                payment_status=payment_status or PaymentStatus.PENDING,
                special_requests=special_requests or "",
                guest_contact=contact,
                client_reference=client_reference or "",
                attribution=attribution[:20],
                hold_expires_at=hold_expires_at,
                confirmed_at=now if status == BookingStatus.CONFIRMED else None,
            )
            if blocking:
                calendar.occupy(property_id=property_id, start=check_in, end=check_out, booking_id=booking.pk)
        ledger.booking_ledger_sync(booking=booking, entry="booking.created", commission=commission, now=now)
        event_emit(
            event_type=SyncEvent.Type.BOOKING_CREATED,
            entity_type="booking",
            entity_id=booking.pk,
            property_id=property_id,
            source=source,
            payload=_event_payload(booking),
        )
        if blocking:
            calendar.emit_availability_changed(
                property_id=property_id, start=check_in, end=check_out, source=source, reason="booking.created"
            )
    logger.info("booking %s created (%s, %s)", booking.reference, source, status)
    return booking


def _lock_booking(booking_id: int) -> Booking:
    """Lock the booking's property, then the booking, and return it fresh."""
    property_id = Booking.objects.filter(pk=booking_id).values_list("property_id", flat=True).first()
    if property_id is None:
        from apps.core.errors import NotFound

        raise NotFound("Booking not found.", details={"booking_id": booking_id})
    lock_properties([property_id])
    return Booking.objects.select_for_update().get(pk=booking_id)


@retry_transaction
def booking_transition(
    *,
    booking_id: int,
    to_status: str,
    reason: str = "",
    source: str | None = None,
    now: datetime | None = None,
    expected_status: str | None = None,
) -> Booking:
    """Move a booking along the lifecycle (see ``transitions.ALLOWED``)."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if expected_status is not None and booking.status != expected_status:
            raise InvalidTransition(current=booking.status, target=to_status, allowed=[])
        check_transition(booking.status, to_status)
        if to_status in (BookingStatus.CHECKED_IN, BookingStatus.CHECKED_OUT):
            tz_name = Property.objects.filter(pk=booking.property_id).values_list("timezone", flat=True).get()
            check_timing(
                target=to_status,
                check_in=booking.check_in,
                local_today=timezone.localtime(now, ZoneInfo(tz_name)).date(),
                time_zone=tz_name,
                now=now,
                checked_in_at=booking.checked_in_at,
            )
        was_blocking = booking.is_blocking
        previous = booking.status
        booking.status = to_status
        fields = ["status", "updated_at"]
        if to_status == BookingStatus.RESERVED:
            booking.hold_expires_at = now + timedelta(minutes=settings.HOLD_MINUTES)
            fields.append("hold_expires_at")
        elif to_status == BookingStatus.CONFIRMED:
            booking.confirmed_at = now
            booking.hold_expires_at = None
            fields += ["confirmed_at", "hold_expires_at"]
        elif to_status == BookingStatus.CHECKED_IN:
            booking.checked_in_at = now
            fields.append("checked_in_at")
        elif to_status == BookingStatus.CHECKED_OUT:
            booking.checked_out_at = now
            fields.append("checked_out_at")
        elif to_status == BookingStatus.CANCELLED:
            booking.cancelled_at = now
            booking.cancellation_reason = reason[:2000]
            booking.hold_expires_at = None
            fields += ["cancelled_at", "cancellation_reason", "hold_expires_at"]
            if booking.payment_status == PaymentStatus.PENDING:  # e.g. a lapsed hold: nothing is pending any more
                booking.payment_status = PaymentStatus.VOID
                fields.append("payment_status")

        now_blocking = to_status in BLOCKING_STATUSES
        span = {"property_id": booking.property_id, "start": booking.check_in, "end": booking.check_out}
        if now_blocking and not was_blocking:
            calendar.assert_free(**span, exclude_booking_id=booking.pk)
        with calendar.translate_refusal(**span):
            booking.save(update_fields=fields)
            if now_blocking and not was_blocking:
                calendar.occupy(**span, booking_id=booking.pk)
            elif was_blocking and not now_blocking:
                calendar.release(booking_id=booking.pk)
        ledger.booking_ledger_sync(booking=booking, entry=f"booking.{to_status}", now=now)
        event_source = source or booking.source
        event_emit(
            event_type=(
                SyncEvent.Type.BOOKING_CANCELLED
                if to_status == BookingStatus.CANCELLED
                else SyncEvent.Type.BOOKING_UPDATED
            ),
            entity_type="booking",
            entity_id=booking.pk,
            property_id=booking.property_id,
            source=event_source,
            payload=_event_payload(booking, previous_status=previous, reason=reason),
        )
        if was_blocking != now_blocking:
            calendar.emit_availability_changed(**span, source=event_source, reason=f"booking.{to_status}")
    return booking


def booking_confirm(*, booking_id: int, **kwargs: Any) -> Booking:
    return booking_transition(booking_id=booking_id, to_status=BookingStatus.CONFIRMED, **kwargs)


def booking_check_in(*, booking_id: int, **kwargs: Any) -> Booking:
    return booking_transition(booking_id=booking_id, to_status=BookingStatus.CHECKED_IN, **kwargs)


def booking_check_out(*, booking_id: int, **kwargs: Any) -> Booking:
    return booking_transition(booking_id=booking_id, to_status=BookingStatus.CHECKED_OUT, **kwargs)


def booking_cancel(*, booking_id: int, reason: str = "", **kwargs: Any) -> Booking:
    return booking_transition(booking_id=booking_id, to_status=BookingStatus.CANCELLED, reason=reason, **kwargs)


def _change_stay(
    booking: Booking,
    *,
    prop: Property,
    check_in: date,
    check_out: date,
    guests: int,
    total_price: Decimal | None = None,
    price_snapshot: dict[str, Any] | None = None,
) -> list[str]:
    """Move a locked booking to new dates / party size on the calendar (no event). Returns the fields set."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.CHECKED_OUT):
        raise BookingValidationError(f"A {booking.get_status_display().lower()} booking cannot be changed.")
    _validate_stay(prop=prop, check_in=check_in, check_out=check_out, guests=guests)
    span = {"property_id": booking.property_id, "start": check_in, "end": check_out}
    if booking.is_blocking:
        calendar.assert_free(**span, exclude_booking_id=booking.pk)
    booking.check_in, booking.check_out, booking.guests = check_in, check_out, guests
    fields = ["check_in", "check_out", "guests"]
    if total_price is not None:
        booking.total_price = total_price
        booking.price_snapshot = price_snapshot or {}
        fields += ["total_price", "price_snapshot"]
    with calendar.translate_refusal(**span):
        booking.save(update_fields=[*fields, "updated_at"])
        if booking.is_blocking:
            calendar.release(booking_id=booking.pk)
            calendar.occupy(**span, booking_id=booking.pk)
    return fields


def _emit_updated(booking: Booking, *, old: tuple[date, date], changed: list[str], source: str) -> None:
    event_emit(
        event_type=SyncEvent.Type.BOOKING_UPDATED,
        entity_type="booking",
        entity_id=booking.pk,
        property_id=booking.property_id,
        source=source,
        payload=_event_payload(booking, previous_check_in=old[0], previous_check_out=old[1], changed=changed),
    )
    if booking.is_blocking and (booking.check_in, booking.check_out) != old:
        calendar.emit_availability_changed(
            property_id=booking.property_id,
            start=min(old[0], booking.check_in),
            end=max(old[1], booking.check_out),
            source=source,
            reason="booking.updated",
        )


@retry_transaction
def booking_change_stay(
    *,
    booking_id: int,
    check_in: date,
    check_out: date,
    guests: int | None = None,
    total_price: Decimal | None = None,
    price_snapshot: dict[str, Any] | None = None,
    source: str | None = None,
    commission: Decimal | None = None,
) -> Booking:
    """Move a booking to new dates as its platform says (a channel modification). Owners and
    integrators change bookings through ``booking_update``."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        prop = Property.objects.get(pk=booking.property_id)
        old = (booking.check_in, booking.check_out)
        new_guests = guests if guests is not None else booking.guests
        changed = _change_stay(
            booking,
            prop=prop,
            check_in=check_in,
            check_out=check_out,
            guests=new_guests,
            total_price=total_price,
            price_snapshot=price_snapshot,
        )
        ledger.booking_ledger_sync(booking=booking, entry="booking.changed", commission=commission)
        _emit_updated(booking, old=old, changed=changed, source=source or booking.source)
    return booking


#: What owners (admin) and integrators (API) may change on a booking; its status moves through the
#: lifecycle services, its source and platform id are the channel code's alone.
BOOKING_EDIT_FIELDS = ("check_in", "check_out", "guests", "special_requests")


@retry_transaction
def booking_update(*, booking_id: int, source: str | None = None, **changes: Any) -> Booking:
    """Apply a set of changes (any of ``BOOKING_EDIT_FIELDS``) to a booking, all or nothing.

    The one write path of the admin's change form and the API's PATCH: the property is locked, a
    new stay is checked against the calendar and the property's capacity, and one
    ``booking.updated`` event (plus an availability event when the dates moved) is written in the
    same transaction. Bookings from a channel change their stay on their platform only.
    """
    unknown = sorted(set(changes) - set(BOOKING_EDIT_FIELDS))
    if unknown:
        raise BookingValidationError(
            f"These booking fields cannot be changed here: {', '.join(unknown)}.",
            details={name: ["Not writable."] for name in unknown},
        )
    if "special_requests" in changes:
        text = changes["special_requests"]
        if not isinstance(text, str):
            raise BookingValidationError("Special requests must be text.", details={"field": "special_requests"})
        if "\x00" in text or len(text) > 10000:
            raise BookingValidationError(
                "Special requests must be text of at most 10000 characters.", details={"field": "special_requests"}
            )
    if "guests" in changes and (not isinstance(changes["guests"], int) or isinstance(changes["guests"], bool)):
        raise BookingValidationError("The party size must be a whole number.", details={"field": "guests"})
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        changed = [name for name, value in changes.items() if getattr(booking, name) != value]
        if not changed:
            return booking
        old = (booking.check_in, booking.check_out)
        stay = {name: changes.get(name, getattr(booking, name)) for name in ("check_in", "check_out", "guests")}
        if any(name in changed for name in stay):
            if booking.source in CHANNEL_SOURCES:
                raise BookingValidationError(
                    f"This booking came from {booking.get_source_display()}: its dates and party size change "
                    "there, and reach us from there.",
                    details={"source": booking.source},
                )
            prop = Property.objects.get(pk=booking.property_id)
            if stay["guests"] > prop.max_guests:
                raise BookingValidationError(
                    f"This property sleeps at most {prop.max_guests} guests.", details={"guests": stay["guests"]}
                )
            _change_stay(booking, prop=prop, **stay)
            ledger.booking_ledger_sync(booking=booking, entry="booking.changed")
        if "special_requests" in changed:
            booking.special_requests = changes["special_requests"]
            booking.save(update_fields=["special_requests", "updated_at"])
        _emit_updated(booking, old=old, changed=changed, source=source or booking.source)
    return booking


def holds_expire(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Cancel every ``reserved`` booking whose hold has lapsed. Returns the ids cancelled.

    Each booking is cancelled in its own transaction, re-checked under its lock (a payment may
    have confirmed it meanwhile). Payment clean-up (cancelling the PaymentIntent) listens to the
    ``booking.cancelled`` outbox event.
    """
    now = now or timezone.now()
    ids = list(
        Booking.objects.filter(status=BookingStatus.RESERVED, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = []
    for booking_id in ids:
        try:
            booking_transition(
                booking_id=booking_id,
                to_status=BookingStatus.CANCELLED,
                reason="Hold expired before payment.",
                expected_status=BookingStatus.RESERVED,
                now=now,
            )
        except InvalidTransition:
            continue  # confirmed or cancelled meanwhile
        expired.append(booking_id)
    return expired


def booking_payment_status_set(*, booking_id: int, payment_status: str) -> bool:
    """Record how the booking stands with its payments (paid, refunded, ...). Not a calendar
    change, so no lock and no outbox event. Returns True if the value changed."""
    if payment_status not in PaymentStatus.values:
        raise BookingValidationError(f"Unknown payment status “{payment_status}”.")
    changed = (
        Booking.objects.filter(pk=booking_id)
        .exclude(payment_status=payment_status)
        .update(payment_status=payment_status, updated_at=timezone.now())
    )
    return bool(changed)
