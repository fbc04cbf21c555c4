"""Errors of the booking domain, shown to guests, owners and integrators."""

from __future__ import annotations

from datetime import date

from apps.availability.errors import BookingConflict  # the calendar's refusal (re-exported)
from apps.core.errors import Conflict, DomainError, ValidationFailed

__all__ = [
    "BookingConflict",
    "ClientReferenceTaken",
    "InvalidTransition",
    "TooEarly",
    "BookingValidationError",
    "GuestEmailTaken",
    "DomainError",
]


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, *, current: str, target: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"A booking cannot go from “{current}” to “{target}” (allowed next: {allowed_text}).",
            details={"current": current, "target": target, "allowed": allowed},
        )


class TooEarly(Conflict):
    """A lifecycle move before its day: check-in before the arrival day, check-out before the
    check-in (judged in the property's time zone)."""

    code = "too_early"

    def __init__(self, message: str, *, earliest: date, time_zone: str) -> None:
        super().__init__(message, details={"earliest": earliest.isoformat(), "time_zone": time_zone})


class BookingValidationError(ValidationFailed):
    code = "validation_error"


class GuestEmailTaken(Conflict):
    """Another guest of the same owner already has this e-mail."""

    code = "guest_email_taken"

    def __init__(self, *, email: str, guest_id: int | None) -> None:
        super().__init__(
            "Another guest in this guest book already has this e-mail address.",
            details={"email": email, "guest_id": guest_id},
        )


class ClientReferenceTaken(Conflict):
    """The property already has a booking with this client reference: it names that booking, so a client
    whose first attempt's answer was lost finds what it created."""

    code = "client_reference_taken"

    def __init__(self, *, client_reference: str, booking_id: int, reference: str) -> None:
        super().__init__(
            f"This property already has a booking with client reference “{client_reference}” ({reference}).",
            details={"client_reference": client_reference, "booking_id": booking_id, "reference": reference},
        )
